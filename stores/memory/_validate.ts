/**
 * Argument checks of the memory store's public methods. Each error names the field and value.
 *
 * @module
 */

import {
  ALL_JOB_NAMES,
  type FetchOptions,
  JOB_STATES,
  type JobFailure,
  type JobProgress,
  type JobState,
  type JobUpdate,
  MAX_NAME_LENGTH,
  type StoredJobOptions,
  validateJobName,
  validateJobOptions,
} from "@conveyor/shared";
import { copyChecked, NOT_COPIED, tryCopyJson } from "./_copy.ts";

/** A {@linkcode NewJob} after checking, with every optional field resolved (`data` a copy). */
export interface CheckedJob {
  id: string;
  name: string;
  data: unknown;
  opts: StoredJobOptions;
  deduplicationKey: string | null;
  parentId: string | null;
  parentQueueName: string | null;
  pendingChildrenCount: number;
}

function show(v: unknown): string {
  if (typeof v === "string") return JSON.stringify(v);
  if (typeof v === "bigint") return `${v}n`;
  if (typeof v === "function") return "a function";
  if (typeof v === "object" && v !== null) {
    try {
      return JSON.stringify(v) ?? String(v);
    } catch {
      return Object.prototype.toString.call(v);
    }
  }
  return String(v);
}

/** Check an id-like string (job id, worker id, lock token, group id, deduplication key). */
export function checkId(value: unknown, what: string): string {
  if (typeof value !== "string") {
    throw new TypeError(`${what} must be a string, got ${show(value)}`);
  }
  if (value.length === 0) throw new RangeError(`${what} must not be empty`);
  if (value.length > MAX_NAME_LENGTH) {
    throw new RangeError(
      `${what} must be at most ${MAX_NAME_LENGTH} characters, got ${value.length}`,
    );
  }
  return value;
}

/** Check a token or worker id: a non-empty string of any length. */
export function checkToken(value: unknown, what: string): string {
  if (typeof value !== "string") {
    throw new TypeError(`${what} must be a string, got ${show(value)}`);
  }
  if (value.length === 0) throw new RangeError(`${what} must not be empty`);
  return value;
}

/** Check an integer within bounds. */
export function checkInt(value: unknown, what: string, min: number): number {
  if (typeof value !== "number" || !Number.isInteger(value)) {
    throw new TypeError(`${what} must be an integer, got ${show(value)}`);
  }
  if (value < min) throw new RangeError(`${what} must be >= ${min}, got ${value}`);
  return value;
}

/** Check a duration or time in milliseconds. */
export function checkMs(value: unknown, what: string, min = 0): number {
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new TypeError(`${what} must be a finite number of ms, got ${show(value)}`);
  }
  if (value < min) throw new RangeError(`${what} must be >= ${min}, got ${value}`);
  return value;
}

/** Check a job state (or `undefined` when `optional`). */
export function checkState(value: unknown, optional: boolean): JobState | undefined {
  if (value === undefined && optional) return undefined;
  if (!JOB_STATES.includes(value as JobState)) {
    throw new RangeError(
      `state must be one of ${JOB_STATES.map((s) => `"${s}"`).join(", ")}, got ${show(value)}`,
    );
  }
  return value as JobState;
}

/** Whether `name` is a valid job name (the shared check throws the message when it is not). */
function goodJobName(name: unknown): boolean {
  if (typeof name !== "string" || name.length === 0 || name.length > MAX_NAME_LENGTH) return false;
  for (let i = 0; i < name.length; i++) if (name.charCodeAt(i) < 0x20) return false;
  return name !== ALL_JOB_NAMES;
}

/** The options of every job saved without any: stored jobs never change their options. */
const NO_OPTIONS: StoredJobOptions = Object.freeze({});

/** Whether `opts` is an empty plain object: nothing to check, `{}` to store. */
function emptyOptions(opts: unknown): boolean {
  if (typeof opts !== "object" || opts === null) return false;
  const proto = Object.getPrototypeOf(opts);
  if (proto !== Object.prototype && proto !== null) return false;
  for (const _ in opts) return false;
  return true;
}

function ctx(id: string): string {
  return `Cannot save job "${id}": `;
}

/**
 * Check a job handed to `saveJob`/`saveBulk`/`saveFlow` and resolve its optional fields. The
 * payload is checked and copied in one walk; the message context is only built for an error.
 */
export function checkNewJob(job: unknown, where: string): CheckedJob {
  if (typeof job !== "object" || job === null || Array.isArray(job)) {
    throw new TypeError(`${where}: job must be an object, got ${show(job)}`);
  }
  const j = job as Record<string, unknown>;
  const id = checkId(j.id, `${where}: job id`);
  const name = j.name;
  if (!goodJobName(name)) validateJobName(name, ctx(id));
  let data = tryCopyJson(j.data);
  if (data === NOT_COPIED) data = copyChecked(j.data, `${ctx(id)}payload`);
  const o = j.opts;
  const opts: StoredJobOptions = o === undefined || emptyOptions(o)
    ? NO_OPTIONS
    : validateJobOptions(o, ctx(id));
  let deduplicationKey: string | null = null;
  if (j.deduplicationKey !== undefined && j.deduplicationKey !== null) {
    deduplicationKey = checkId(j.deduplicationKey, `${ctx(id)}deduplicationKey`);
  }
  let parentId: string | null = null;
  let parentQueueName: string | null = null;
  if (j.parentId !== undefined && j.parentId !== null) {
    parentId = checkId(j.parentId, `${ctx(id)}parentId`);
  }
  if (j.parentQueueName !== undefined && j.parentQueueName !== null) {
    parentQueueName = checkId(j.parentQueueName, `${ctx(id)}parentQueueName`);
    if (parentId === null) {
      throw new TypeError(`${ctx(id)}parentQueueName is set but parentId is not`);
    }
  }
  const pending = j.pendingChildrenCount === undefined
    ? 0
    : checkInt(j.pendingChildrenCount, `${ctx(id)}pendingChildrenCount`, 0);
  return {
    id,
    name: name as string,
    data,
    opts,
    deduplicationKey,
    parentId,
    parentQueueName,
    pendingChildrenCount: pending,
  };
}

/** Check a claim's limits. */
export function checkFetchOptions(opts: unknown): FetchOptions {
  if (opts === undefined) return {};
  if (typeof opts !== "object" || opts === null || Array.isArray(opts)) {
    throw new TypeError(`fetch options must be an object, got ${show(opts)}`);
  }
  const o = opts as FetchOptions;
  const out: FetchOptions = {};
  if (o.groupConcurrency !== undefined) {
    out.groupConcurrency = checkInt(o.groupConcurrency, "groupConcurrency", 1);
  }
  if (o.maxGlobalConcurrency !== undefined) {
    out.maxGlobalConcurrency = checkInt(o.maxGlobalConcurrency, "maxGlobalConcurrency", 1);
  }
  if (o.rateLimit !== undefined) {
    const r = o.rateLimit;
    if (typeof r !== "object" || r === null) {
      throw new TypeError(`rateLimit must be { max, duration }, got ${show(r)}`);
    }
    out.rateLimit = {
      max: checkInt(r.max, "rateLimit.max", 1),
      duration: checkMs(r.duration, "rateLimit.duration", 1),
    };
  }
  return out;
}

/** Check a `failJob` failure. */
export function checkFailure(failure: unknown): JobFailure {
  if (typeof failure !== "object" || failure === null) {
    throw new TypeError(`failure must be { failedReason, retryDelay }, got ${show(failure)}`);
  }
  const f = failure as JobFailure;
  if (typeof f.failedReason !== "string") {
    throw new TypeError(`failure.failedReason must be a string, got ${show(f.failedReason)}`);
  }
  if (f.stacktrace !== undefined && f.stacktrace !== null && typeof f.stacktrace !== "string") {
    throw new TypeError(`failure.stacktrace must be a string or null, got ${show(f.stacktrace)}`);
  }
  if (f.retryDelay !== null) checkMs(f.retryDelay, "failure.retryDelay");
  return f;
}

/** Check a `updateJob` change; returns copies of the new payload and progress. */
export function checkUpdate(update: unknown): JobUpdate {
  if (typeof update !== "object" || update === null || Array.isArray(update)) {
    throw new TypeError(`update must be { data?, progress? }, got ${show(update)}`);
  }
  const u = update as JobUpdate;
  const out: JobUpdate = {};
  if ("data" in u && u.data !== undefined) out.data = copyChecked(u.data, "update.data");
  if (u.progress !== undefined) {
    const p = u.progress as unknown;
    if (typeof p === "number") {
      if (!Number.isFinite(p)) throw new TypeError(`update.progress must be finite, got ${p}`);
      out.progress = p;
    } else if (typeof p !== "object" || p === null || Array.isArray(p)) {
      throw new TypeError(`update.progress must be a number or an object, got ${show(p)}`);
    } else out.progress = copyChecked(p, "update.progress") as JobProgress;
  }
  return out;
}

/** A return value as stored: `undefined` becomes `null`; anything not JSON is refused. */
export function checkReturnValue(value: unknown): unknown {
  if (value === undefined) return null;
  return copyChecked(value, "return value");
}
