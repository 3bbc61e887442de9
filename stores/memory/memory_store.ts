/**
 * `MemoryStore`: the in-process implementation of Conveyor's {@linkcode StoreInterface}.
 *
 * @module
 */

import {
  ALL_JOB_NAMES,
  checkEvent,
  checkFetchOptions,
  checkId,
  checkInt,
  checkMs,
  checkState,
  checkToken,
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
  validateJobName,
  validateQueueName,
} from "@conveyor/shared";
import { claim } from "./_claim.ts";
import { copyJob, copyJson } from "./_copy.ts";
import { StoreCore } from "./_core.ts";
import { EventHub } from "./_events.ts";
import { childDone, childFailed, saveFlow } from "./_flows.ts";
import * as jobs from "./_jobs.ts";
import * as leases from "./_leases.ts";
import { clean, drain, recoverStalled, stalledJobs } from "./_maintenance.ts";
import type { QueueState, Rec } from "./_queue.ts";

/** Options of {@linkcode MemoryStore}. */
export interface MemoryStoreOptions {
  /**
   * The store's clock, in milliseconds since the Unix epoch. Every time the store records or
   * compares (adds, delays, leases, deduplication ttl, clean grace, rate-limit windows, stalled
   * detection) comes from it, read on each call, so fake timers and test clocks work.
   * @default () => Date.now()
   */
  clock?: () => number;
}

/** The limits of a claim that sets none. */
const NO_LIMITS: FetchOptions = Object.freeze({});

/**
 * Whether `opts` sets no limit (absent, or an object whose limits are all unset, as an unlimited
 * worker's are, with a valid `handoff`, which this store ignores): such a claim needs no copy
 * of its options. Anything else is checked.
 */
function noLimits(opts: FetchOptions | undefined): boolean {
  return opts === undefined ||
    (typeof opts === "object" && opts !== null && !Array.isArray(opts) &&
      opts.groupConcurrency === undefined && opts.maxGlobalConcurrency === undefined &&
      opts.rateLimit === undefined &&
      (opts.handoff === undefined || typeof opts.handoff === "boolean"));
}

function copy(rec: Rec): JobData {
  return copyJob(rec.job);
}

/**
 * Conveyor's in-memory store: for tests, development and single-process use.
 *
 * Every operation is atomic (its state change runs in one synchronous step), claims are served
 * from heaps rather than scans, and jobs go in and come out as deep copies. Events are delivered
 * in-process, asynchronously.
 *
 * `connect()` is optional (there is nothing to open) and idempotent; after `disconnect()` every
 * method rejects with `StoreClosedError`.
 *
 * Lease fencing: a lock token stays valid while its job is active under that token. A lease
 * that merely expired still works until stalled-job recovery (or another claim after recovery)
 * takes the job away; from then on the old token is refused.
 *
 * @example Add, claim and complete a job
 * ```ts
 * import { MemoryStore } from "@conveyor/store-memory";
 *
 * const store = new MemoryStore();
 * await store.connect();
 * await store.saveJob("emails", { id: "1", name: "send", data: { to: "a@example.com" }, opts: {} });
 * const job = await store.fetchNextJob("emails", "worker-1", 30_000);
 * if (job) await store.completeJob("emails", job.id, job.lockToken!, { sent: true });
 * console.log(await store.countJobs("emails", "completed")); // 1
 * await store.disconnect();
 * ```
 */
export class MemoryStore implements StoreInterface {
  /** The store contract version this store meets. */
  readonly contractVersion: number = STORE_CONTRACT_VERSION;
  #core: StoreCore;
  #events: EventHub = new EventHub();
  #closed = false;

  /**
   * Create an empty store.
   * @param options the store's clock
   */
  constructor(options: MemoryStoreOptions = {}) {
    const clock = options.clock;
    if (clock !== undefined && typeof clock !== "function") {
      throw new TypeError(`clock must be a function, got ${typeof clock}`);
    }
    // Without a clock, Date.now (looked up on each call, so fake timers apply): nothing to check.
    this.#core = new StoreCore(
      clock === undefined ? () => Date.now() : () => {
        const t = clock();
        if (typeof t !== "number" || !Number.isFinite(t)) {
          throw new TypeError(`clock must return a finite number of ms, got ${String(t)}`);
        }
        return t;
      },
      this.#events,
    );
  }

  /** Run one operation's synchronous body and hand its outcome back as a promise. */
  #run<T>(body: () => T): Promise<T> {
    try {
      return Promise.resolve(body());
    } catch (err) {
      return Promise.reject(err);
    }
  }

  #open(): StoreCore {
    if (this.#closed) throw new StoreClosedError("MemoryStore");
    return this.#core;
  }

  #queue(queueName: string): QueueState | undefined {
    return this.#open().queues.get(validateQueueName(queueName));
  }

  // ── Lifecycle ──────────────────────────────────────────────────────────────────────────────

  /** Nothing to open; idempotent. Rejects with `StoreClosedError` after `disconnect()`. */
  connect(): Promise<void> {
    return this.#run(() => {
      this.#open();
    });
  }

  /** Close the store: drop listeners and undelivered events. Idempotent. */
  disconnect(): Promise<void> {
    return this.#run(() => {
      this.#closed = true;
      this.#events.close();
    });
  }

  // ── CRUD ───────────────────────────────────────────────────────────────────────────────────

  /** Save a new job, or report a duplicate id or deduplication key. */
  saveJob(queueName: string, job: NewJob): Promise<SaveResult> {
    try {
      return Promise.resolve(jobs.saveJob(this.#open(), queueName, job));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Save many jobs in one atomic step; results in input order. */
  saveBulk(queueName: string, list: NewJob[]): Promise<SaveResult[]> {
    return this.#run(() => {
      const core = this.#open();
      if (!Array.isArray(list)) {
        throw new TypeError(`saveBulk: jobs must be an array, got ${typeof list}`);
      }
      return jobs.saveJobs(core, queueName, list, "saveBulk: jobs");
    });
  }

  /** Read one job (a copy), or `null`. */
  getJob(queueName: string, jobId: string): Promise<JobData | null> {
    return this.#run(() => {
      const rec = this.#queue(queueName)?.jobs.get(checkId(jobId, "jobId"));
      return rec ? copy(rec) : null;
    });
  }

  /** Replace a job's payload or progress; fenced by `lockToken` when given. */
  updateJob(
    queueName: string,
    jobId: string,
    update: JobUpdate,
    lockToken?: string,
  ): Promise<boolean> {
    return this.#run(() => jobs.updateJob(this.#open(), queueName, jobId, update, lockToken));
  }

  /**
   * Remove a job (not an active one) with its unfinished, non-active descendants; a pending
   * flow child counts as done for its parent.
   */
  removeJob(queueName: string, jobId: string): Promise<boolean> {
    return this.#run(() => {
      const q = this.#queue(queueName);
      const rec = q?.jobs.get(checkId(jobId, "jobId"));
      if (!q || !rec) return false;
      if (rec.job.state === "active") {
        throw new InvalidJobStateError(
          `Cannot remove job "${jobId}" in queue "${queueName}": it is active (a worker holds it)`,
        );
      }
      this.#core.remove(q, rec, true, true);
      return true;
    });
  }

  // ── Fetching ───────────────────────────────────────────────────────────────────────────────

  /** Claim the next waiting job atomically, or `null`. */
  fetchNextJob(
    queueName: string,
    workerId: string,
    lockDuration: number,
    opts?: FetchOptions,
  ): Promise<JobData | null> {
    return this.#run(() => {
      const [job] = this.#claim(queueName, workerId, lockDuration, 1, opts);
      return job ?? null;
    });
  }

  /** Claim up to `count` waiting jobs in one atomic step, in claim order. */
  fetchNextJobs(
    queueName: string,
    workerId: string,
    lockDuration: number,
    count: number,
    opts?: FetchOptions,
  ): Promise<JobData[]> {
    try {
      return Promise.resolve(this.#claim(queueName, workerId, lockDuration, count, opts));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  #claim(
    queueName: string,
    workerId: string,
    lockDuration: number,
    count: number,
    opts: FetchOptions | undefined,
  ): JobData[] {
    const core = this.#open();
    const q = core.queues.get(queueName);
    if (q === undefined) validateQueueName(queueName);
    // Valid arguments pass these tests without a call; the shared checks throw for the others.
    if (typeof workerId !== "string" || workerId.length === 0) checkToken(workerId, "workerId");
    if (!(typeof lockDuration === "number" && lockDuration >= 1 && lockDuration < Infinity)) {
      checkMs(lockDuration, "lockDuration", 1);
    }
    if (!(Number.isInteger(count) && count >= 0)) checkInt(count, "count", 0);
    const o = noLimits(opts) ? NO_LIMITS : checkFetchOptions(opts);
    if (q === undefined) return [];
    const recs = claim(core, q, workerId, lockDuration, count, o);
    const out: JobData[] = new Array(recs.length);
    for (let i = 0; i < recs.length; i++) out[i] = copyJob(recs[i].job);
    return out;
  }

  // ── Locking ────────────────────────────────────────────────────────────────────────────────

  /** Extend a lease to now + `duration` while `lockToken` holds it. */
  extendLock(
    queueName: string,
    jobId: string,
    lockToken: string,
    duration: number,
  ): Promise<boolean> {
    return this.#run(() => leases.extendLock(this.#open(), queueName, jobId, lockToken, duration));
  }

  /** Give a leased job back to `waiting` without counting a finished attempt. */
  releaseLock(queueName: string, jobId: string, lockToken: string): Promise<boolean> {
    return this.#run(() => leases.releaseLock(this.#open(), queueName, jobId, lockToken));
  }

  // ── Finishing ──────────────────────────────────────────────────────────────────────────────

  /** Complete a leased job atomically (with its flow parent's count and `removeOnComplete`). */
  completeJob(
    queueName: string,
    jobId: string,
    lockToken: string,
    returnValue: unknown,
  ): Promise<boolean> {
    try {
      return Promise.resolve(
        leases.completeJob(this.#open(), queueName, jobId, lockToken, returnValue),
      );
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Fail a leased attempt atomically: retry (waiting or delayed) or fail for good. */
  failJob(
    queueName: string,
    jobId: string,
    lockToken: string,
    failure: JobFailure,
  ): Promise<boolean> {
    return this.#run(() => leases.failJob(this.#open(), queueName, jobId, lockToken, failure));
  }

  /** Append a log line to a job; fenced by `lockToken` when given. */
  addLog(
    queueName: string,
    jobId: string,
    line: string,
    lockToken?: string,
  ): Promise<boolean> {
    return this.#run(() => jobs.addLog(this.#open(), queueName, jobId, line, lockToken));
  }

  // ── Queries ────────────────────────────────────────────────────────────────────────────────

  /** Jobs of the queue (in `state` when given), by ascending `seq`. */
  listJobs(queueName: string, state?: JobState, opts?: ListOptions): Promise<JobData[]> {
    return this.#run(() => jobs.listJobs(this.#queue(queueName), state, opts));
  }

  /** Number of jobs of the queue in `state` (all when omitted), from kept counters. */
  countJobs(queueName: string, state?: JobState): Promise<number> {
    return this.#run(() => {
      const q = this.#queue(queueName);
      const s = checkState(state, true);
      if (!q) return 0;
      return s === undefined ? q.jobs.size : q.counts[s];
    });
  }

  /** Number of active jobs of the queue. */
  getActiveCount(queueName: string): Promise<number> {
    return this.#run(() => {
      return this.#queue(queueName)?.counts.active ?? 0;
    });
  }

  // ── Delayed jobs ───────────────────────────────────────────────────────────────────────────

  /** Earliest due time of the queue's delayed jobs, or `null`. */
  getNextDelayedTimestamp(queueName: string): Promise<number | null> {
    return this.#run(() => {
      const q = this.#queue(queueName);
      return q ? this.#core.nextDelayed(q) : null;
    });
  }

  /** Move delayed jobs due at or before `timestamp` (default: now) to waiting. */
  promoteDelayedJobs(queueName: string, timestamp?: number): Promise<number> {
    return this.#run(() => {
      const q = this.#queue(queueName);
      const at = timestamp === undefined
        ? this.#core.now()
        : checkMs(timestamp, "timestamp", -Infinity);
      if (!q) return 0;
      const moved = this.#core.promote(q, at);
      this.#core.emitMoved(moved);
      return moved.length;
    });
  }

  // ── Pause / resume ─────────────────────────────────────────────────────────────────────────

  #checkPauseName(jobName: string): string {
    return jobName === ALL_JOB_NAMES ? jobName : validateJobName(jobName);
  }

  /** Stop claims of jobs named `jobName` (`"*"`: the whole queue). Publishes `paused`. */
  pauseJobName(queueName: string, jobName: string): Promise<void> {
    return this.#run(() => {
      const core = this.#open();
      validateQueueName(queueName);
      this.#checkPauseName(jobName);
      core.queue(queueName).paused.add(jobName);
      core.events.publish({ type: "paused", queueName, jobName });
    });
  }

  /** Undo `pauseJobName`; jobs set aside for the name become claimable. Publishes `resumed`. */
  resumeJobName(queueName: string, jobName: string): Promise<void> {
    return this.#run(() => {
      const q = this.#queue(queueName);
      this.#checkPauseName(jobName);
      if (q?.paused.delete(jobName)) q.waiting.resumeName(jobName);
      this.#core.events.publish({ type: "resumed", queueName, jobName });
    });
  }

  /** Paused job names of the queue, `"*"` included when the whole queue is paused. */
  getPausedJobNames(queueName: string): Promise<string[]> {
    return this.#run(() => {
      return [...(this.#queue(queueName)?.paused ?? [])];
    });
  }

  // ── Stalled jobs ───────────────────────────────────────────────────────────────────────────

  /** Active jobs whose lease expired, by ascending `seq`. */
  getStalledJobs(queueName: string): Promise<JobData[]> {
    return this.#run(() => {
      const q = this.#queue(queueName);
      if (!q) return [];
      return stalledJobs(q, this.#core.now()).map(copy);
    });
  }

  /** Put back (or fail, past `maxStalledCount`) every job whose lease expired. */
  recoverStalledJobs(queueName: string, maxStalledCount: number): Promise<StalledRecovery> {
    return this.#run(() => {
      const q = this.#queue(queueName);
      checkInt(maxStalledCount, "maxStalledCount", 0);
      return q ? recoverStalled(this.#core, q, maxStalledCount) : { recovered: [], failed: [] };
    });
  }

  // ── Cleanup ────────────────────────────────────────────────────────────────────────────────

  /** Remove up to `limit` jobs in `state` older than `grace` ms (never active ones). */
  clean(
    queueName: string,
    state: JobState,
    grace: number,
    limit?: number,
  ): Promise<string[]> {
    return this.#run(() => {
      const q = this.#queue(queueName);
      const s = checkState(state, false) as JobState;
      checkMs(grace, "grace");
      const max = limit === undefined ? Infinity : checkInt(limit, "limit", 0);
      return q ? clean(this.#core, q, s, this.#core.now() - grace, max) : [];
    });
  }

  /** Remove all waiting jobs, and delayed ones unless `delayed` is `false`. */
  drain(queueName: string, delayed?: boolean): Promise<number> {
    return this.#run(() => {
      const q = this.#queue(queueName);
      if (delayed !== undefined && typeof delayed !== "boolean") {
        throw new TypeError(`delayed must be a boolean, got ${typeof delayed}`);
      }
      if (!q) return 0;
      return q ? drain(this.#core, q, delayed !== false) : 0;
    });
  }

  // ── Events ─────────────────────────────────────────────────────────────────────────────────

  /** Receive the queue's events (delivered asynchronously, in order). */
  subscribe(queueName: string, listener: StoreEventListener): void {
    this.#open();
    validateQueueName(queueName);
    if (typeof listener !== "function") {
      throw new TypeError(`listener must be a function, got ${typeof listener}`);
    }
    this.#events.subscribe(queueName, listener);
  }

  /** Stop one listener, or all of the queue's listeners. A no-op after `disconnect()`. */
  unsubscribe(queueName: string, listener?: StoreEventListener): void {
    if (this.#closed) return;
    validateQueueName(queueName);
    this.#events.unsubscribe(queueName, listener);
  }

  /** Publish an event to the subscribers of its queue. */
  publish(event: StoreEvent): Promise<void> {
    return this.#run(() => {
      this.#open();
      this.#events.publish(copyJson(checkEvent(event)));
    });
  }

  // ── Flows ──────────────────────────────────────────────────────────────────────────────────

  /** Save a flow tree all-or-nothing; see {@linkcode StoreInterface.saveFlow}. */
  saveFlow(jobs: FlowJobRecord[]): Promise<SaveResult[]> {
    return this.#run(() => {
      return saveFlow(this.#open(), jobs);
    });
  }

  /** Count child `childId` as done for its parent, once; `true` when that released the parent. */
  notifyChildCompleted(
    parentQueueName: string,
    parentId: string,
    childId: string,
  ): Promise<boolean> {
    return this.#run(() => {
      const core = this.#open();
      validateQueueName(parentQueueName);
      checkId(parentId, "parentId");
      checkId(childId, "childId");
      return childDone(core, parentQueueName, parentId, childId, core.now());
    });
  }

  /** Apply the parent's failure policy for failed child `childId`, once, up the tree. */
  failParentOnChildFailure(
    parentQueueName: string,
    parentId: string,
    childId: string,
    failedReason: string,
  ): Promise<void> {
    return this.#run(() => {
      const core = this.#open();
      validateQueueName(parentQueueName);
      checkId(parentId, "parentId");
      checkId(childId, "childId");
      if (typeof failedReason !== "string") {
        throw new TypeError(`failedReason must be a string, got ${typeof failedReason}`);
      }
      childFailed(core, parentQueueName, parentId, childId, failedReason, core.now());
    });
  }

  /** Direct children of a parent, across queues, by ascending `seq`. */
  getChildrenJobs(parentQueueName: string, parentId: string): Promise<JobData[]> {
    return this.#run(() => {
      const core = this.#open();
      validateQueueName(parentQueueName);
      checkId(parentId, "parentId");
      return core.childrenOf(parentQueueName, parentId).map(copy);
    });
  }

  // ── Deduplication ──────────────────────────────────────────────────────────────────────────

  /** The live job holding deduplication `key` in the queue, or `null`. */
  findByDeduplicationKey(queueName: string, key: string): Promise<JobData | null> {
    return this.#run(() => {
      const q = this.#queue(queueName);
      checkId(key, "key");
      if (!q) return null;
      const rec = this.#core.dedupHolder(q, key, this.#core.now());
      return rec ? copy(rec) : null;
    });
  }

  // ── Groups ─────────────────────────────────────────────────────────────────────────────────

  /** Active jobs of a group, from a kept counter. */
  getGroupActiveCount(queueName: string, groupId: string): Promise<number> {
    return this.#run(() => {
      const q = this.#queue(queueName);
      checkId(groupId, "groupId");
      return q?.waiting.groups.get(groupId)?.active ?? 0;
    });
  }

  /** Waiting jobs of a group, from a kept counter. */
  getWaitingGroupCount(queueName: string, groupId: string): Promise<number> {
    return this.#run(() => {
      const q = this.#queue(queueName);
      checkId(groupId, "groupId");
      return q?.waiting.groups.get(groupId)?.waiting ?? 0;
    });
  }
}
