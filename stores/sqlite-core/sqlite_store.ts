/**
 * `SqliteStore`: Conveyor's {@linkcode StoreInterface} on SQLite, over a small driver port.
 *
 * @module
 */

import {
  ALL_JOB_NAMES,
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
  type StoreEvent,
  type StoreEventListener,
  type StoreInterface,
  validateJobName,
  validateQueueName,
} from "@conveyor/shared";
import { claim } from "./_claim.ts";
import { Connection } from "./_connection.ts";
import * as finish from "./_finish.ts";
import { checkFlow, childDone, childFailed, saveFlow } from "./_flows.ts";
import * as jobs from "./_jobs.ts";
import { clean, drain, promote, recoverStalled } from "./_maintenance.ts";
import * as queries from "./_queries.ts";
import { type JobRow, toJob } from "./_rows.ts";
import * as v from "./_validate.ts";
import { resolveOptions, type SqliteCoreOptions } from "./options.ts";

const one = (rows: JobRow[]): JobData[] => rows.map(toJob);

/**
 * Conveyor's SQLite store: for one host, with any number of processes sharing one file.
 *
 * Every change runs in one `BEGIN IMMEDIATE` transaction (claims of many jobs included), in WAL
 * mode with `synchronous=NORMAL`; order comes from the table's AUTOINCREMENT key; leases are
 * fenced by a fresh token per claim and judged by this host's clock. Events reach in-process
 * listeners at once and other processes by polling (`pollInterval`).
 *
 * Use it through a runtime adapter (`@conveyor/store-sqlite-node`, `-deno`, `-bun`), or give it
 * any driver that fits {@linkcode SqliteDriver}.
 *
 * @example
 * ```ts
 * import { DatabaseSync } from "node:sqlite";
 * import { SqliteStore } from "@conveyor/store-sqlite-core";
 *
 * const store = new SqliteStore({
 *   open() {
 *     const db = new DatabaseSync(":memory:");
 *     return {
 *       exec: (sql) => db.exec(sql),
 *       prepare: (sql) => {
 *         const s = db.prepare(sql);
 *         return {
 *           run: (...p) => s.run(...p),
 *           get: (...p) => s.get(...p) as never,
 *           all: (...p) => s.all(...p) as never,
 *         };
 *       },
 *       close: () => db.close(),
 *     };
 *   },
 * });
 * await store.connect();
 * await store.saveJob("emails", { id: "1", name: "send", data: { to: "a@example.com" }, opts: {} });
 * const job = await store.fetchNextJob("emails", "worker-1", 30_000);
 * if (job) await store.completeJob("emails", job.id, job.lockToken!, { sent: true });
 * console.log(await store.countJobs("emails", "completed")); // 1
 * await store.disconnect();
 * ```
 */
export class SqliteStore implements StoreInterface {
  /** The store contract version this store meets. */
  readonly contractVersion: number = STORE_CONTRACT_VERSION;
  /** Prefix of the store's table names. */
  readonly tablePrefix: string;
  #c: Connection;

  /**
   * Create the store; nothing opens before `connect()`.
   * @param options the driver and settings
   * @throws {TypeError | RangeError} for a missing driver or a bad setting
   */
  constructor(options: SqliteCoreOptions) {
    const settings = resolveOptions(options);
    this.tablePrefix = settings.prefix;
    this.#c = new Connection(settings);
  }

  /** Check the store is open and the queue name valid. */
  #q(queueName: string): void {
    this.#c.db();
    validateQueueName(queueName);
  }

  // ── Lifecycle ──────────────────────────────────────────────────────────────────────────────

  /**
   * Open the database (WAL, `synchronous=NORMAL`, busy timeout) and apply missing migrations.
   * Idempotent.
   * @throws {SchemaVersionError} when the file's schema is newer than this store knows
   */
  connect(): Promise<void> {
    return this.#c.connect();
  }

  /** Close the database and stop polling. Later calls reject with `StoreClosedError`. */
  disconnect(): Promise<void> {
    return this.#c.close();
  }

  // ── CRUD ───────────────────────────────────────────────────────────────────────────────────

  /** Save a new job, or report a duplicate id or deduplication key. Publishes its state. */
  saveJob(queueName: string, job: NewJob): Promise<SaveResult> {
    return this.#save(queueName, [job], "saveJob").then((r) => r[0]);
  }

  /** Save many jobs in one transaction; results in input order. */
  saveBulk(queueName: string, list: NewJob[]): Promise<SaveResult[]> {
    if (!Array.isArray(list)) {
      return Promise.reject(
        new TypeError(`saveBulk: jobs must be an array, got ${typeof list}`),
      );
    }
    return this.#save(queueName, list, "saveBulk: jobs");
  }

  async #save(queueName: string, list: unknown[], where: string): Promise<SaveResult[]> {
    this.#q(queueName);
    const checked = list.map((j, i) =>
      v.checkNewJob(j, list.length === 1 ? where : `${where}[${i}]`)
    );
    return await this.#c.write((tx) => {
      const moved: jobs.Moved[] = [];
      const results = checked.map((c) => jobs.saveOne(tx, queueName, c, moved));
      jobs.emitMoved(tx, moved);
      return results;
    });
  }

  /** Read one job, or `null`. */
  async getJob(queueName: string, jobId: string): Promise<JobData | null> {
    this.#q(queueName);
    v.checkId(jobId, "jobId");
    const row = await this.#c.read((db) => queries.findJob(db, queueName, jobId));
    return row ? toJob(row) : null;
  }

  /** Replace a job's payload or progress; fenced by `lockToken` when given. */
  async updateJob(
    queueName: string,
    jobId: string,
    update: JobUpdate,
    lockToken?: string,
  ): Promise<boolean> {
    this.#target(queueName, jobId, lockToken);
    const change = v.checkUpdate(update);
    return await this.#c.write((tx) => jobs.updateJob(tx, queueName, jobId, change, lockToken));
  }

  /** Remove a job (not an active one) with its unfinished, non-active descendants. */
  async removeJob(queueName: string, jobId: string): Promise<boolean> {
    this.#target(queueName, jobId, undefined);
    return await this.#c.write((tx) => {
      const row = tx.db.get<finish.Brief>(
        `SELECT ${finish.BRIEF} FROM {jobs} WHERE queue = ? AND id = ?`,
        queueName,
        jobId,
      );
      if (!row) return false;
      if (row.state === "active") {
        throw new InvalidJobStateError(
          `Cannot remove job "${jobId}" in queue "${queueName}": it is active (a worker holds it)`,
        );
      }
      finish.remove(tx, row, true, true);
      return true;
    });
  }

  #target(queueName: string, jobId: string, lockToken: string | undefined): void {
    this.#q(queueName);
    v.checkId(jobId, "jobId");
    if (lockToken !== undefined) v.checkToken(lockToken, "lockToken");
  }

  // ── Fetching ───────────────────────────────────────────────────────────────────────────────

  /** Claim the next waiting job in one transaction, or `null`. */
  async fetchNextJob(
    queueName: string,
    workerId: string,
    lockDuration: number,
    opts?: FetchOptions,
  ): Promise<JobData | null> {
    const [job] = await this.fetchNextJobs(queueName, workerId, lockDuration, 1, opts);
    return job ?? null;
  }

  /** Claim up to `count` waiting jobs in one `BEGIN IMMEDIATE` transaction, in claim order. */
  async fetchNextJobs(
    queueName: string,
    workerId: string,
    lockDuration: number,
    count: number,
    opts?: FetchOptions,
  ): Promise<JobData[]> {
    this.#q(queueName);
    v.checkToken(workerId, "workerId");
    v.checkMs(lockDuration, "lockDuration", 1);
    v.checkInt(count, "count", 0);
    const o = v.checkFetchOptions(opts);
    if (count === 0) return [];
    return one(
      await this.#c.write((tx) => claim(tx, queueName, workerId, lockDuration, count, o)),
    );
  }

  // ── Locking ────────────────────────────────────────────────────────────────────────────────

  /** Extend a lease to now + `duration` while `lockToken` holds it. */
  async extendLock(
    queueName: string,
    jobId: string,
    lockToken: string,
    duration: number,
  ): Promise<boolean> {
    this.#target(queueName, jobId, lockToken);
    v.checkMs(duration, "duration", 1);
    return await this.#c.write((tx) =>
      finish.extendLock(tx, queueName, jobId, lockToken, duration)
    );
  }

  /** Give a leased job back to `waiting` without counting a finished attempt. */
  async releaseLock(queueName: string, jobId: string, lockToken: string): Promise<boolean> {
    this.#target(queueName, jobId, lockToken);
    return await this.#c.write((tx) => finish.releaseLock(tx, queueName, jobId, lockToken));
  }

  // ── Finishing ──────────────────────────────────────────────────────────────────────────────

  /** Complete a leased job in one transaction (flow parent and `removeOnComplete` included). */
  async completeJob(
    queueName: string,
    jobId: string,
    lockToken: string,
    returnValue: unknown,
  ): Promise<boolean> {
    this.#target(queueName, jobId, lockToken);
    const value = v.checkReturnValue(returnValue);
    return await this.#c.write((tx) => finish.completeJob(tx, queueName, jobId, lockToken, value));
  }

  /** Fail a leased attempt in one transaction: retry (waiting or delayed) or fail for good. */
  async failJob(
    queueName: string,
    jobId: string,
    lockToken: string,
    failure: JobFailure,
  ): Promise<boolean> {
    this.#target(queueName, jobId, lockToken);
    const f = v.checkFailure(failure);
    return await this.#c.write((tx) =>
      finish.failJob(
        tx,
        queueName,
        jobId,
        lockToken,
        f.failedReason,
        f.stacktrace ?? null,
        f.retryDelay,
      )
    );
  }

  /** Append a log line to a job; fenced by `lockToken` when given. */
  async addLog(
    queueName: string,
    jobId: string,
    line: string,
    lockToken?: string,
  ): Promise<boolean> {
    this.#target(queueName, jobId, lockToken);
    if (typeof line !== "string") {
      throw new TypeError(`log line must be a string, got ${typeof line}`);
    }
    return await this.#c.write((tx) => jobs.addLog(tx, queueName, jobId, line, lockToken));
  }

  // ── Queries ────────────────────────────────────────────────────────────────────────────────

  /** Jobs of the queue (in `state` when given), by ascending `seq`. */
  async listJobs(queueName: string, state?: JobState, opts?: ListOptions): Promise<JobData[]> {
    this.#q(queueName);
    const s = v.checkState(state, true);
    if (opts !== undefined && (typeof opts !== "object" || opts === null)) {
      throw new TypeError(`list options must be an object, got ${String(opts)}`);
    }
    const offset = opts?.offset === undefined ? 0 : v.checkInt(opts.offset, "offset", 0);
    const limit = opts?.limit === undefined ? 100 : v.checkInt(opts.limit, "limit", 0);
    return one(await this.#c.read((db) => queries.listJobs(db, queueName, s, offset, limit)));
  }

  /** Number of jobs of the queue in `state` (all when omitted). */
  async countJobs(queueName: string, state?: JobState): Promise<number> {
    this.#q(queueName);
    const s = v.checkState(state, true);
    return await this.#c.read((db) => queries.countJobs(db, queueName, s));
  }

  /** Number of active jobs of the queue. */
  getActiveCount(queueName: string): Promise<number> {
    return this.countJobs(queueName, "active");
  }

  // ── Delayed jobs ───────────────────────────────────────────────────────────────────────────

  /** Earliest due time of the queue's delayed jobs, or `null`. */
  async getNextDelayedTimestamp(queueName: string): Promise<number | null> {
    this.#q(queueName);
    return await this.#c.read((db) => queries.nextDelayed(db, queueName));
  }

  /** Move delayed jobs due at or before `timestamp` (default: now) to waiting. */
  async promoteDelayedJobs(queueName: string, timestamp?: number): Promise<number> {
    this.#q(queueName);
    if (timestamp !== undefined) v.checkMs(timestamp, "timestamp", -Infinity);
    return await this.#c.write((tx) => promote(tx, queueName, timestamp ?? tx.now));
  }

  // ── Pause / resume ─────────────────────────────────────────────────────────────────────────

  #pauseArgs(queueName: string, jobName: string): void {
    this.#q(queueName);
    if (jobName !== ALL_JOB_NAMES) validateJobName(jobName);
  }

  /** Stop claims of jobs named `jobName` (`"*"`: the whole queue), in every process. */
  async pauseJobName(queueName: string, jobName: string): Promise<void> {
    this.#pauseArgs(queueName, jobName);
    await this.#c.write((tx) => {
      tx.db.run("INSERT OR IGNORE INTO {paused} (queue, name) VALUES (?, ?)", queueName, jobName);
      tx.emit({ type: "paused", queueName, jobName });
    });
  }

  /** Undo `pauseJobName`. Publishes `resumed`. */
  async resumeJobName(queueName: string, jobName: string): Promise<void> {
    this.#pauseArgs(queueName, jobName);
    await this.#c.write((tx) => {
      tx.db.run("DELETE FROM {paused} WHERE queue = ? AND name = ?", queueName, jobName);
      tx.emit({ type: "resumed", queueName, jobName });
    });
  }

  /** Paused job names of the queue, `"*"` included when the whole queue is paused. */
  async getPausedJobNames(queueName: string): Promise<string[]> {
    this.#q(queueName);
    return await this.#c.read((db) => queries.pausedNames(db, queueName));
  }

  // ── Stalled jobs ───────────────────────────────────────────────────────────────────────────

  /** Active jobs whose lease expired, by ascending `seq`. */
  async getStalledJobs(queueName: string): Promise<JobData[]> {
    this.#q(queueName);
    return one(await this.#c.read((db, now) => queries.stalledJobs(db, queueName, now)));
  }

  /** Put back (or fail, past `maxStalledCount`) every job whose lease expired, at once. */
  async recoverStalledJobs(queueName: string, maxStalledCount: number): Promise<StalledRecovery> {
    this.#q(queueName);
    v.checkInt(maxStalledCount, "maxStalledCount", 0);
    return await this.#c.write((tx) => recoverStalled(tx, queueName, maxStalledCount));
  }

  // ── Cleanup ────────────────────────────────────────────────────────────────────────────────

  /** Remove up to `limit` jobs in `state` older than `grace` ms (never active ones). */
  async clean(
    queueName: string,
    state: JobState,
    grace: number,
    limit?: number,
  ): Promise<string[]> {
    this.#q(queueName);
    const s = v.checkState(state, false) as JobState;
    v.checkMs(grace, "grace");
    const max = limit === undefined ? -1 : v.checkInt(limit, "limit", 0);
    if (max === 0) return [];
    return await this.#c.write((tx) => clean(tx, queueName, s, tx.now - grace, max));
  }

  /** Remove all waiting jobs, and delayed ones unless `delayed` is `false`. */
  async drain(queueName: string, delayed?: boolean): Promise<number> {
    this.#q(queueName);
    if (delayed !== undefined && typeof delayed !== "boolean") {
      throw new TypeError(`delayed must be a boolean, got ${typeof delayed}`);
    }
    return await this.#c.write((tx) => drain(tx, queueName, delayed !== false));
  }

  // ── Events ─────────────────────────────────────────────────────────────────────────────────

  /** Receive the queue's events: this process's at once, other processes' by polling. */
  subscribe(queueName: string, listener: StoreEventListener): void {
    this.#q(queueName);
    if (typeof listener !== "function") {
      throw new TypeError(`listener must be a function, got ${typeof listener}`);
    }
    this.#c.hub.subscribe(queueName, listener);
    this.#c.listenersChanged();
  }

  /** Stop one listener, or all of the queue's listeners. A no-op after `disconnect()`. */
  unsubscribe(queueName: string, listener?: StoreEventListener): void {
    if (this.#c.closed) return;
    validateQueueName(queueName);
    this.#c.hub.unsubscribe(queueName, listener);
    this.#c.listenersChanged();
  }

  /** Publish an event to the queue's subscribers in this and other processes. */
  async publish(event: StoreEvent): Promise<void> {
    this.#c.db();
    await this.#c.publish(v.checkEvent(event));
  }

  // ── Flows ──────────────────────────────────────────────────────────────────────────────────

  /** Save a flow tree all-or-nothing, in one transaction; see `StoreInterface.saveFlow`. */
  async saveFlow(records: FlowJobRecord[]): Promise<SaveResult[]> {
    this.#c.db();
    const { nodes, root } = checkFlow(records);
    return await this.#c.write((tx) => saveFlow(tx, nodes, root));
  }

  #flowArgs(parentQueueName: string, parentId: string, childId: string): void {
    this.#c.db();
    validateQueueName(parentQueueName);
    v.checkId(parentId, "parentId");
    v.checkId(childId, "childId");
  }

  /** Count child `childId` as done for its parent, once; `true` when that released the parent. */
  async notifyChildCompleted(
    parentQueueName: string,
    parentId: string,
    childId: string,
  ): Promise<boolean> {
    this.#flowArgs(parentQueueName, parentId, childId);
    return await this.#c.write((tx) => childDone(tx, parentQueueName, parentId, childId));
  }

  /** Apply the parent's failure policy for failed child `childId`, once, up the tree. */
  async failParentOnChildFailure(
    parentQueueName: string,
    parentId: string,
    childId: string,
    failedReason: string,
  ): Promise<void> {
    this.#flowArgs(parentQueueName, parentId, childId);
    if (typeof failedReason !== "string") {
      throw new TypeError(`failedReason must be a string, got ${typeof failedReason}`);
    }
    await this.#c.write((tx) => childFailed(tx, parentQueueName, parentId, childId, failedReason));
  }

  /** Direct children of a parent, across queues, by ascending `seq`. */
  async getChildrenJobs(parentQueueName: string, parentId: string): Promise<JobData[]> {
    this.#q(parentQueueName);
    v.checkId(parentId, "parentId");
    return one(await this.#c.read((db) => queries.childrenOf(db, parentQueueName, parentId)));
  }

  // ── Deduplication ──────────────────────────────────────────────────────────────────────────

  /** The live job holding deduplication `key` in the queue, or `null`. */
  async findByDeduplicationKey(queueName: string, key: string): Promise<JobData | null> {
    this.#q(queueName);
    v.checkId(key, "key");
    const row = await this.#c.read((db, now) => queries.dedupJob(db, queueName, key, now));
    return row ? toJob(row) : null;
  }

  // ── Groups ─────────────────────────────────────────────────────────────────────────────────

  async #groupCount(queueName: string, groupId: string, state: JobState): Promise<number> {
    this.#q(queueName);
    v.checkId(groupId, "groupId");
    return await this.#c.read((db) => queries.groupCount(db, queueName, groupId, state));
  }

  /** Active jobs of a group. */
  getGroupActiveCount(queueName: string, groupId: string): Promise<number> {
    return this.#groupCount(queueName, groupId, "active");
  }

  /** Waiting jobs of a group. */
  getWaitingGroupCount(queueName: string, groupId: string): Promise<number> {
    return this.#groupCount(queueName, groupId, "waiting");
  }
}
