/**
 * Error classes shared by every Conveyor package.
 *
 * Bad arguments throw the built-in `TypeError` or `RangeError` with a message that names the
 * field and the value. Domain conditions throw a {@linkcode ConveyorError} subclass whose stable
 * `code` lets callers match errors even across duplicated npm copies, where `instanceof` fails.
 *
 * @module
 */

/** Stable codes carried by every {@linkcode ConveyorError}. */
export type ConveyorErrorCode =
  | "JOB_NOT_FOUND"
  | "INVALID_JOB_STATE"
  | "LEASE_LOST"
  | "STORE_CLOSED"
  | "STORE_NOT_CONNECTED"
  | "UNRECOVERABLE"
  | "SCHEMA_VERSION"
  | "FLOW_INVALID"
  | "JOB_TIMEOUT"
  | "STORE_ERROR";

/**
 * Base class of Conveyor's domain errors.
 *
 * @example Matching an error by its code
 * ```ts
 * import { ConveyorError, JobNotFoundError } from "@conveyor/shared";
 * const err: unknown = new JobNotFoundError("emails", "42");
 * if (err instanceof ConveyorError && err.code === "JOB_NOT_FOUND") {
 *   console.log(err.message);
 * }
 * ```
 */
export class ConveyorError extends Error {
  /** Stable, machine-readable code. */
  readonly code: ConveyorErrorCode;

  /**
   * Create the error.
   * @param code stable code for this condition
   * @param message human-readable description naming the queue, job or value involved
   * @param options standard error options (`cause` when wrapping another error)
   */
  constructor(code: ConveyorErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
    this.name = "ConveyorError";
  }
}

/** A job that was looked up by id does not exist (or was removed). */
export class JobNotFoundError extends ConveyorError {
  /** Queue the job was looked up in. */
  readonly queueName: string;
  /** Id that was not found. */
  readonly jobId: string;
  /**
   * Create the error.
   * @param queueName queue the job was looked up in
   * @param jobId id that was not found
   */
  constructor(queueName: string, jobId: string) {
    super("JOB_NOT_FOUND", `Job "${jobId}" not found in queue "${queueName}"`);
    this.name = "JobNotFoundError";
    this.queueName = queueName;
    this.jobId = jobId;
  }
}

/** An operation needs the job in another state (e.g. removing an active job). */
export class InvalidJobStateError extends ConveyorError {
  /**
   * Create the error.
   * @param message what was attempted, on which job, and the state it was in
   */
  constructor(message: string) {
    super("INVALID_JOB_STATE", message);
    this.name = "InvalidJobStateError";
  }
}

/**
 * A worker tried to change a job whose lease it no longer holds: the lease expired and the job
 * was re-taken, or the job was removed. The change was not applied.
 */
export class LeaseLostError extends ConveyorError {
  /** Queue of the job. */
  readonly queueName: string;
  /** Id of the job whose lease was lost. */
  readonly jobId: string;
  /**
   * Create the error.
   * @param queueName queue of the job
   * @param jobId id of the job
   * @param action what the worker tried to do (e.g. "complete")
   */
  constructor(queueName: string, jobId: string, action: string) {
    super(
      "LEASE_LOST",
      `Cannot ${action} job "${jobId}" in queue "${queueName}": the lease was lost (expired and re-taken, or the job was removed)`,
    );
    this.name = "LeaseLostError";
    this.queueName = queueName;
    this.jobId = jobId;
  }
}

/** The store (or the Queue/Worker using it) was closed; no further operations are accepted. */
export class StoreClosedError extends ConveyorError {
  /**
   * Create the error.
   * @param what the closed object, e.g. `MemoryStore` or `Queue "emails"`
   */
  constructor(what: string) {
    super("STORE_CLOSED", `${what} is closed`);
    this.name = "StoreClosedError";
  }
}

/** A store method was called before `connect()` finished. */
export class StoreNotConnectedError extends ConveyorError {
  /**
   * Create the error.
   * @param what the store, e.g. `PgStore`
   */
  constructor(what: string) {
    super("STORE_NOT_CONNECTED", `${what} is not connected: call connect() first`);
    this.name = "StoreNotConnectedError";
  }
}

/**
 * Thrown by a processor to fail its job at once, with no further retries.
 *
 * @example
 * ```ts
 * import { UnrecoverableError } from "@conveyor/shared";
 * function check(input: { to?: string }) {
 *   if (!input.to) throw new UnrecoverableError("missing recipient");
 * }
 * check({ to: "a@example.com" });
 * ```
 */
export class UnrecoverableError extends ConveyorError {
  /**
   * Create the error.
   * @param message why the job cannot succeed
   */
  constructor(message: string) {
    super("UNRECOVERABLE", message);
    this.name = "UnrecoverableError";
  }
}

/** The database schema is newer than this version of the store understands. */
export class SchemaVersionError extends ConveyorError {
  /**
   * Create the error.
   * @param message found and supported versions
   */
  constructor(message: string) {
    super("SCHEMA_VERSION", message);
    this.name = "SchemaVersionError";
  }
}

/** A flow tree is invalid (e.g. a duplicate job id inside one tree). Nothing was saved. */
export class FlowError extends ConveyorError {
  /**
   * Create the error.
   * @param message what is wrong with the tree
   */
  constructor(message: string) {
    super("FLOW_INVALID", message);
    this.name = "FlowError";
  }
}

/** A job ran longer than its `timeout` option; its processor was aborted. */
export class JobTimeoutError extends ConveyorError {
  /**
   * Create the error.
   * @param jobId id of the job
   * @param timeout the timeout in milliseconds
   */
  constructor(jobId: string, timeout: number) {
    super("JOB_TIMEOUT", `Job "${jobId}" timed out after ${timeout} ms`);
    this.name = "JobTimeoutError";
  }
}

/** Whether `err` is a Conveyor error with the given code (works across package copies). */
export function isConveyorError(err: unknown, code?: ConveyorErrorCode): err is ConveyorError {
  if (typeof err !== "object" || err === null) return false;
  const c = (err as { code?: unknown }).code;
  if (typeof c !== "string") return false;
  return code === undefined ? err instanceof Error : c === code;
}
