/**
 * Argument checks for the store's public methods: bad arguments throw `TypeError` or
 * `RangeError` naming the field and the value, before anything reaches the database.
 *
 * @module
 */

import {
  assertJsonValue,
  checkFetchOptions,
  type FetchOptions,
  type FlowJobRecord,
  JOB_STATES,
  type JobFailure,
  type JobState,
  MAX_NAME_LENGTH,
  type NewJob,
  type StoreEvent,
  validateJobName,
  validateJobOptions,
  validateQueueName,
} from "@conveyor/shared";

function show(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "bigint") return `${value}n`;
  if (typeof value === "function") return "a function";
  if (typeof value === "object" && value !== null) {
    try {
      return JSON.stringify(value) ?? String(value);
    } catch {
      return Object.prototype.toString.call(value);
    }
  }
  return String(value);
}

/** A queue name (validated like everywhere in Conveyor). */
export const queueName: (value: unknown) => string = validateQueueName;

/** A non-empty string of at most 255 characters (ids, keys, group ids). */
export function id(value: unknown, what: string): string {
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

/** A non-empty string of any length (worker ids, lock tokens, log lines may be empty). */
export function text(value: unknown, what: string, allowEmpty = false): string {
  if (typeof value !== "string") {
    throw new TypeError(`${what} must be a string, got ${show(value)}`);
  }
  if (!allowEmpty && value.length === 0) throw new RangeError(`${what} must not be empty`);
  return value;
}

/** An integer >= `min`. */
export function int(value: unknown, what: string, min: number): number {
  if (typeof value !== "number" || !Number.isInteger(value)) {
    throw new TypeError(`${what} must be an integer, got ${show(value)}`);
  }
  if (value < min) throw new RangeError(`${what} must be >= ${min}, got ${value}`);
  return value;
}

/** A finite number of milliseconds >= `min`. */
export function ms(value: unknown, what: string, min = 0): number {
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new TypeError(`${what} must be a finite number of ms, got ${show(value)}`);
  }
  if (value < min) throw new RangeError(`${what} must be >= ${min}, got ${value}`);
  return value;
}

/** A job state, or `undefined` when optional and absent. */
export function state(value: unknown, optional: boolean): JobState | undefined {
  if (value === undefined && optional) return undefined;
  if (!JOB_STATES.includes(value as JobState)) {
    throw new RangeError(
      `state must be one of ${JOB_STATES.map((s) => `"${s}"`).join(", ")}, got ${show(value)}`,
    );
  }
  return value as JobState;
}

/** A job to save, checked, with its options validated and optional fields resolved. */
export function newJob(value: unknown, where: string): NewJob {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new TypeError(`${where}: job must be an object, got ${show(value)}`);
  }
  const j = value as Record<string, unknown>;
  const jobId = id(j.id, `${where}: job id`);
  const context = `Cannot save job "${jobId}": `;
  const name = validateJobName(j.name, context);
  assertJsonValue(j.data, `${context}payload`);
  const opts = validateJobOptions(j.opts ?? {}, context);
  const optional = (field: string) =>
    j[field] === undefined || j[field] === null ? null : id(j[field], `${context}${field}`);
  const parentId = optional("parentId");
  const parentQueueName = optional("parentQueueName");
  if (parentQueueName !== null && parentId === null) {
    throw new TypeError(`${context}parentQueueName is set but parentId is not`);
  }
  return {
    id: jobId,
    name,
    data: j.data,
    opts,
    deduplicationKey: optional("deduplicationKey"),
    parentId,
    parentQueueName,
    pendingChildrenCount: j.pendingChildrenCount === undefined
      ? 0
      : int(j.pendingChildrenCount, `${context}pendingChildrenCount`, 0),
  };
}

/** A list of jobs. */
export function jobList(value: unknown, where: string): NewJob[] {
  if (!Array.isArray(value)) {
    throw new TypeError(`${where}: jobs must be an array, got ${show(value)}`);
  }
  return value.map((job, i) => newJob(job, `${where}[${i}]`));
}

/** A flow record list. */
export function flowRecords(value: unknown): FlowJobRecord[] {
  if (!Array.isArray(value)) {
    throw new TypeError(`saveFlow: jobs must be an array, got ${show(value)}`);
  }
  return value.map((r, i) => {
    const job = newJob(r, `saveFlow[${i}]`);
    return { ...job, queueName: queueName((r as { queueName?: unknown }).queueName) };
  });
}

/** Claim limits and the hand-off flag (checked as every store checks them). */
export const fetchOptions: (value: unknown) => FetchOptions = checkFetchOptions;

/** A failed attempt. */
export function failure(value: unknown): JobFailure {
  if (typeof value !== "object" || value === null) {
    throw new TypeError(`failure must be { failedReason, retryDelay }, got ${show(value)}`);
  }
  const f = value as JobFailure;
  text(f.failedReason, "failure.failedReason", true);
  if (f.stacktrace !== undefined && f.stacktrace !== null) {
    text(f.stacktrace, "failure.stacktrace", true);
  }
  if (f.retryDelay !== null) ms(f.retryDelay, "failure.retryDelay");
  return f;
}

/** JSON text of a value the store keeps (`undefined` becomes `null`). */
export function json(value: unknown, what: string): string {
  if (value === undefined) return "null";
  assertJsonValue(value, what);
  return JSON.stringify(value);
}

/** An update: JSON texts of the new payload and progress (null: unchanged). */
export function update(value: unknown): { data: string | null; progress: string | null } {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new TypeError(`update must be { data?, progress? }, got ${show(value)}`);
  }
  const u = value as { data?: unknown; progress?: unknown };
  let progress: string | null = null;
  if (u.progress !== undefined) {
    const p = u.progress;
    if (typeof p === "number") {
      if (!Number.isFinite(p)) throw new TypeError(`update.progress must be finite, got ${p}`);
    } else if (typeof p !== "object" || p === null || Array.isArray(p)) {
      throw new TypeError(`update.progress must be a number or an object, got ${show(p)}`);
    }
    progress = json(p, "update.progress");
  }
  return { data: u.data === undefined ? null : json(u.data, "update.data"), progress };
}

/** An event to publish. */
export function event(value: unknown): StoreEvent {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new TypeError(`event must be an object, got ${show(value)}`);
  }
  const e = value as StoreEvent;
  text(e.type, "event.type");
  queueName(e.queueName);
  assertJsonValue(e, "event");
  return e;
}

const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,47}$/;

/** `PgStore` options; returns the schema name. */
export function storeOptions(options: unknown): string {
  if (typeof options !== "object" || options === null) {
    throw new TypeError("PgStore needs options: new PgStore({ connection })");
  }
  const o = options as { connection?: unknown; schema?: unknown; publish?: unknown };
  const c = o.connection;
  if (typeof c !== "string" && typeof c !== "function" && (typeof c !== "object" || c === null)) {
    throw new TypeError(
      "PgStore options.connection must be a connection string, postgres.js options or a postgres.js sql instance",
    );
  }
  const schema = o.schema ?? "conveyor";
  if (typeof schema !== "string" || !SCHEMA_NAME.test(schema)) {
    throw new RangeError(
      `PgStore schema must be letters, digits and "_" (not starting with a digit), at most 48 characters, got ${
        show(schema)
      }`,
    );
  }
  if (o.publish !== undefined && o.publish !== "all" && o.publish !== "wakeups") {
    throw new RangeError(`PgStore publish must be "all" or "wakeups", got ${show(o.publish)}`);
  }
  if (typeof c === "function") {
    const t = (c as { options?: { transform?: { column?: { from?: unknown } } } }).options
      ?.transform;
    if (typeof t?.column?.from === "function") {
      throw new TypeError(
        "PgStore needs a postgres.js instance without column name transforms (e.g. postgres.camel); pass connection options instead",
      );
    }
  }
  return schema;
}
