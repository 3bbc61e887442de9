/**
 * {@linkcode PgStore}: Conveyor's PostgreSQL store, on postgres.js.
 *
 * @module
 */

import {
  type FetchOptions,
  type FlowJobRecord,
  type JobData,
  type JobFailure,
  type JobState,
  type JobUpdate,
  type ListOptions,
  type NewJob,
  type SaveResult,
  type StalledRecovery,
  STORE_CONTRACT_VERSION,
  type StoreEvent,
  type StoreEventListener,
  type StoreInterface,
} from "@conveyor/shared";
import * as args from "./_args.ts";
import { Connection } from "./_connection.ts";
import * as jobOps from "./_job_ops.ts";
import * as queueOps from "./_queue_ops.ts";
import type { PgConnectionOptions, PgSql, PgTransactionSql } from "./pg_sql.ts";
import { PgStoreTransaction } from "./pg_store_transaction.ts";

/** Options of {@linkcode PgStore}. */
export interface PgStoreOptions {
  /**
   * Where to connect: a connection string, postgres.js options, or an existing postgres.js
   * `sql` instance (shared with your app; `disconnect()` leaves it open). The instance must not
   * transform column names (`postgres.camel` and the like).
   */
  connection: string | PgConnectionOptions | PgSql;
  /**
   * PostgreSQL schema holding the store's tables: several apps or test runs can share one
   * database in different schemas. Letters, digits and `_`, at most 48 characters.
   * @default "conveyor"
   */
  schema?: string;
  /**
   * Create or upgrade the schema on `connect()`. When `false`, `connect()` refuses a schema
   * that is not at the current version: run `migrate()` (e.g. in a deploy step) first.
   * @default true
   */
  autoMigrate?: boolean;
  /**
   * Receive events from other processes over LISTEN/NOTIFY (one extra connection per store).
   * Turn off for a store that only adds jobs.
   * @default true
   */
  listen?: boolean;
  /**
   * Which of this store's events other processes receive over NOTIFY. Wake-ups (`waiting`,
   * `delayed`, `paused`, `resumed`) always go in the statement that made the change. With
   * `"all"`, the other events (`active`, `completed`, `failed`, `progress`, ...) follow just
   * after the commit, batched into one NOTIFY per burst. With `"wakeups"` they reach only this
   * store's own subscribers, as with graphile-worker: the least load on a busy database.
   * @default "all"
   */
  publish?: "all" | "wakeups";
  /**
   * Called with errors that belong to no call: a subscriber that threw, a lost LISTEN connection
   * (the store keeps retrying).
   * @default logs with `console.error`
   */
  onError?: (error: Error) => void;
}

/**
 * Conveyor's PostgreSQL store: production queues shared by many processes on many hosts.
 *
 * Claims use `FOR UPDATE SKIP LOCKED`; leases are judged by the database clock and fenced by a
 * fresh lock token per claim; events travel over LISTEN/NOTIFY, sent in the same statement as
 * the change. `withTransaction(tx)` adds jobs inside your own transaction.
 *
 * @example
 * ```ts ignore
 * import { PgStore } from "@conveyor/store-pg";
 * import { createNewJob } from "@conveyor/shared";
 *
 * const store = new PgStore({ connection: "postgres://postgres@127.0.0.1:5432/test" });
 * await store.connect(); // creates or upgrades the "conveyor" schema
 * await store.saveJob("emails", await createNewJob("send", { to: "a@example.com" }));
 * const job = await store.fetchNextJob("emails", "worker-1", 30_000);
 * if (job) await store.completeJob("emails", job.id, job.lockToken!, { sent: true });
 * await store.disconnect();
 * ```
 */
export class PgStore implements StoreInterface {
  /** The store contract version this store meets. */
  readonly contractVersion: number = STORE_CONTRACT_VERSION;
  /** The schema this store uses. */
  readonly schema: string;
  readonly #c: Connection;

  /**
   * Create the store; nothing connects before `connect()`.
   * @throws {TypeError | RangeError} for a missing connection or a bad schema name
   */
  constructor(options: PgStoreOptions) {
    const schema = args.storeOptions(options);
    this.schema = schema;
    this.#c = new Connection(options, schema);
  }

  // ── Lifecycle ──────────────────────────────────────────────────────────────────────────────

  /**
   * Connect, check (or migrate) the schema and start listening. Idempotent.
   * @throws {ConveyorError} code `STORE_ERROR` when the server cannot be reached or the
   *   connection string is invalid; `SchemaVersionError` for a schema newer than known (or, with
   *   `autoMigrate: false`, older)
   */
  connect(): Promise<void> {
    return this.#c.connect();
  }

  /**
   * Create or upgrade the schema to the version this store knows, in one transaction under an
   * advisory lock (safe when many processes start at once). Works before `connect()`.
   * @returns the schema version before and after
   * @throws {SchemaVersionError} when the schema is newer than this store knows
   */
  migrate(): Promise<{ from: number; to: number }> {
    return this.#c.migrate();
  }

  /** Stop listening and close the connections this store opened. Idempotent. */
  disconnect(): Promise<void> {
    return this.#c.disconnect();
  }

  /**
   * A view of this store bound to your postgres.js transaction: jobs it saves (and their
   * wake-up NOTIFY) exist only if the transaction commits. Call after `connect()`.
   * @param tx the `sql` of `sql.begin((tx) => ...)` (or a reserved connection inside `BEGIN`)
   */
  withTransaction(tx: PgTransactionSql): PgStoreTransaction {
    if (typeof (tx as { unsafe?: unknown })?.unsafe !== "function") {
      throw new TypeError("withTransaction needs a postgres.js transaction sql (from sql.begin)");
    }
    return new PgStoreTransaction(this.#c.ready().bind(tx, ""), tx);
  }

  // ── CRUD ───────────────────────────────────────────────────────────────────────────────────

  /** Save a new job in one statement; see {@linkcode StoreInterface.saveJob}. */
  saveJob(queueName: string, job: NewJob): Promise<SaveResult> {
    return jobOps.saveJob(this.#c, queueName, job);
  }

  /** Save many jobs in one statement; see {@linkcode StoreInterface.saveBulk}. */
  saveBulk(queueName: string, jobs: NewJob[]): Promise<SaveResult[]> {
    return jobOps.saveBulk(this.#c, queueName, jobs);
  }

  /** Read one job, or `null`. */
  getJob(queueName: string, jobId: string): Promise<JobData | null> {
    return jobOps.getJob(this.#c, queueName, jobId);
  }

  /** Change a job's payload or progress (fenced with `lockToken` when given). */
  updateJob(
    queueName: string,
    jobId: string,
    update: JobUpdate,
    lockToken?: string,
  ): Promise<boolean> {
    return jobOps.updateJob(this.#c, queueName, jobId, update, lockToken);
  }

  /**
   * Remove a job (and its unfinished, not active flow descendants).
   * @throws {InvalidJobStateError} when the job is active
   */
  removeJob(queueName: string, jobId: string): Promise<boolean> {
    return jobOps.removeJob(this.#c, queueName, jobId);
  }

  // ── Fetching ───────────────────────────────────────────────────────────────────────────────

  /** Claim the next waiting job; see {@linkcode StoreInterface.fetchNextJob}. */
  fetchNextJob(
    queueName: string,
    workerId: string,
    lockDuration: number,
    opts?: FetchOptions,
  ): Promise<JobData | null> {
    return jobOps.fetchNextJob(this.#c, queueName, workerId, lockDuration, opts);
  }

  /** Claim up to `count` waiting jobs in one statement. */
  fetchNextJobs(
    queueName: string,
    workerId: string,
    lockDuration: number,
    count: number,
    opts?: FetchOptions,
  ): Promise<JobData[]> {
    return jobOps.fetchNextJobs(this.#c, queueName, workerId, lockDuration, count, opts);
  }

  // ── Locking and finishing ──────────────────────────────────────────────────────────────────

  /** Extend a lease to now + `duration` (database clock) if `lockToken` still holds it. */
  extendLock(
    queueName: string,
    jobId: string,
    lockToken: string,
    duration: number,
  ): Promise<boolean> {
    return jobOps.extendLock(this.#c, queueName, jobId, lockToken, duration);
  }

  /** Give a leased job back to waiting. */
  releaseLock(queueName: string, jobId: string, lockToken: string): Promise<boolean> {
    return jobOps.releaseLock(this.#c, queueName, jobId, lockToken);
  }

  /** Complete a leased job and count it for its flow parent, in one statement. */
  completeJob(
    queueName: string,
    jobId: string,
    lockToken: string,
    returnValue: unknown,
  ): Promise<boolean> {
    return jobOps.completeJob(this.#c, queueName, jobId, lockToken, returnValue);
  }

  /**
   * Fail a leased attempt: retry, or fail for good (with removeOnFail and the flow parent's
   * policy applied in the same transaction).
   */
  failJob(
    queueName: string,
    jobId: string,
    lockToken: string,
    failure: JobFailure,
  ): Promise<boolean> {
    return jobOps.failJob(this.#c, queueName, jobId, lockToken, failure);
  }

  /** Append a log line (fenced with `lockToken` when given). */
  addLog(queueName: string, jobId: string, line: string, lockToken?: string): Promise<boolean> {
    return jobOps.addLog(this.#c, queueName, jobId, line, lockToken);
  }

  // ── Queries ────────────────────────────────────────────────────────────────────────────────

  /** Jobs of the queue in `state` (all when omitted), by ascending `seq`. */
  listJobs(queueName: string, state?: JobState, opts?: ListOptions): Promise<JobData[]> {
    return queueOps.listJobs(this.#c, queueName, state, opts);
  }

  /** Number of jobs of the queue in `state` (all when omitted). */
  countJobs(queueName: string, state?: JobState): Promise<number> {
    return queueOps.countJobs(this.#c, queueName, state);
  }

  /** Number of active jobs of the queue. */
  getActiveCount(queueName: string): Promise<number> {
    return queueOps.getActiveCount(this.#c, queueName);
  }

  // ── Delayed jobs ───────────────────────────────────────────────────────────────────────────

  /** Earliest `delayUntil` of the queue's delayed jobs, or `null`. */
  getNextDelayedTimestamp(queueName: string): Promise<number | null> {
    return queueOps.getNextDelayedTimestamp(this.#c, queueName);
  }

  /** Move delayed jobs due by `timestamp` (default: the database clock) to waiting. */
  promoteDelayedJobs(queueName: string, timestamp?: number): Promise<number> {
    return queueOps.promoteDelayedJobs(this.#c, queueName, timestamp);
  }

  // ── Pause / resume ─────────────────────────────────────────────────────────────────────────

  /** Stop claims of `jobName` (`"*"`: the whole queue), in every process. */
  pauseJobName(queueName: string, jobName: string): Promise<void> {
    return queueOps.pauseJobName(this.#c, queueName, jobName);
  }

  /** Undo `pauseJobName`. */
  resumeJobName(queueName: string, jobName: string): Promise<void> {
    return queueOps.resumeJobName(this.#c, queueName, jobName);
  }

  /** Paused job names of the queue (with `"*"` when the queue is paused). */
  getPausedJobNames(queueName: string): Promise<string[]> {
    return queueOps.getPausedJobNames(this.#c, queueName);
  }

  // ── Stalled jobs ───────────────────────────────────────────────────────────────────────────

  /** Active jobs whose lease expired on the database clock. */
  getStalledJobs(queueName: string): Promise<JobData[]> {
    return queueOps.getStalledJobs(this.#c, queueName);
  }

  /** Recover (or fail, past `maxStalledCount`) every stalled job, in one transaction. */
  recoverStalledJobs(queueName: string, maxStalledCount: number): Promise<StalledRecovery> {
    return queueOps.recoverStalledJobs(this.#c, queueName, maxStalledCount);
  }

  // ── Cleanup ────────────────────────────────────────────────────────────────────────────────

  /** Remove up to `limit` jobs in `state` finished (or added) more than `grace` ms ago. */
  clean(queueName: string, state: JobState, grace: number, limit?: number): Promise<string[]> {
    return queueOps.clean(this.#c, queueName, state, grace, limit);
  }

  /** Remove the queue's waiting jobs (and delayed ones unless `delayed` is `false`). */
  drain(queueName: string, delayed?: boolean): Promise<number> {
    return queueOps.drain(this.#c, queueName, delayed);
  }

  // ── Events ─────────────────────────────────────────────────────────────────────────────────

  /** Receive the queue's events, from this store and (over LISTEN) from every other process. */
  subscribe(queueName: string, listener: StoreEventListener): void {
    queueOps.subscribe(this.#c, queueName, listener);
  }

  /** Stop one listener, or every listener of the queue when `listener` is omitted. */
  unsubscribe(queueName: string, listener?: StoreEventListener): void {
    queueOps.unsubscribe(this.#c, queueName, listener);
  }

  /** Publish an event to subscribers here and, over NOTIFY, in every other process. */
  publish(event: StoreEvent): Promise<void> {
    return queueOps.publish(this.#c, event);
  }

  // ── Flows ──────────────────────────────────────────────────────────────────────────────────

  /** Save a flow tree all-or-nothing, in one transaction. */
  saveFlow(jobs: FlowJobRecord[]): Promise<SaveResult[]> {
    return queueOps.saveFlow(this.#c, jobs);
  }

  /** Count child `childId` as done for its parent, once; `true` when it released the parent. */
  notifyChildCompleted(
    parentQueueName: string,
    parentId: string,
    childId: string,
  ): Promise<boolean> {
    return queueOps.notifyChildCompleted(this.#c, parentQueueName, parentId, childId);
  }

  /** Apply the parent's failure policy for failed child `childId`, once. */
  failParentOnChildFailure(
    parentQueueName: string,
    parentId: string,
    childId: string,
    failedReason: string,
  ): Promise<void> {
    return queueOps.failParentOnChildFailure(
      this.#c,
      parentQueueName,
      parentId,
      childId,
      failedReason,
    );
  }

  /** Direct children of a parent, across queues, by ascending `seq`. */
  getChildrenJobs(parentQueueName: string, parentId: string): Promise<JobData[]> {
    return queueOps.getChildrenJobs(this.#c, parentQueueName, parentId);
  }

  // ── Deduplication and groups ───────────────────────────────────────────────────────────────

  /** The live job holding deduplication `key` in the queue, or `null`. */
  findByDeduplicationKey(queueName: string, key: string): Promise<JobData | null> {
    return queueOps.findByDeduplicationKey(this.#c, queueName, key);
  }

  /** Active jobs of a group. */
  getGroupActiveCount(queueName: string, groupId: string): Promise<number> {
    return queueOps.getGroupActiveCount(this.#c, queueName, groupId);
  }

  /** Waiting jobs of a group. */
  getWaitingGroupCount(queueName: string, groupId: string): Promise<number> {
    return queueOps.getWaitingGroupCount(this.#c, queueName, groupId);
  }
}
