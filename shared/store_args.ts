/**
 * Checks of the arguments of `StoreInterface` methods, for store implementations: bad
 * arguments throw `TypeError` or `RangeError` naming the field and the value, so that every store
 * refuses the same input with the same message.
 *
 * @example Checking the arguments of `failJob`
 * ```ts
 * import { checkFailure, checkId, checkToken } from "@conveyor/shared";
 * const jobId = checkId("42", "jobId");
 * const token = checkToken("t-1", "token");
 * const failure = checkFailure({ failedReason: "boom", retryDelay: null });
 * console.log(jobId, token, failure.failedReason);
 * ```
 *
 * @module
 */

import { checkInt, checkMs, describeValue } from "./_checks.ts";
import type { FetchOptions, JobFailure } from "./store_interface.ts";
import { JOB_STATES, type JobState, STORE_EVENT_TYPES, type StoreEvent } from "./types.ts";
import {
  isValidJobName,
  MAX_NAME_LENGTH,
  validateJobName,
  validateQueueName,
} from "./validation.ts";

export { checkInt, checkMs, describeValue };

/**
 * Check an id-like string: a job id, group id or deduplication key (1 to 255 characters).
 *
 * @param value the value to check
 * @param what the field, for the message (e.g. `jobId`)
 * @returns the value
 * @throws {TypeError | RangeError} naming the field and the value
 */
export function checkId(value: unknown, what: string): string {
  if (typeof value !== "string") {
    throw new TypeError(`${what} must be a string, got ${describeValue(value)}`);
  }
  if (value.length === 0) throw new RangeError(`${what} must not be empty`);
  if (value.length > MAX_NAME_LENGTH) {
    throw new RangeError(
      `${what} must be at most ${MAX_NAME_LENGTH} characters, got ${value.length}`,
    );
  }
  return value;
}

/**
 * Check a worker id or lock token: a string of any length, not empty unless `allowEmpty`.
 *
 * @param value the value to check
 * @param what the field, for the message (e.g. `token`)
 * @param allowEmpty whether `""` is accepted
 * @returns the value
 * @throws {TypeError | RangeError} naming the field and the value
 */
export function checkToken(value: unknown, what: string, allowEmpty = false): string {
  if (typeof value !== "string") {
    throw new TypeError(`${what} must be a string, got ${describeValue(value)}`);
  }
  if (!allowEmpty && value.length === 0) throw new RangeError(`${what} must not be empty`);
  return value;
}

/**
 * Check a job state, or accept `undefined` when `optional`.
 *
 * @param value the value to check
 * @param optional whether `undefined` (no state) is accepted
 * @returns the state, or `undefined`
 * @throws {RangeError} naming the value and the states
 */
export function checkState(value: unknown, optional: boolean): JobState | undefined {
  if (value === undefined && optional) return undefined;
  if (!JOB_STATES.includes(value as JobState)) {
    throw new RangeError(
      `state must be one of ${JOB_STATES.map((s) => `"${s}"`).join(", ")}, got ${
        describeValue(value)
      }`,
    );
  }
  return value as JobState;
}

/**
 * The message prefix naming a job handed to `saveJob`, `saveBulk` or `saveFlow`.
 *
 * @param id the job's id
 * @returns `Cannot save job "<id>": `
 */
export function saveJobContext(id: string): string {
  return `Cannot save job "${id}": `;
}

/**
 * Check that a job handed to `saveJob`, `saveBulk` or `saveFlow` is an object with a valid id.
 *
 * @param job the job as given
 * @param where the method (and index), for the message (e.g. `saveBulk[2]`)
 * @returns the job's id
 * @throws {TypeError | RangeError} naming the job or the id
 */
export function checkNewJobId(job: unknown, where: string): string {
  if (typeof job !== "object" || job === null || Array.isArray(job)) {
    throw new TypeError(`${where}: job must be an object, got ${describeValue(job)}`);
  }
  return checkId((job as { id?: unknown }).id, `${where}: job id`);
}

/**
 * Check the name of a job to save (as `validateJobName` does; the message is only built for an
 * error).
 *
 * @param name the name as given
 * @param id the job's id, for the message
 * @returns the name
 * @throws {TypeError | RangeError} naming the job and the value
 */
export function checkNewJobName(name: unknown, id: string): string {
  return isValidJobName(name) ? name : validateJobName(name, saveJobContext(id));
}

/**
 * Check an optional id-like field of a job to save (`deduplicationKey`, `parentId`,
 * `parentQueueName`): `undefined` and `null` stand for none.
 *
 * @param value the field as given
 * @param id the job's id, for the message
 * @param field the field's name, for the message
 * @returns the value, or `null` for none
 * @throws {TypeError | RangeError} naming the job, the field and the value
 */
export function checkNewJobRef(value: unknown, id: string, field: string): string | null {
  if (value === undefined || value === null) return null;
  return checkId(value, `${saveJobContext(id)}${field}`);
}

/**
 * Check that a job to save names its parent's queue only together with its parent's id.
 *
 * @param parentId the `parentId` field (`undefined` or `null` for none)
 * @param parentQueueName the `parentQueueName` field (`undefined` or `null` for none)
 * @param id the job's id, for the message
 * @throws {TypeError} when `parentQueueName` is set but `parentId` is not
 */
export function checkParentLink(parentId: unknown, parentQueueName: unknown, id: string): void {
  if (
    parentQueueName !== undefined && parentQueueName !== null &&
    (parentId === undefined || parentId === null)
  ) {
    throw new TypeError(`${saveJobContext(id)}parentQueueName is set but parentId is not`);
  }
}

/**
 * Check the `pendingChildrenCount` of a job to save (`undefined` stands for 0).
 *
 * @param value the field as given
 * @param id the job's id, for the message
 * @returns the count
 * @throws {TypeError | RangeError} naming the job and the value
 */
export function checkPendingChildren(value: unknown, id: string): number {
  return value === undefined ? 0 : checkInt(value, `${saveJobContext(id)}pendingChildrenCount`, 0);
}

/**
 * Check a claim's limits (the options of `fetchNextJob`).
 *
 * @param opts the options as given (`undefined` for none)
 * @returns a copy holding the limits given
 * @throws {TypeError | RangeError} naming the field and the value
 */
export function checkFetchOptions(opts: unknown): FetchOptions {
  if (opts === undefined) return {};
  if (typeof opts !== "object" || opts === null || Array.isArray(opts)) {
    throw new TypeError(`fetch options must be an object, got ${describeValue(opts)}`);
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
      throw new TypeError(`rateLimit must be { max, duration }, got ${describeValue(r)}`);
    }
    out.rateLimit = {
      max: checkInt(r.max, "rateLimit.max", 1),
      duration: checkMs(r.duration, "rateLimit.duration", 1),
    };
  }
  if (o.handoff !== undefined) {
    if (typeof o.handoff !== "boolean") {
      throw new TypeError(`handoff must be a boolean, got ${describeValue(o.handoff)}`);
    }
    out.handoff = o.handoff;
  }
  return out;
}

/**
 * Check the failure handed to `failJob`.
 *
 * @param failure the failure as given
 * @returns the failure
 * @throws {TypeError | RangeError} naming the field and the value
 */
export function checkFailure(failure: unknown): JobFailure {
  if (typeof failure !== "object" || failure === null) {
    throw new TypeError(
      `failure must be { failedReason, retryDelay }, got ${describeValue(failure)}`,
    );
  }
  const f = failure as JobFailure;
  if (typeof f.failedReason !== "string") {
    throw new TypeError(
      `failure.failedReason must be a string, got ${describeValue(f.failedReason)}`,
    );
  }
  if (f.stacktrace !== undefined && f.stacktrace !== null && typeof f.stacktrace !== "string") {
    throw new TypeError(
      `failure.stacktrace must be a string or null, got ${describeValue(f.stacktrace)}`,
    );
  }
  if (f.retryDelay !== null) checkMs(f.retryDelay, "failure.retryDelay");
  return f;
}

/** A checked `updateJob` change: each field present only when it is to change. */
export interface CheckedUpdate<T> {
  /** The new payload, as the store keeps it. */
  data?: T;
  /** The new progress, as the store keeps it. */
  progress?: T;
}

/**
 * Check the change handed to `updateJob`: an object whose `progress`, when given, is a finite
 * number or an object. Each JSON value given (`data`, then `progress`) goes through `keep`, which
 * checks it and turns it into what the store keeps (a copy, JSON text).
 *
 * @param update the change as given
 * @param keep checks a JSON value (throwing a message that names `what`) and returns it as kept
 * @returns the kept `data` and `progress`, each present only when given
 * @throws {TypeError} naming the field and the value
 */
export function checkUpdate<T>(
  update: unknown,
  keep: (value: unknown, what: string) => T,
): CheckedUpdate<T> {
  if (typeof update !== "object" || update === null || Array.isArray(update)) {
    throw new TypeError(`update must be { data?, progress? }, got ${describeValue(update)}`);
  }
  const u = update as { data?: unknown; progress?: unknown };
  const out: CheckedUpdate<T> = {};
  if (u.data !== undefined) out.data = keep(u.data, "update.data");
  const p = u.progress;
  if (p !== undefined) {
    if (typeof p === "number") {
      if (!Number.isFinite(p)) throw new TypeError(`update.progress must be finite, got ${p}`);
    } else if (typeof p !== "object" || p === null || Array.isArray(p)) {
      throw new TypeError(`update.progress must be a number or an object, got ${describeValue(p)}`);
    }
    out.progress = keep(p, "update.progress");
  }
  return out;
}

const EVENT_TYPES: ReadonlySet<string> = new Set(STORE_EVENT_TYPES);

/**
 * Check an event handed to `publish`: an object with a valid queue name and a store event type.
 * Its other fields are not checked.
 *
 * @param event the event as given
 * @returns the event
 * @throws {TypeError | RangeError} naming the value
 */
export function checkEvent(event: unknown): StoreEvent {
  if (typeof event !== "object" || event === null) {
    throw new TypeError(`event must be an object, got ${String(event)}`);
  }
  const e = event as StoreEvent;
  validateQueueName(e.queueName);
  if (!EVENT_TYPES.has(e.type)) {
    throw new RangeError(`event type ${JSON.stringify(e.type)} is not a store event type`);
  }
  return e;
}
