// Validation and defaults of WorkerOptions.

import { BUILTIN_BACKOFF_TYPES, type FetchOptions, type StoreInterface } from "@conveyor/shared";
import type { BackoffStrategyFn } from "./_backoff.ts";
import {
  checkBoolean,
  checkInt,
  checkKeys,
  checkMs,
  checkObject,
  checkStore,
  describe,
} from "./_validate.ts";

export interface WorkerConfig {
  store: StoreInterface;
  concurrency: number;
  prefetch: number;
  lockDuration: number;
  lockRenewTime: number;
  stalledInterval: number;
  maxStalledCount: number;
  pollInterval: number;
  batchSize: number;
  fetchOptions: FetchOptions;
  limiter: { max: number; duration: number } | undefined;
  backoffStrategies: Record<string, BackoffStrategyFn> | undefined;
  autorun: boolean;
  id: string;
}

const KEYS = [
  "store",
  "concurrency",
  "prefetch",
  "maxGlobalConcurrency",
  "lockDuration",
  "lockRenewTime",
  "stalledInterval",
  "maxStalledCount",
  "pollInterval",
  "limiter",
  "batch",
  "group",
  "backoffStrategies",
  "autorun",
  "id",
];

export function workerConfig(options: unknown, context: string): WorkerConfig {
  checkObject(options, "options", context);
  const o = options as Record<string, unknown>;
  checkKeys(o, KEYS, "option", context);
  const store = checkStore(o.store, context);
  const concurrency = o.concurrency === undefined
    ? 1
    : checkInt(o.concurrency, "concurrency", context, 1);
  const prefetch = o.prefetch === undefined ? 0 : checkInt(o.prefetch, "prefetch", context, 0);
  const lockDuration = o.lockDuration === undefined
    ? 30_000
    : checkMs(o.lockDuration, "lockDuration", context, 1);
  const lockRenewTime = o.lockRenewTime === undefined
    ? lockDuration / 2
    : checkMs(o.lockRenewTime, "lockRenewTime", context, 1);
  if (lockRenewTime >= lockDuration) {
    throw new RangeError(
      `${context}lockRenewTime must be less than lockDuration (${lockDuration}), got ${lockRenewTime}`,
    );
  }
  const stalledInterval = o.stalledInterval === undefined
    ? 30_000
    : checkMs(o.stalledInterval, "stalledInterval", context, 1);
  const maxStalledCount = o.maxStalledCount === undefined
    ? 1
    : checkInt(o.maxStalledCount, "maxStalledCount", context, 0);
  const pollInterval = o.pollInterval === undefined
    ? 2000
    : checkMs(o.pollInterval, "pollInterval", context, 1);

  const fetchOptions: FetchOptions = {};
  let limiter: { max: number; duration: number } | undefined;
  if (o.maxGlobalConcurrency !== undefined) {
    fetchOptions.maxGlobalConcurrency = checkInt(
      o.maxGlobalConcurrency,
      "maxGlobalConcurrency",
      context,
      1,
    );
  }
  if (o.limiter !== undefined) {
    checkObject(o.limiter, "limiter", context);
    const l = o.limiter as Record<string, unknown>;
    checkKeys(l, ["max", "duration"], "limiter option", context);
    limiter = {
      max: checkInt(l.max, "limiter.max", context, 1),
      duration: checkMs(l.duration, "limiter.duration", context, 1),
    };
    fetchOptions.rateLimit = limiter;
  }
  if (o.group !== undefined) {
    checkObject(o.group, "group", context);
    const g = o.group as Record<string, unknown>;
    checkKeys(g, ["concurrency"], "group option", context);
    fetchOptions.groupConcurrency = checkInt(g.concurrency, "group.concurrency", context, 1);
  }
  let batchSize = 1;
  if (o.batch !== undefined) {
    checkObject(o.batch, "batch", context);
    const b = o.batch as Record<string, unknown>;
    checkKeys(b, ["size"], "batch option", context);
    batchSize = checkInt(b.size, "batch.size", context, 1);
    if (prefetch > 0) {
      throw new TypeError(
        `${context}prefetch (${prefetch}) cannot be used with batch: a batch worker claims ` +
          `concurrency × batch.size jobs at once`,
      );
    }
  }
  let backoffStrategies: Record<string, BackoffStrategyFn> | undefined;
  if (o.backoffStrategies !== undefined) {
    checkObject(o.backoffStrategies, "backoffStrategies", context);
    backoffStrategies = {};
    for (const [name, fn] of Object.entries(o.backoffStrategies as object)) {
      if (BUILTIN_BACKOFF_TYPES.includes(name)) {
        throw new RangeError(
          `${context}backoffStrategies.${name}: "${name}" is a built-in strategy`,
        );
      }
      if (typeof fn !== "function") {
        throw new TypeError(
          `${context}backoffStrategies.${name} must be a function, got ${describe(fn)}`,
        );
      }
      backoffStrategies[name] = fn as BackoffStrategyFn;
    }
  }
  const autorun = o.autorun === undefined ? true : checkBoolean(o.autorun, "autorun", context);
  let id: string;
  if (o.id === undefined) id = crypto.randomUUID();
  else if (typeof o.id !== "string" || o.id === "") {
    throw new TypeError(`${context}id must be a non-empty string, got ${describe(o.id)}`);
  } else id = o.id;
  return {
    store,
    concurrency,
    prefetch,
    lockDuration,
    lockRenewTime,
    stalledInterval,
    maxStalledCount,
    pollInterval,
    batchSize,
    // An unlimited worker fetches again whenever a `waiting` event wakes it: it may take
    // hand-offs (see FetchOptions.handoff).
    fetchOptions: Object.keys(fetchOptions).length > 0 ? fetchOptions : { handoff: true },
    limiter,
    backoffStrategies,
    autorun,
    id,
  };
}
