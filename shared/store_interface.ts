/**
 * `StoreInterface`: the contract between Conveyor's core and a storage backend.
 *
 * Every method the architecture lists is here under that name; the additions Conveyor needs for
 * correctness and speed (batch claim, lease-fenced finish, stalled recovery, logs) are marked
 * "Addition" and covered by the conformance suite like the rest.
 *
 * @module
 */

import type {
  FlowJobRecord,
  JobData,
  JobState,
  JobUpdate,
  NewJob,
  SaveResult,
  StoreEvent,
} from "./types.ts";

/**
 * Version of the store contract described here. A store reports the version it meets in
 * {@linkcode StoreInterface.contractVersion}; the conformance suite checks it.
 */
export const STORE_CONTRACT_VERSION = 1;

/** Job name that stands for every job name in `pauseJobName`/`resumeJobName`: pauses the queue. */
export const ALL_JOB_NAMES = "*";

/** Limits a claim must respect, checked atomically with the claim itself. */
export interface FetchOptions {
  /**
   * Jobs of one group (`opts.groupId`) that may be active at once across all workers.
   * @default unlimited
   */
  groupConcurrency?: number;
  /**
   * Jobs of the queue that may be active at once across all workers.
   * @default unlimited
   */
  maxGlobalConcurrency?: number;
  /**
   * Sliding-window rate limit across all workers: at most `max` claims per `duration` ms.
   * @default unlimited
   */
  rateLimit?: { max: number; duration: number };
  /**
   * The caller is a worker that fetches again, with the same worker id, when the store's
   * `waiting` event wakes it. A store may then note an empty fetch as an offer: the next job
   * added to the queue is leased to this worker as it is inserted, its `waiting` event wakes
   * the worker, and that next fetch returns it without claiming. A job left untaken goes back
   * to waiting. Stores without hand-off ignore this; limited fetches never make offers.
   * @default false
   */
  handoff?: boolean;
}

/** How a worker's attempt failed, for {@linkcode StoreInterface.failJob}. */
export interface JobFailure {
  /** Error message. */
  failedReason: string;
  /** Stack trace of this attempt, if any. */
  stacktrace?: string | null;
  /**
   * Retry after this many milliseconds (0 = at once); `null` fails the job for good.
   */
  retryDelay: number | null;
}

/** Options for {@linkcode StoreInterface.listJobs}. */
export interface ListOptions {
  /**
   * Skip this many jobs.
   * @default 0
   */
  offset?: number;
  /**
   * Return at most this many jobs.
   * @default 100
   */
  limit?: number;
}

/** What {@linkcode StoreInterface.recoverStalledJobs} did. */
export interface StalledRecovery {
  /** Jobs put back to waiting. */
  recovered: string[];
  /** Jobs failed because they stalled more than the allowed number of times. */
  failed: string[];
}

/** Receives store events for one queue. */
export type StoreEventListener = (event: StoreEvent) => void;

/**
 * The storage contract. All methods are async; a store rejects with `StoreClosedError` after
 * `disconnect()`.
 *
 * Guarantees (each is a conformance case):
 * 1. `fetchNextJob(s)` selects and leases in one atomic step; no job is leased twice at once.
 * 2. Leases are fenced: every change a worker makes presents the `lockToken` it was given, and
 *    is refused (returns `false`) once that lease is gone.
 * 3. Stalled jobs (expired leases) are recovered or failed; nothing is lost.
 * 4. Flows are exact: `saveFlow` is all-or-nothing and each child is counted once.
 * 5. Deduplication (job id and key) is race-free and reported.
 * 6. Pauses are stored and obeyed by every claim.
 * 7. Times come from the store's clock.
 * 8. Stores return isolated copies of jobs.
 */
export interface StoreInterface {
  /** The {@linkcode STORE_CONTRACT_VERSION} this store meets. */
  readonly contractVersion: number;

  // ── Lifecycle ──────────────────────────────────────────────────────────────────────────────

  /** Open connections / prepare the schema. Idempotent. */
  connect(): Promise<void>;
  /** Close connections and stop timers. Later calls reject with `StoreClosedError`. */
  disconnect(): Promise<void>;

  // ── CRUD ───────────────────────────────────────────────────────────────────────────────────

  /**
   * Save a new job. The store assigns `seq` and `createdAt`; the job starts `delayed` when
   * `opts.delay > 0` (due at store-now + delay), `waiting-children` when
   * `pendingChildrenCount > 0`, else `waiting`.
   *
   * Atomically reports a duplicate (and saves nothing) when the queue holds a job with the same
   * id, or a live job holding the same `deduplicationKey` (until it finishes, or until
   * `opts.deduplication.ttl` ms after its add when a ttl is set).
   *
   * Rejects with a `TypeError`, saving nothing, when `job.data` is not JSON as
   * `assertJsonValue` defines it (`saveBulk` and `saveFlow` likewise, for every job). Core's
   * common add path leaves this check to the store and checks the payload itself only after a
   * refusal, to name the add in its message.
   */
  saveJob(queueName: string, job: NewJob): Promise<SaveResult>;
  /** Save many jobs in one atomic step; results are in input order. Duplicates as in `saveJob`. */
  saveBulk(queueName: string, jobs: NewJob[]): Promise<SaveResult[]>;
  /** Read one job, or `null`. */
  getJob(queueName: string, jobId: string): Promise<JobData | null>;
  /**
   * Change a job's payload or progress. With `lockToken`, the change is fenced: it applies only
   * while that lease is held. Publishes `progress` when progress changes.
   * @returns `false` when the job does not exist or the fence refused the change
   */
  updateJob(
    queueName: string,
    jobId: string,
    update: JobUpdate,
    lockToken?: string,
  ): Promise<boolean>;
  /**
   * Remove a job and release its deduplication key. An active job cannot be removed
   * (`InvalidJobStateError`). Removing a flow parent also removes its unfinished descendants
   * that are not active; removing a pending flow child counts it as done for its parent.
   * @returns `false` when there was no such job
   */
  removeJob(queueName: string, jobId: string): Promise<boolean>;

  // ── Fetching ───────────────────────────────────────────────────────────────────────────────

  /**
   * Atomically claim the next waiting job: highest priority (lowest number) first, then
   * LIFO jobs newest first, then FIFO jobs oldest first; skipping paused job names and respecting
   * `opts`. Sets `active`, `lockedBy = workerId`, a fresh `lockToken`, `lockUntil = now +
   * lockDuration`, `processedAt`, and increments `attemptsStarted`.
   * @returns the claimed job, or `null` when none is available
   */
  fetchNextJob(
    queueName: string,
    workerId: string,
    lockDuration: number,
    opts?: FetchOptions,
  ): Promise<JobData | null>;
  /** Addition: claim up to `count` jobs in one atomic step, in the order of `fetchNextJob`. */
  fetchNextJobs(
    queueName: string,
    workerId: string,
    lockDuration: number,
    count: number,
    opts?: FetchOptions,
  ): Promise<JobData[]>;

  // ── Locking ────────────────────────────────────────────────────────────────────────────────

  /**
   * Extend a lease to now + `duration` if `lockToken` still holds it.
   * @returns `false` when the lease was lost
   */
  extendLock(
    queueName: string,
    jobId: string,
    lockToken: string,
    duration: number,
  ): Promise<boolean>;
  /**
   * Give a leased job back: it returns to `waiting` without counting a finished attempt
   * (used when a worker closes before a job finished).
   * @returns `false` when the lease was lost
   */
  releaseLock(queueName: string, jobId: string, lockToken: string): Promise<boolean>;

  // ── Finishing (additions) ──────────────────────────────────────────────────────────────────

  /**
   * Addition: complete a leased job in one atomic step: state, return value, `attemptsMade`,
   * lease release, removal when `removeOnComplete` says so, and the flow parent's count
   * (the child is counted exactly once; the parent becomes `waiting` when its count reaches 0).
   * Publishes `completed`.
   * @returns `false` when the lease was lost (nothing changed)
   */
  completeJob(
    queueName: string,
    jobId: string,
    lockToken: string,
    returnValue: unknown,
  ): Promise<boolean>;
  /**
   * Addition: fail a leased attempt in one atomic step. With `retryDelay`, the job goes back to
   * `waiting` (or `delayed`) with `attemptsMade` incremented; with `null` it fails for good,
   * is removed when `removeOnFail` says so, and its flow parent's policy is applied.
   * @returns `false` when the lease was lost (nothing changed)
   */
  failJob(
    queueName: string,
    jobId: string,
    lockToken: string,
    failure: JobFailure,
  ): Promise<boolean>;
  /** Addition: append a log line to a job (fenced with `lockToken` when given). */
  addLog(queueName: string, jobId: string, line: string, lockToken?: string): Promise<boolean>;

  // ── Queries ────────────────────────────────────────────────────────────────────────────────

  /** Jobs of the queue in `state` (all states when omitted), by ascending `seq`. */
  listJobs(queueName: string, state?: JobState, opts?: ListOptions): Promise<JobData[]>;
  /** Number of jobs of the queue in `state` (all when omitted). */
  countJobs(queueName: string, state?: JobState): Promise<number>;
  /** Number of active jobs of the queue. */
  getActiveCount(queueName: string): Promise<number>;

  // ── Delayed jobs ───────────────────────────────────────────────────────────────────────────

  /** Earliest `delayUntil` of the queue's delayed jobs, or `null` when there are none. */
  getNextDelayedTimestamp(queueName: string): Promise<number | null>;
  /**
   * Move delayed jobs due at or before `timestamp` (default: the store's clock) to `waiting`.
   * Publishes `waiting`.
   * @returns how many jobs were promoted
   */
  promoteDelayedJobs(queueName: string, timestamp?: number): Promise<number>;

  // ── Pause / resume ─────────────────────────────────────────────────────────────────────────

  /** Stop claims of jobs named `jobName` ({@linkcode ALL_JOB_NAMES} pauses the whole queue). */
  pauseJobName(queueName: string, jobName: string): Promise<void>;
  /** Undo `pauseJobName`. Publishes `resumed`. */
  resumeJobName(queueName: string, jobName: string): Promise<void>;
  /** Paused job names of the queue (including {@linkcode ALL_JOB_NAMES} when the queue is paused). */
  getPausedJobNames(queueName: string): Promise<string[]>;

  // ── Stalled jobs ───────────────────────────────────────────────────────────────────────────

  /** Active jobs whose lease expired (store clock). */
  getStalledJobs(queueName: string): Promise<JobData[]>;
  /**
   * Addition: atomically handle every stalled job: `stalledCount` is incremented, then the job
   * goes back to `waiting`, or fails for good (flow policy applied) when `stalledCount` exceeds
   * `maxStalledCount`. Publishes `stalled` for each.
   */
  recoverStalledJobs(queueName: string, maxStalledCount: number): Promise<StalledRecovery>;

  // ── Cleanup ────────────────────────────────────────────────────────────────────────────────

  /**
   * Remove up to `limit` jobs in `state` that finished (completed/failed) or were added (other
   * states) more than `grace` ms ago. Active jobs are never cleaned.
   * @returns ids of the removed jobs
   */
  clean(queueName: string, state: JobState, grace: number, limit?: number): Promise<string[]>;
  /**
   * Remove all waiting jobs of the queue, and delayed ones too unless `delayed` is `false`.
   * @returns how many jobs were removed
   */
  drain(queueName: string, delayed?: boolean): Promise<number>;

  // ── Events ─────────────────────────────────────────────────────────────────────────────────

  /** Receive the queue's events (from this process and, where the store can, from others). */
  subscribe(queueName: string, listener: StoreEventListener): void;
  /** Stop one listener, or every listener of the queue when `listener` is omitted. */
  unsubscribe(queueName: string, listener?: StoreEventListener): void;
  /** Publish an event to every subscriber of its queue. */
  publish(event: StoreEvent): Promise<void>;

  // ── Flows ──────────────────────────────────────────────────────────────────────────────────

  /**
   * Save one flow tree (jobs in any queues of this store) all-or-nothing, in any input order.
   * Children name their parent with `parentId`/`parentQueueName`; a parent's
   * `pendingChildrenCount` must equal its number of direct children in the list. Exactly one
   * record (the root) has no parent inside the list; it may name an existing parent outside it.
   *
   * When the root is a duplicate (its job id or deduplication key is held), nothing is saved
   * and every result is `{ id, duplicate: true }` (the root's result carries the existing id).
   * Any other problem (an id twice in the list, a non-root id or key already held, a wrong
   * `pendingChildrenCount`, a parent missing) rejects with `FlowError` and saves nothing.
   * Results are in input order.
   */
  saveFlow(jobs: FlowJobRecord[]): Promise<SaveResult[]>;
  /**
   * Count child `childId` as done for its parent, once: a repeated call for the same child is a
   * no-op. When the parent's count reaches 0 it becomes `waiting` (publishes `waiting`).
   * `completeJob` does this itself, atomically; this method exists for repair and for stores
   * composed from smaller steps.
   * @returns `true` when this call released the parent
   */
  notifyChildCompleted(
    parentQueueName: string,
    parentId: string,
    childId: string,
  ): Promise<boolean>;
  /**
   * Apply the parent's `failParentOnChildFailure` policy for failed child `childId`, once:
   * `fail` fails the parent (and recursively its own parent's policy), `ignore` counts the child
   * as done, `remove` removes the parent (and its parent's policy applies in turn).
   * `failJob` does this itself, atomically.
   */
  failParentOnChildFailure(
    parentQueueName: string,
    parentId: string,
    childId: string,
    failedReason: string,
  ): Promise<void>;
  /** Direct children of a parent, across queues, by ascending `seq`. */
  getChildrenJobs(parentQueueName: string, parentId: string): Promise<JobData[]>;

  // ── Deduplication ──────────────────────────────────────────────────────────────────────────

  /** The live job holding `key` in the queue, or `null`. */
  findByDeduplicationKey(queueName: string, key: string): Promise<JobData | null>;

  // ── Groups ─────────────────────────────────────────────────────────────────────────────────

  /** Active jobs of a group. */
  getGroupActiveCount(queueName: string, groupId: string): Promise<number>;
  /** Waiting jobs of a group. */
  getWaitingGroupCount(queueName: string, groupId: string): Promise<number>;
}

// ── Optional capability: transactional enqueue ───────────────────────────────────────────────

/**
 * The saving side of a store, bound to one caller transaction: what
 * {@linkcode TransactionalStore.withTransaction} returns. Each method behaves as the
 * {@linkcode StoreInterface} method of the same name (same checks, same duplicate reports, same
 * result order), except that what it saves, and the events of those saves, exist only if the
 * caller's transaction commits. Use a scope only while its transaction is open.
 */
export interface TransactionScope {
  /** {@linkcode StoreInterface.saveJob} inside the transaction. */
  saveJob(queueName: string, job: NewJob): Promise<SaveResult>;
  /** {@linkcode StoreInterface.saveBulk} inside the transaction. */
  saveBulk(queueName: string, jobs: NewJob[]): Promise<SaveResult[]>;
  /**
   * {@linkcode StoreInterface.saveFlow} inside the transaction, still all-or-nothing. A store
   * should run it so that a refused flow leaves the caller's transaction usable (e.g. in a
   * savepoint).
   */
  saveFlow(jobs: FlowJobRecord[]): Promise<SaveResult[]>;
  /**
   * Read a job as the transaction sees it (its own uncommitted jobs included). Optional; when a
   * store offers it, core uses it to read back the job that a duplicate add ran into.
   */
  getJob?(queueName: string, jobId: string): Promise<JobData | null>;
}

/**
 * Optional capability: save jobs inside the caller's own database transaction, so that a job is
 * enqueued if and only if the caller's other writes commit (the "transactional outbox" without an
 * outbox). Core's `queue.add(..., { transaction })`, `queue.addBulk(jobs, { transaction })` and
 * `flowProducer.add(flow, { transaction })` use it; test for it with
 * {@linkcode supportsTransactions}.
 *
 * A store offering it must guarantee:
 * 1. Jobs saved through the scope exist (for every reader outside the transaction, workers
 *    included) only once the caller's transaction commits; a rollback leaves no trace of them.
 * 2. Their events (`waiting`, `delayed`, `waiting-children`, …), wake-ups included, are
 *    delivered only after the commit, to every subscriber (this process's included), and never
 *    after a rollback.
 * 3. Deduplication (job id and key) is as race-free as for the store's own saves.
 *
 * The transaction handle is backend-specific (e.g. for `PgStore`, the postgres.js `tx` of
 * `sql.begin(async (tx) => ...)`); a store rejects a handle it cannot use with a `TypeError`.
 */
export interface TransactionalStore {
  /**
   * Bind the store's saving methods to the caller's open transaction `tx`.
   * @param tx the backend's transaction handle
   * @returns a scope to save through while `tx` is open
   */
  withTransaction(tx: unknown): TransactionScope;
}

/**
 * Whether `store` offers the optional {@linkcode TransactionalStore} capability.
 *
 * @example
 * ```ts
 * import { type StoreInterface, supportsTransactions } from "@conveyor/shared";
 * function enqueueMode(store: StoreInterface): string {
 *   return supportsTransactions(store) ? "inside the caller's transaction" : "at once only";
 * }
 * ```
 */
export function supportsTransactions<S extends StoreInterface>(
  store: S,
): store is S & TransactionalStore {
  return typeof (store as Partial<TransactionalStore>).withTransaction === "function";
}
