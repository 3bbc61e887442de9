/**
 * Validation of names, options and payloads, with errors that name the bad field and value.
 *
 * @module
 */

import { parseDuration } from "./duration.ts";
import { hashPayload } from "./hash.ts";
import { generateId } from "./id.ts";
import { ALL_JOB_NAMES } from "./store_interface.ts";
import {
  FAIL_PARENT_POLICIES,
  type JobOptions,
  type KeepJobs,
  type NewJob,
  type StoredJobOptions,
} from "./types.ts";

/** Longest queue name, job name, job id, group id or deduplication key accepted. */
export const MAX_NAME_LENGTH = 255;
/** Highest priority number accepted (lowest priority). */
export const MAX_PRIORITY = 2_147_483_647;

function describe(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "bigint") return `${value}n`;
  if (typeof value === "function") return "a function";
  if (typeof value === "symbol") return value.toString();
  if (value === null || typeof value !== "object") return String(value);
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}

function checkName(kind: string, value: unknown, context: string): string {
  if (typeof value !== "string") {
    throw new TypeError(`${context}${kind} must be a string, got ${describe(value)}`);
  }
  if (value.length === 0) throw new RangeError(`${context}${kind} must not be empty`);
  if (value.length > MAX_NAME_LENGTH) {
    throw new RangeError(
      `${context}${kind} must be at most ${MAX_NAME_LENGTH} characters, got ${value.length}`,
    );
  }
  // deno-lint-ignore no-control-regex
  if (/[\u0000-\u001f]/.test(value)) {
    throw new RangeError(
      `${context}${kind} must not contain control characters, got ${describe(value)}`,
    );
  }
  return value;
}

/**
 * Check a queue name: a non-empty string of at most 255 characters, no control characters.
 * @throws {TypeError | RangeError} naming the value
 */
export function validateQueueName(name: unknown): string {
  return checkName("queue name", name, "");
}

/**
 * Check a job name: as a queue name, and not `"*"` (which stands for every job name).
 * @throws {TypeError | RangeError} naming the value
 */
export function validateJobName(name: unknown, context = ""): string {
  checkName("job name", name, context);
  if (name === ALL_JOB_NAMES) {
    throw new RangeError(`${context}job name must not be "${ALL_JOB_NAMES}" (it means every name)`);
  }
  return name as string;
}

/**
 * Check that `value` survives a JSON round trip unchanged: `null`, booleans, finite numbers,
 * strings, arrays and plain objects only (object properties set to `undefined` are allowed and
 * dropped). Refuses functions, symbols, BigInts, `NaN`/`Infinity`, `undefined` outside object
 * properties, non-plain objects (`Date`, `Map`, class instances) and cycles.
 *
 * @param value the value to check
 * @param what what the value is, for the message (e.g. `payload of job "send"`)
 * @throws {TypeError} naming the path of the first bad value
 *
 * @example
 * ```ts
 * import { assertJsonValue } from "@conveyor/shared";
 * assertJsonValue({ to: "a@example.com", tags: ["x"] }, "payload");
 * ```
 */
export function assertJsonValue(value: unknown, what: string): void {
  walkJson(value, what, "$", new Set());
}

function walkJson(value: unknown, what: string, path: string, seen: Set<object>): void {
  switch (typeof value) {
    case "string":
    case "boolean":
      return;
    case "number":
      if (!Number.isFinite(value)) {
        throw new TypeError(`${what} is not JSON: ${path} is ${value}`);
      }
      return;
    case "bigint":
      throw new TypeError(
        `${what} is not JSON: ${path} is a BigInt (${value}n); convert it to a string or number`,
      );
    case "function":
      throw new TypeError(`${what} is not JSON: ${path} is a function`);
    case "symbol":
      throw new TypeError(`${what} is not JSON: ${path} is a symbol`);
    case "undefined":
      throw new TypeError(`${what} is not JSON: ${path} is undefined`);
  }
  if (value === null) return;
  const obj = value as object;
  if (seen.has(obj)) throw new TypeError(`${what} is not JSON: ${path} is a circular reference`);
  seen.add(obj);
  if (Array.isArray(obj)) {
    for (let i = 0; i < obj.length; i++) walkJson(obj[i], what, `${path}[${i}]`, seen);
  } else {
    const proto = Object.getPrototypeOf(obj);
    if (proto !== Object.prototype && proto !== null) {
      const kind = (obj as { constructor?: { name?: string } }).constructor?.name ?? "object";
      throw new TypeError(
        `${what} is not JSON: ${path} is a ${kind}, not a plain object` +
          (kind === "Date" ? " (store date.toISOString() or date.getTime())" : ""),
      );
    }
    for (const [key, v] of Object.entries(obj)) {
      if (v === undefined) continue;
      walkJson(v, what, `${path}.${key}`, seen);
    }
  }
  seen.delete(obj);
}

function checkInt(
  v: unknown,
  field: string,
  context: string,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (typeof v !== "number" || !Number.isInteger(v)) {
    throw new TypeError(`${context}${field} must be an integer, got ${describe(v)}`);
  }
  if (v < min || v > max) {
    throw new RangeError(
      `${context}${field} must be ${
        max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `between ${min} and ${max}`
      }, got ${v}`,
    );
  }
  return v;
}

function checkMs(v: unknown, field: string, context: string, min = 0): number {
  if (typeof v !== "number" || !Number.isFinite(v)) {
    throw new TypeError(`${context}${field} must be a finite number of ms, got ${describe(v)}`);
  }
  if (v < min) throw new RangeError(`${context}${field} must be >= ${min}, got ${v}`);
  return v;
}

function checkKeep(v: unknown, field: string, context: string): void {
  if (v === undefined || typeof v === "boolean") return;
  if (typeof v === "number") {
    checkInt(v, field, context, 0);
    return;
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) {
    throw new TypeError(
      `${context}${field} must be a boolean, a count or { count, age }, got ${describe(v)}`,
    );
  }
  const keep = v as KeepJobs;
  if (keep.count !== undefined) checkInt(keep.count, `${field}.count`, context, 0);
  if (keep.age !== undefined) checkMs(keep.age, `${field}.age`, context);
}

const OPTION_KEYS = new Set([
  "jobId",
  "priority",
  "delay",
  "attempts",
  "backoff",
  "lifo",
  "timeout",
  "removeOnComplete",
  "removeOnFail",
  "deduplication",
  "groupId",
  "failParentOnChildFailure",
  "repeat",
]);

/**
 * Check job options and resolve the delay to milliseconds.
 *
 * @param opts options as given by the caller
 * @param context message prefix naming the job, e.g. `Cannot add job "send": `
 * @returns a copy fit to store
 * @throws {TypeError | RangeError} naming the bad field and value
 */
export function validateJobOptions(opts: unknown, context = ""): StoredJobOptions {
  if (opts === undefined) return {};
  if (typeof opts !== "object" || opts === null || Array.isArray(opts)) {
    throw new TypeError(`${context}options must be an object, got ${describe(opts)}`);
  }
  const o = opts as JobOptions;
  for (const key of Object.keys(o)) {
    if (!OPTION_KEYS.has(key)) throw new TypeError(`${context}unknown option "${key}"`);
  }
  const out: StoredJobOptions = {};
  if (o.jobId !== undefined) out.jobId = checkName("jobId", o.jobId, context);
  if (o.priority !== undefined) {
    out.priority = checkInt(o.priority, "priority", context, 0, MAX_PRIORITY);
  }
  if (o.delay !== undefined) out.delay = parseDuration(o.delay, `${context}delay`);
  if (o.attempts !== undefined) out.attempts = checkInt(o.attempts, "attempts", context, 1);
  if (o.backoff !== undefined) {
    const b = o.backoff;
    if (typeof b === "number") checkMs(b, "backoff", context);
    else if (typeof b === "object" && b !== null && !Array.isArray(b)) {
      if (typeof b.type !== "string" || b.type === "") {
        throw new TypeError(
          `${context}backoff.type must be "fixed", "exponential" or a custom strategy name, got ${
            describe(b.type)
          }`,
        );
      }
      if (b.delay !== undefined) checkMs(b.delay, "backoff.delay", context);
      if (b.jitter !== undefined) {
        checkMs(b.jitter, "backoff.jitter", context);
        if (b.jitter > 1) {
          throw new RangeError(`${context}backoff.jitter must be between 0 and 1, got ${b.jitter}`);
        }
      }
    } else {
      throw new TypeError(
        `${context}backoff must be a number of ms or { type, delay }, got ${describe(b)}`,
      );
    }
    out.backoff = typeof b === "number" ? b : { ...b };
  }
  if (o.lifo !== undefined) {
    if (typeof o.lifo !== "boolean") {
      throw new TypeError(`${context}lifo must be a boolean, got ${describe(o.lifo)}`);
    }
    out.lifo = o.lifo;
  }
  if (o.timeout !== undefined) out.timeout = checkMs(o.timeout, "timeout", context, 1);
  if (o.removeOnComplete !== undefined) {
    checkKeep(o.removeOnComplete, "removeOnComplete", context);
    out.removeOnComplete = structuredCopy(o.removeOnComplete);
  }
  if (o.removeOnFail !== undefined) {
    checkKeep(o.removeOnFail, "removeOnFail", context);
    out.removeOnFail = structuredCopy(o.removeOnFail);
  }
  if (o.deduplication !== undefined) {
    const d = o.deduplication;
    if (typeof d !== "object" || d === null || Array.isArray(d)) {
      throw new TypeError(`${context}deduplication must be { id?, ttl? }, got ${describe(d)}`);
    }
    const dd: { id?: string; ttl?: number } = {};
    if (d.id !== undefined) dd.id = checkName("deduplication.id", d.id, context);
    if (d.ttl !== undefined) dd.ttl = checkMs(d.ttl, "deduplication.ttl", context, 1);
    out.deduplication = dd;
  }
  if (o.groupId !== undefined) out.groupId = checkName("groupId", o.groupId, context);
  if (o.failParentOnChildFailure !== undefined) {
    if (!FAIL_PARENT_POLICIES.includes(o.failParentOnChildFailure)) {
      throw new RangeError(
        `${context}failParentOnChildFailure must be one of ${
          FAIL_PARENT_POLICIES.map((p) => `"${p}"`).join(", ")
        }, got ${describe(o.failParentOnChildFailure)}`,
      );
    }
    out.failParentOnChildFailure = o.failParentOnChildFailure;
  }
  if (o.repeat !== undefined) {
    assertJsonValue(o.repeat, `${context}repeat`);
    out.repeat = structuredCopy(o.repeat);
  }
  return out;
}

function structuredCopy<T>(v: T): T {
  return typeof v === "object" && v !== null ? JSON.parse(JSON.stringify(v)) : v;
}

/**
 * Validate a job about to be added and build the {@linkcode NewJob} a store saves: checks the
 * name, options and payload, resolves the delay, assigns an id and the deduplication key.
 *
 * @param name job name
 * @param data payload (a JSON value)
 * @param opts job options
 * @returns the job to hand to `saveJob`
 * @throws {TypeError | RangeError} naming the bad field and value
 *
 * @example
 * ```ts
 * import { createNewJob } from "@conveyor/shared";
 * const job = await createNewJob("send", { to: "a@example.com" }, { delay: "5s" });
 * console.log(job.opts.delay); // 5000
 * ```
 */
export async function createNewJob<T>(
  name: string,
  data: T,
  opts?: JobOptions,
): Promise<NewJob<T>> {
  const context = typeof name === "string" ? `Cannot add job "${name}": ` : "Cannot add job: ";
  validateJobName(name, context);
  const stored = validateJobOptions(opts, context);
  assertJsonValue(data, `${context}payload`);
  return {
    id: stored.jobId ?? generateId(),
    name,
    data: structuredCopy(data),
    opts: stored,
    deduplicationKey: await resolveDeduplicationKey(name, data, stored),
  };
}

/** The deduplication key for a job: `deduplication.id`, else the payload hash, else `null`. */
export async function resolveDeduplicationKey(
  name: string,
  data: unknown,
  opts: StoredJobOptions,
): Promise<string | null> {
  if (!opts.deduplication) return null;
  return opts.deduplication.id ?? `hash:${await hashPayload(name, data)}`;
}
