/**
 * Argument checks of the store's public methods. Each error names the field and the value.
 *
 * @module
 */

import {
  assertJsonValue,
  type FetchOptions,
  JOB_STATES,
  type JobFailure,
  type JobState,
  MAX_NAME_LENGTH,
  type StoredJobOptions,
  type StoreEvent,
  validateJobName,
  validateJobOptions,
  validateQueueName,
} from "@conveyor/shared";

/** A new job after checking: optional fields resolved, payload as JSON text. */
export interface CheckedJob {
  id: string;
  name: string;
  data: string;
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

/** An id-like string: job id, group id, deduplication key (1..255 characters). */
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

/** A worker id or lock token: a non-empty string. */
export function checkToken(value: unknown, what: string): string {
  if (typeof value !== "string") {
    throw new TypeError(`${what} must be a string, got ${show(value)}`);
  }
  if (value.length === 0) throw new RangeError(`${what} must not be empty`);
  return value;
}

/** An integer `>= min`. */
export function checkInt(value: unknown, what: string, min: number): number {
  if (typeof value !== "number" || !Number.isInteger(value)) {
    throw new TypeError(`${what} must be an integer, got ${show(value)}`);
  }
  if (value < min) throw new RangeError(`${what} must be >= ${min}, got ${value}`);
  return value;
}

/** A finite number of milliseconds `>= min`. */
export function checkMs(value: unknown, what: string, min = 0): number {
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new TypeError(`${what} must be a finite number of ms, got ${show(value)}`);
  }
  if (value < min) throw new RangeError(`${what} must be >= ${min}, got ${value}`);
  return value;
}

/** A job state, or `undefined` when `optional`. */
export function checkState(value: unknown, optional: boolean): JobState | undefined {
  if (value === undefined && optional) return undefined;
  if (!JOB_STATES.includes(value as JobState)) {
    throw new RangeError(
      `state must be one of ${JOB_STATES.map((s) => `"${s}"`).join(", ")}, got ${show(value)}`,
    );
  }
  return value as JobState;
}

/** A job for `saveJob`/`saveBulk`/`saveFlow`. */
export function checkNewJob(job: unknown, where: string): CheckedJob {
  if (typeof job !== "object" || job === null || Array.isArray(job)) {
    throw new TypeError(`${where}: job must be an object, got ${show(job)}`);
  }
  const j = job as Record<string, unknown>;
  const id = checkId(j.id, `${where}: job id`);
  const context = `Cannot save job "${id}": `;
  const name = validateJobName(j.name, context);
  assertJsonValue(j.data, `${context}payload`);
  const opts = validateJobOptions(j.opts, context);
  const key = j.deduplicationKey ?? null;
  const parentId = j.parentId ?? null;
  const parentQueueName = j.parentQueueName ?? null;
  if (parentQueueName !== null && parentId === null) {
    throw new TypeError(`${context}parentQueueName is set but parentId is not`);
  }
  return {
    id,
    name,
    data: JSON.stringify(j.data),
    opts,
    deduplicationKey: key === null ? null : checkId(key, `${context}deduplicationKey`),
    parentId: parentId === null ? null : checkId(parentId, `${context}parentId`),
    parentQueueName: parentQueueName === null
      ? null
      : checkId(parentQueueName, `${context}parentQueueName`),
    pendingChildrenCount: j.pendingChildrenCount === undefined
      ? 0
      : checkInt(j.pendingChildrenCount, `${context}pendingChildrenCount`, 0),
  };
}

/** A claim's limits. */
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

/** A `failJob` failure. */
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

/** An `updateJob` change, as JSON text (`null` for a field left alone). */
export function checkUpdate(update: unknown): { data: string | null; progress: string | null } {
  if (typeof update !== "object" || update === null || Array.isArray(update)) {
    throw new TypeError(`update must be { data?, progress? }, got ${show(update)}`);
  }
  const u = update as { data?: unknown; progress?: unknown };
  let data: string | null = null;
  let progress: string | null = null;
  if (u.data !== undefined) {
    assertJsonValue(u.data, "update.data");
    data = JSON.stringify(u.data);
  }
  if (u.progress !== undefined) {
    const p = u.progress;
    if (typeof p === "number") {
      if (!Number.isFinite(p)) throw new TypeError(`update.progress must be finite, got ${p}`);
    } else if (typeof p !== "object" || p === null || Array.isArray(p)) {
      throw new TypeError(`update.progress must be a number or an object, got ${show(p)}`);
    } else assertJsonValue(p, "update.progress");
    progress = JSON.stringify(p);
  }
  return { data, progress };
}

/** A return value as JSON text (`undefined` becomes `null`). */
export function checkReturnValue(value: unknown): string {
  if (value === undefined) return "null";
  assertJsonValue(value, "return value");
  return JSON.stringify(value);
}

const EVENT_TYPES = new Set<string>([
  "waiting",
  "waiting-children",
  "delayed",
  "active",
  "progress",
  "completed",
  "failed",
  "stalled",
  "removed",
  "paused",
  "resumed",
  "drained",
  "cleaned",
]);

/** An event handed to `publish`, as a JSON copy. */
export function checkEvent(event: unknown): StoreEvent {
  if (typeof event !== "object" || event === null) {
    throw new TypeError(`event must be an object, got ${String(event)}`);
  }
  const e = event as StoreEvent;
  validateQueueName(e.queueName);
  if (!EVENT_TYPES.has(e.type)) {
    throw new RangeError(`event type ${JSON.stringify(e.type)} is not a store event type`);
  }
  assertJsonValue(e, "event");
  return JSON.parse(JSON.stringify(e));
}
