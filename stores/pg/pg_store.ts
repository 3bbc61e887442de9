/**
 * {@linkcode PgStore}: Conveyor's PostgreSQL store, on postgres.js.
 *
 * @module
 */

import {
  type FetchOptions,
  type FlowJobRecord,
  InvalidJobStateError,
  type JobData,
  type JobFailure,
  type JobState,
  type JobUpdate,
  type ListOptions,
  type NewJob,
  type SaveResult,
  type StalledRecovery,
  STORE_CONTRACT_VERSION,
  StoreClosedError,
  type StoreEvent,
  type StoreEventListener,
  type StoreInterface,
} from "@conveyor/shared";
import * as args from "./_args.ts";
import { Claimer } from "./_claim.ts";
import { Connection } from "./_connection.ts";
import * as finish from "./_finish.ts";
import * as flows from "./_flows.ts";
import * as upkeep from "./_maintenance.ts";
import { queries } from "./_queries.ts";
import type { PgConnectionOptions, PgSql, PgTransactionSql } from "./pg_sql.ts";
import { PgStoreTransaction, saveMany, saveOne, saveTree } from "./pg_store_transaction.ts";

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

const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,47}$/;

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
  readonly #claimer = new Claimer();

  /**
   * Create the store; nothing connects before `connect()`.
   * @throws {TypeError | RangeError} for a missing connection or a bad schema name
   */
  constructor(options: PgStoreOptions) {
    if (typeof options !== "object" || options === null) {
      throw new TypeError("PgStore needs options: new PgStore({ connection })");
    }
    const c = options.connection as unknown;
    if (typeof c !== "string" && typeof c !== "function" && (typeof c !== "object" || c === null)) {
      throw new TypeError(
        "PgStore options.connection must be a connection string, postgres.js options or a postgres.js sql instance",
      );
    }
    const schema = options.schema ?? "conveyor";
    if (typeof schema !== "string" || !SCHEMA_NAME.test(schema)) {
      throw new RangeError(
        `PgStore schema must be letters, digits and "_" (not starting with a digit), at most 48 characters, got ${
          JSON.stringify(schema)
        }`,
      );
    }
    if (
      options.publish !== undefined && options.publish !== "all" && options.publish !== "wakeups"
    ) {
      throw new RangeError(
        `PgStore publish must be "all" or "wakeups", got ${JSON.stringify(options.publish)}`,
      );
    }
    if (typeof c === "function") {
      const t = (c as { options?: { transform?: unknown } }).options?.transform as
        | { column?: { from?: unknown } }
        | undefined;
      if (typeof t?.column?.from === "function") {
        throw new TypeError(
          "PgStore needs a postgres.js instance without column name transforms (e.g. postgres.camel); pass connection options instead",
        );
      }
    }
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

  #deliver<T extends { events: readonly unknown[] }>(result: T): T {
    this.#c.deliver(result.events);
    return result;
  }

  // ── CRUD ───────────────────────────────────────────────────────────────────────────────────

  /** Save a new job in one statement; see {@linkcode StoreInterface.saveJob}. */
  async saveJob(queueName: string, job: NewJob): Promise<SaveResult> {
    return await saveOne(this.#c.saving(), queueName, job);
  }

  /** Save many jobs in one statement; see {@linkcode StoreInterface.saveBulk}. */
  async saveBulk(queueName: string, jobs: NewJob[]): Promise<SaveResult[]> {
    return await saveMany(this.#c.saving(), queueName, jobs);
  }

  /** Read one job, or `null`. */
  async getJob(queueName: string, jobId: string): Promise<JobData | null> {
    const db = this.#c.ready();
    return await queries.getJob(db, args.queueName(queueName), args.text(jobId, "jobId"));
  }

  /** Change a job's payload or progress (fenced with `lockToken` when given). */
  async updateJob(
    queueName: string,
    jobId: string,
    update: JobUpdate,
    lockToken?: string,
  ): Promise<boolean> {
    const db = this.#c.ready();
    const q = args.queueName(queueName);
    const u = args.update(update);
    const token = lockToken === undefined ? null : args.text(lockToken, "lockToken");
    const id = args.text(jobId, "jobId");
    return this.#deliver(await finish.updateJob(db, q, id, u.data, u.progress, token)).ok;
  }

  /**
   * Remove a job (and its unfinished, not active flow descendants).
   * @throws {InvalidJobStateError} when the job is active
   */
  async removeJob(queueName: string, jobId: string): Promise<boolean> {
    const db = this.#c.ready();
    const q = args.queueName(queueName);
    const id = args.text(jobId, "jobId");
    const result = this.#deliver(await upkeep.removeJobs(db, q, id, true));
    if (!result.removed && result.state === "active") {
      throw new InvalidJobStateError(
        `Cannot remove job "${id}" of queue "${q}": it is active (leased by a worker)`,
      );
    }
    return result.removed;
  }

  // ── Fetching ───────────────────────────────────────────────────────────────────────────────

  /** Claim the next waiting job; see {@linkcode StoreInterface.fetchNextJob}. */
  async fetchNextJob(
    queueName: string,
    workerId: string,
    lockDuration: number,
    opts?: FetchOptions,
  ): Promise<JobData | null> {
    return (await this.fetchNextJobs(queueName, workerId, lockDuration, 1, opts))[0] ?? null;
  }

  /** Claim up to `count` waiting jobs in one statement. */
  async fetchNextJobs(
    queueName: string,
    workerId: string,
    lockDuration: number,
    count: number,
    opts?: FetchOptions,
  ): Promise<JobData[]> {
    const db = this.#c.ready();
    const q = args.queueName(queueName);
    const worker = args.text(workerId, "workerId");
    const lease = args.ms(lockDuration, "lockDuration", 1);
    const n = args.int(count, "count", 1);
    const limits = args.fetchOptions(opts);
    return this.#deliver(
      await this.#claimer.claim(db, this.#c.pipeline, q, worker, lease, n, limits),
    ).jobs;
  }

  // ── Locking and finishing ──────────────────────────────────────────────────────────────────

  /** Extend a lease to now + `duration` (database clock) if `lockToken` still holds it. */
  async extendLock(
    queueName: string,
    jobId: string,
    lockToken: string,
    duration: number,
  ): Promise<boolean> {
    const db = this.#c.ready();
    return await finish.extendLock(
      db,
      args.queueName(queueName),
      args.text(jobId, "jobId"),
      args.text(lockToken, "lockToken"),
      args.ms(duration, "duration", 1),
    );
  }

  /** Give a leased job back to waiting. */
  async releaseLock(queueName: string, jobId: string, lockToken: string): Promise<boolean> {
    const db = this.#c.ready();
    const q = args.queueName(queueName);
    const id = args.text(jobId, "jobId");
    return this.#deliver(await finish.releaseLock(db, q, id, args.text(lockToken, "lockToken")))
      .ok;
  }

  /** Complete a leased job and count it for its flow parent, in one statement. */
  async completeJob(
    queueName: string,
    jobId: string,
    lockToken: string,
    returnValue: unknown,
  ): Promise<boolean> {
    const db = this.#c.ready();
    const q = args.queueName(queueName);
    const id = args.text(jobId, "jobId");
    const token = args.text(lockToken, "lockToken");
    const value = JSON.parse(args.json(returnValue, "return value"));
    return this.#deliver(await finish.completeJob(db, q, id, token, value)).ok;
  }

  /**
   * Fail a leased attempt: retry, or fail for good (with removeOnFail and the flow parent's
   * policy applied in the same transaction).
   */
  async failJob(
    queueName: string,
    jobId: string,
    lockToken: string,
    failure: JobFailure,
  ): Promise<boolean> {
    const db = this.#c.ready();
    const q = args.queueName(queueName);
    const id = args.text(jobId, "jobId");
    const token = args.text(lockToken, "lockToken");
    const f = args.failure(failure);
    const stack = f.stacktrace ?? null;
    const fast = await finish.failAttempt(
      db,
      q,
      id,
      token,
      f.failedReason,
      stack,
      f.retryDelay,
      false,
    );
    if (fast) return this.#deliver({ ok: true, events: fast.events }).ok;
    if (f.retryDelay !== null) return false;
    // A final failure of a flow child (or a lost lease): one transaction with the policy.
    const result = await this.#c.transact(async (tx) => {
      const row = await finish.failAttempt(tx, q, id, token, f.failedReason, stack, null, true);
      if (!row) return { ok: false, events: [] as string[] };
      const events = [...row.events];
      if (row.parent_id !== null && !row.parent_notified) {
        events.push(
          ...await flows.applyChildFailure(
            tx,
            { queue: q, id },
            { queue: row.parent_queue ?? q, id: row.parent_id },
            f.failedReason,
          ),
        );
      }
      return { ok: true, events };
    });
    return this.#deliver(result).ok;
  }

  /** Append a log line (fenced with `lockToken` when given). */
  async addLog(
    queueName: string,
    jobId: string,
    line: string,
    lockToken?: string,
  ): Promise<boolean> {
    const db = this.#c.ready();
    const token = lockToken === undefined ? null : args.text(lockToken, "lockToken");
    return await finish.addLog(
      db,
      args.queueName(queueName),
      args.text(jobId, "jobId"),
      args.text(line, "line", true),
      token,
    );
  }

  // ── Queries ────────────────────────────────────────────────────────────────────────────────

  /** Jobs of the queue in `state` (all when omitted), by ascending `seq`. */
  async listJobs(queueName: string, state?: JobState, opts?: ListOptions): Promise<JobData[]> {
    const db = this.#c.ready();
    const q = args.queueName(queueName);
    const s = args.state(state, true) ?? null;
    const offset = opts?.offset === undefined ? 0 : args.int(opts.offset, "offset", 0);
    const limit = opts?.limit === undefined ? 100 : args.int(opts.limit, "limit", 0);
    return await queries.listJobs(db, q, s, offset, limit);
  }

  /** Number of jobs of the queue in `state` (all when omitted). */
  async countJobs(queueName: string, state?: JobState): Promise<number> {
    const db = this.#c.ready();
    return await queries.countJobs(db, args.queueName(queueName), args.state(state, true) ?? null);
  }

  /** Number of active jobs of the queue. */
  async getActiveCount(queueName: string): Promise<number> {
    return await this.countJobs(queueName, "active");
  }

  // ── Delayed jobs ───────────────────────────────────────────────────────────────────────────

  /** Earliest `delayUntil` of the queue's delayed jobs, or `null`. */
  async getNextDelayedTimestamp(queueName: string): Promise<number | null> {
    const db = this.#c.ready();
    return await queries.nextDelayed(db, args.queueName(queueName));
  }

  /** Move delayed jobs due by `timestamp` (default: the database clock) to waiting. */
  async promoteDelayedJobs(queueName: string, timestamp?: number): Promise<number> {
    const db = this.#c.ready();
    const q = args.queueName(queueName);
    const ts = timestamp === undefined ? null : args.ms(timestamp, "timestamp", -Infinity);
    return this.#deliver(await upkeep.promote(db, q, ts)).count;
  }

  // ── Pause / resume ─────────────────────────────────────────────────────────────────────────

  /** Stop claims of `jobName` (`"*"`: the whole queue), in every process. */
  async pauseJobName(queueName: string, jobName: string): Promise<void> {
    const db = this.#c.ready();
    const q = args.queueName(queueName);
    this.#c.deliver(await upkeep.setPaused(db, q, args.id(jobName, "jobName"), true));
  }

  /** Undo `pauseJobName`. */
  async resumeJobName(queueName: string, jobName: string): Promise<void> {
    const db = this.#c.ready();
    const q = args.queueName(queueName);
    this.#c.deliver(await upkeep.setPaused(db, q, args.id(jobName, "jobName"), false));
  }

  /** Paused job names of the queue (with `"*"` when the queue is paused). */
  async getPausedJobNames(queueName: string): Promise<string[]> {
    const db = this.#c.ready();
    return await queries.pausedNames(db, args.queueName(queueName));
  }

  // ── Stalled jobs ───────────────────────────────────────────────────────────────────────────

  /** Active jobs whose lease expired on the database clock. */
  async getStalledJobs(queueName: string): Promise<JobData[]> {
    const db = this.#c.ready();
    return await queries.stalled(db, args.queueName(queueName));
  }

  /** Recover (or fail, past `maxStalledCount`) every stalled job, in one transaction. */
  async recoverStalledJobs(queueName: string, maxStalledCount: number): Promise<StalledRecovery> {
    this.#c.ready();
    const q = args.queueName(queueName);
    const max = args.int(maxStalledCount, "maxStalledCount", 0);
    const { recovered, failed } = this.#deliver(
      await upkeep.recoverStalled(this.#c.transact, q, max),
    );
    return { recovered, failed };
  }

  // ── Cleanup ────────────────────────────────────────────────────────────────────────────────

  /** Remove up to `limit` jobs in `state` finished (or added) more than `grace` ms ago. */
  async clean(
    queueName: string,
    state: JobState,
    grace: number,
    limit?: number,
  ): Promise<string[]> {
    const db = this.#c.ready();
    const q = args.queueName(queueName);
    const s = args.state(state, false) as JobState;
    const g = args.ms(grace, "grace");
    const n = limit === undefined ? null : args.int(limit, "limit", 0);
    return this.#deliver(await upkeep.clean(db, q, s, g, n)).ids;
  }

  /** Remove the queue's waiting jobs (and delayed ones unless `delayed` is `false`). */
  async drain(queueName: string, delayed?: boolean): Promise<number> {
    const db = this.#c.ready();
    const q = args.queueName(queueName);
    if (delayed !== undefined && typeof delayed !== "boolean") {
      throw new TypeError(`delayed must be a boolean, got ${String(delayed)}`);
    }
    return this.#deliver(await upkeep.drain(db, q, delayed ?? true)).removed;
  }

  // ── Events ─────────────────────────────────────────────────────────────────────────────────

  /** Receive the queue's events, from this store and (over LISTEN) from every other process. */
  subscribe(queueName: string, listener: StoreEventListener): void {
    if (this.#c.closed) throw new StoreClosedError("PgStore");
    if (typeof listener !== "function") {
      throw new TypeError(`listener must be a function, got ${typeof listener}`);
    }
    this.#c.hub.subscribe(args.queueName(queueName), listener);
  }

  /** Stop one listener, or every listener of the queue when `listener` is omitted. */
  unsubscribe(queueName: string, listener?: StoreEventListener): void {
    this.#c.hub.unsubscribe(queueName, listener);
  }

  /** Publish an event to subscribers here and, over NOTIFY, in every other process. */
  async publish(event: StoreEvent): Promise<void> {
    this.#c.ready();
    await this.#c.publish(args.event(event));
  }

  // ── Flows ──────────────────────────────────────────────────────────────────────────────────

  /** Save a flow tree all-or-nothing, in one transaction. */
  async saveFlow(jobs: FlowJobRecord[]): Promise<SaveResult[]> {
    return await saveTree(this.#c.saving(), jobs);
  }

  /** Count child `childId` as done for its parent, once; `true` when it released the parent. */
  async notifyChildCompleted(
    parentQueueName: string,
    parentId: string,
    childId: string,
  ): Promise<boolean> {
    const db = this.#c.ready();
    const q = args.queueName(parentQueueName);
    const p = args.text(parentId, "parentId");
    const c = args.text(childId, "childId");
    return this.#deliver(await flows.notifyChildCompleted(db, q, p, c)).released;
  }

  /** Apply the parent's failure policy for failed child `childId`, once. */
  async failParentOnChildFailure(
    parentQueueName: string,
    parentId: string,
    childId: string,
    failedReason: string,
  ): Promise<void> {
    this.#c.ready();
    const q = args.queueName(parentQueueName);
    const p = args.text(parentId, "parentId");
    const c = args.text(childId, "childId");
    const reason = args.text(failedReason, "failedReason", true);
    const events = await this.#c.transact((tx) =>
      flows.failParentOnChildFailure(tx, q, p, c, reason)
    );
    this.#c.deliver(events);
  }

  /** Direct children of a parent, across queues, by ascending `seq`. */
  async getChildrenJobs(parentQueueName: string, parentId: string): Promise<JobData[]> {
    const db = this.#c.ready();
    return await queries.children(
      db,
      args.queueName(parentQueueName),
      args.text(parentId, "parentId"),
    );
  }

  // ── Deduplication and groups ───────────────────────────────────────────────────────────────

  /** The live job holding deduplication `key` in the queue, or `null`. */
  async findByDeduplicationKey(queueName: string, key: string): Promise<JobData | null> {
    const db = this.#c.ready();
    return await queries.byDedupKey(db, args.queueName(queueName), args.text(key, "key"));
  }

  /** Active jobs of a group. */
  async getGroupActiveCount(queueName: string, groupId: string): Promise<number> {
    const db = this.#c.ready();
    const q = args.queueName(queueName);
    return await queries.groupCount(db, q, args.text(groupId, "groupId"), "active");
  }

  /** Waiting jobs of a group. */
  async getWaitingGroupCount(queueName: string, groupId: string): Promise<number> {
    const db = this.#c.ready();
    const q = args.queueName(queueName);
    return await queries.groupCount(db, q, args.text(groupId, "groupId"), "waiting");
  }
}
