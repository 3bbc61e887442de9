/**
 * Validation of names, options and payloads, with errors that name the bad field and value.
 *
 * @module
 */

import { checkInt, checkMs, describeValue } from "./_checks.ts";
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

function checkName(kind: string, value: unknown, context: string): string {
  if (typeof value !== "string") {
    throw new TypeError(`${context}${kind} must be a string, got ${describeValue(value)}`);
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
      `${context}${kind} must not contain control characters, got ${describeValue(value)}`,
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
 * Whether `name` is a valid job name (as {@linkcode validateJobName} accepts), building no
 * message: for hot paths that call `validateJobName` only to throw.
 *
 * @param name the value to test
 * @returns `true` when `validateJobName(name)` would not throw
 */
export function isValidJobName(name: unknown): name is string {
  if (typeof name !== "string" || name.length === 0 || name.length > MAX_NAME_LENGTH) return false;
  for (let i = 0; i < name.length; i++) if (name.charCodeAt(i) < 0x20) return false;
  return name !== ALL_JOB_NAMES;
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
  if (typeof value === "string" || typeof value === "boolean" || value === null) return;
  const quick = typeof value === "object" ? scanObject(value, null) : scanLeaf(value);
  if (quick === VALID) return;
  // Not proven valid (a bad value, or nesting too deep for the quick scan): walk again, naming
  // the path of the first bad value.
  walkJson(value, what, "$", new Set());
  // A deep value the walk accepts is fine; one the quick scan refused changed meanwhile (a getter).
  if (quick === INVALID) throw new TypeError(`${what} is not JSON`);
}

/**
 * Whether `value` is JSON as {@linkcode assertJsonValue} defines it, building no message.
 *
 * @param value the value to test
 * @returns `true` when `assertJsonValue(value, what)` would not throw
 */
export function isJsonValue(value: unknown): boolean {
  if (typeof value === "string" || typeof value === "boolean" || value === null) return true;
  const quick = typeof value === "object" ? scanObject(value, null) : scanLeaf(value);
  if (quick !== TOO_DEEP) return quick === VALID;
  try {
    walkJson(value, "", "$", new Set());
    return true;
  } catch {
    return false;
  }
}

// The quick scan: the rules of walkJson, with no path strings and no Set. Cycles are found by
// scanning the ancestors, so it stops at MAX_SCAN_DEPTH and leaves deeper values to walkJson.
const VALID = 0;
const INVALID = 1;
const TOO_DEEP = 2;
/** Nesting depth up to which the quick scan looks for cycles among the ancestors. */
const MAX_SCAN_DEPTH = 64;

/** A value that is not an object or `null`: valid when a string, boolean or finite number. */
function scanLeaf(v: unknown): number {
  switch (typeof v) {
    case "string":
    case "boolean":
      return VALID;
    case "number":
      return Number.isFinite(v) ? VALID : INVALID;
  }
  return INVALID;
}

/** `anc`: the ancestors of `obj` and `obj` itself (`null` at the root until a child needs it). */
function scanObject(obj: object, anc: object[] | null): number {
  if (Array.isArray(obj)) {
    for (let i = 0; i < obj.length; i++) {
      const v = obj[i];
      let r: number;
      if (typeof v === "object" && v !== null) r = scanChild(v, anc ??= [obj]);
      else if (v === null) continue;
      else r = scanLeaf(v);
      if (r !== VALID) return r;
    }
    return VALID;
  }
  const proto = Object.getPrototypeOf(obj);
  if (proto !== Object.prototype && proto !== null) return INVALID;
  const keys = Object.keys(obj);
  for (let i = 0; i < keys.length; i++) {
    const v = (obj as Record<string, unknown>)[keys[i]];
    let r: number;
    if (typeof v === "object" && v !== null) r = scanChild(v, anc ??= [obj]);
    else if (v === null || v === undefined) continue;
    else r = scanLeaf(v);
    if (r !== VALID) return r;
  }
  return VALID;
}

function scanChild(v: object, anc: object[]): number {
  const depth = anc.length;
  if (depth >= MAX_SCAN_DEPTH) return TOO_DEEP;
  for (let i = 0; i < depth; i++) if (anc[i] === v) return INVALID;
  anc.push(v);
  const result = scanObject(v, anc);
  anc.pop();
  return result;
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

function checkKeep(v: unknown, field: string, context: string): void {
  if (v === undefined || typeof v === "boolean") return;
  if (typeof v === "number") {
    checkInt(v, `${context}${field}`, 0, Number.MAX_SAFE_INTEGER);
    return;
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) {
    throw new TypeError(
      `${context}${field} must be a boolean, a count or { count, age }, got ${describeValue(v)}`,
    );
  }
  const keep = v as KeepJobs;
  if (keep.count !== undefined) {
    checkInt(keep.count, `${context}${field}.count`, 0, Number.MAX_SAFE_INTEGER);
  }
  if (keep.age !== undefined) checkMs(keep.age, `${context}${field}.age`);
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
    throw new TypeError(`${context}options must be an object, got ${describeValue(opts)}`);
  }
  const o = opts as JobOptions;
  for (const key of Object.keys(o)) {
    if (!OPTION_KEYS.has(key)) throw new TypeError(`${context}unknown option "${key}"`);
  }
  const out: StoredJobOptions = {};
  if (o.jobId !== undefined) out.jobId = checkName("jobId", o.jobId, context);
  if (o.priority !== undefined) {
    out.priority = checkInt(o.priority, `${context}priority`, 0, MAX_PRIORITY);
  }
  if (o.delay !== undefined) out.delay = parseDuration(o.delay, `${context}delay`);
  if (o.attempts !== undefined) {
    out.attempts = checkInt(o.attempts, `${context}attempts`, 1, Number.MAX_SAFE_INTEGER);
  }
  if (o.backoff !== undefined) {
    const b = o.backoff;
    if (typeof b === "number") checkMs(b, `${context}backoff`);
    else if (typeof b === "object" && b !== null && !Array.isArray(b)) {
      if (typeof b.type !== "string" || b.type === "") {
        throw new TypeError(
          `${context}backoff.type must be "fixed", "exponential" or a custom strategy name, got ${
            describeValue(b.type)
          }`,
        );
      }
      if (b.delay !== undefined) checkMs(b.delay, `${context}backoff.delay`);
      if (b.jitter !== undefined) {
        checkMs(b.jitter, `${context}backoff.jitter`);
        if (b.jitter > 1) {
          throw new RangeError(`${context}backoff.jitter must be between 0 and 1, got ${b.jitter}`);
        }
      }
    } else {
      throw new TypeError(
        `${context}backoff must be a number of ms or { type, delay }, got ${describeValue(b)}`,
      );
    }
    out.backoff = typeof b === "number" ? b : { ...b };
  }
  if (o.lifo !== undefined) {
    if (typeof o.lifo !== "boolean") {
      throw new TypeError(`${context}lifo must be a boolean, got ${describeValue(o.lifo)}`);
    }
    out.lifo = o.lifo;
  }
  if (o.timeout !== undefined) out.timeout = checkMs(o.timeout, `${context}timeout`, 1);
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
      throw new TypeError(`${context}deduplication must be { id?, ttl? }, got ${describeValue(d)}`);
    }
    const dd: { id?: string; ttl?: number } = {};
    if (d.id !== undefined) dd.id = checkName("deduplication.id", d.id, context);
    if (d.ttl !== undefined) dd.ttl = checkMs(d.ttl, `${context}deduplication.ttl`, 1);
    out.deduplication = dd;
  }
  if (o.groupId !== undefined) out.groupId = checkName("groupId", o.groupId, context);
  if (o.failParentOnChildFailure !== undefined) {
    if (!FAIL_PARENT_POLICIES.includes(o.failParentOnChildFailure)) {
      throw new RangeError(
        `${context}failParentOnChildFailure must be one of ${
          FAIL_PARENT_POLICIES.map((p) => `"${p}"`).join(", ")
        }, got ${describeValue(o.failParentOnChildFailure)}`,
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
