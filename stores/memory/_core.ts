/**
 * State transitions of the memory store. Every method here runs synchronously, so each public
 * operation that calls them is atomic: no other operation can interleave.
 *
 * @module
 */

import type {
  JobState,
  KeepJobs,
  StoredJobOptions,
  StoreEvent,
  StoreEventType,
} from "@conveyor/shared";
import type { EventHub } from "./_events.ts";
import { isLiveDelayed, QueueState, type Rec } from "./_queue.ts";
import { childDone, childFailed } from "./_flows.ts";
import type { CheckedJob } from "./_validate.ts";

/**
 * The empty `stacktrace` and `logs` of every new job, shared until a first line is added (the
 * array is frozen: appending must replace it, see {@linkcode appendLine}).
 */
export const NO_LINES: string[] = Object.freeze([]) as unknown as string[];

/** A job's lines with `line` appended (a new array while the job still has {@linkcode NO_LINES}). */
export function appendLine(lines: string[], line: string): string[] {
  if (lines === NO_LINES) return [line];
  lines.push(line);
  return lines;
}

/** Key of a job across queues (queue names cannot contain NUL). */
export function jobKey(queueName: string, jobId: string): string {
  return `${queueName}\u0000${jobId}`;
}

function isFinished(state: JobState): boolean {
  return state === "completed" || state === "failed";
}

/** The memory store's state and the transitions that keep its indexes and counters exact. */
export class StoreCore {
  /** Queues by name. */
  readonly queues: Map<string, QueueState> = new Map();
  /** Flow parent key → keys of its direct children. */
  readonly children: Map<string, Set<string>> = new Map();
  /** Event delivery. */
  readonly events: EventHub;
  /** The store's clock. */
  readonly now: () => number;
  #seq = 0;
  /**
   * Lock tokens are this store's prefix and a counter: never the same twice in the store, which
   * is all fencing needs, and no call for randomness per claim.
   */
  #tokenPrefix = `${crypto.randomUUID()}:`;
  #tokenSeq = 0;

  /**
   * Create an empty store state.
   * @param now the store's clock
   * @param events where events go
   */
  constructor(now: () => number, events: EventHub) {
    this.now = now;
    this.events = events;
  }

  /** The queue's state, created when missing. */
  queue(name: string): QueueState {
    let q = this.queues.get(name);
    if (!q) this.queues.set(name, q = new QueueState(name));
    return q;
  }

  /** A stored job, or `undefined`. */
  find(queueName: string, jobId: string): Rec | undefined {
    return this.queues.get(queueName)?.jobs.get(jobId);
  }

  #findKey(key: string): { q: QueueState; rec: Rec } | undefined {
    const cut = key.indexOf("\u0000");
    const q = this.queues.get(key.slice(0, cut));
    const rec = q?.jobs.get(key.slice(cut + 1));
    return q && rec ? { q, rec } : undefined;
  }

  /** Direct children of a parent that are still stored, by ascending `seq`. */
  childrenOf(parentQueueName: string, parentId: string): Rec[] {
    const keys = this.children.get(jobKey(parentQueueName, parentId));
    if (!keys) return [];
    const out: Rec[] = [];
    for (const k of keys) {
      const found = this.#findKey(k);
      if (found) out.push(found.rec);
    }
    return out.sort((a, b) => a.job.seq - b.job.seq);
  }

  // ── Events ─────────────────────────────────────────────────────────────────────────────────

  /** Publish an event about one job. */
  emitJob(rec: Rec, type: StoreEventType, detail?: StoreEvent["detail"]): void {
    const job = rec.job;
    if (!this.events.listens(job.queueName)) return;
    // Built whole (no property added afterwards): two stable shapes, no map transition.
    this.events.publish(
      detail
        ? { type, queueName: job.queueName, jobId: job.id, jobName: job.name, detail }
        : { type, queueName: job.queueName, jobId: job.id, jobName: job.name },
    );
  }

  /**
   * Publish where jobs just went (waiting, delayed, waiting-children): one event per job alone
   * in its queue and state, else one event with `count` per queue and state.
   */
  emitMoved(recs: readonly Rec[]): void {
    const groups = new Map<string, Rec[]>();
    for (const rec of recs) {
      const k = jobKey(rec.job.queueName, rec.job.state);
      const list = groups.get(k);
      if (list) list.push(rec);
      else groups.set(k, [rec]);
    }
    for (const list of groups.values()) {
      const { queueName, state: type } = list[0].job;
      if (list.length === 1) this.emitState(list[0]);
      else this.events.publish({ type, queueName, count: list.length });
    }
  }

  /** Publish the event that says where a job just went (waiting, delayed, waiting-children). */
  emitState(rec: Rec): void {
    const state = rec.job.state;
    if (state === "delayed") this.emitJob(rec, "delayed", { delayUntil: rec.job.delayUntil });
    else if (state === "waiting" || state === "waiting-children") this.emitJob(rec, state);
  }

  // ── Insertion and state changes ──────────────────────────────────────────────────────────

  /**
   * Store a checked new job (its payload already a copy; no duplicate) and index it. The job
   * object itself is kept: here it gets its queue, `seq` and `createdAt`.
   */
  insert(q: QueueState, job: CheckedJob, now: number): Rec {
    const seq = ++this.#seq;
    const opts: StoredJobOptions = job.opts;
    const delay = opts.delay ?? 0;
    job.queueName = q.name;
    job.seq = seq;
    job.createdAt = now;
    if (job.parentId !== null && job.parentQueueName === null) job.parentQueueName = q.name;
    const rec: Rec = { job, gen: 0, order: opts.lifo ? -seq : seq, counted: null };
    q.jobs.set(job.id, rec);
    if (job.deduplicationKey !== null) q.dedup.set(job.deduplicationKey, job.id);
    if (job.parentId !== null) {
      const pk = jobKey(job.parentQueueName as string, job.parentId);
      let set = this.children.get(pk);
      if (!set) this.children.set(pk, set = new Set());
      set.add(jobKey(q.name, job.id));
    }
    if (job.pendingChildrenCount > 0) this.#enter(q, rec, "waiting-children");
    else if (delay > 0) this.toDelayed(q, rec, now + delay, true);
    else this.toWaiting(q, rec, true);
    return rec;
  }

  #enter(q: QueueState, rec: Rec, state: JobState): void {
    const job = rec.job;
    job.state = state;
    q.counts[state]++;
    rec.gen++;
    if (job.groupId !== null && (state === "waiting" || state === "active")) {
      const g = q.waiting.group(job.groupId);
      if (state === "waiting") g.waiting++;
      else g.active++;
    }
    if (state === "active") q.active.add(rec);
  }

  #leave(q: QueueState, rec: Rec): void {
    const job = rec.job;
    const state = job.state;
    q.counts[state]--;
    rec.gen++;
    if (state === "active") q.active.delete(rec);
    if (job.groupId !== null && (state === "waiting" || state === "active")) {
      const g = q.waiting.group(job.groupId);
      if (state === "waiting") g.waiting--;
      else {
        g.active--;
        q.waiting.slotFreed(g);
      }
      q.waiting.dropIfIdle(g);
    }
  }

  /** Move a job to another state, keeping counters exact (indexes are the caller's part). */
  setState(q: QueueState, rec: Rec, state: JobState): void {
    this.#leave(q, rec);
    this.#enter(q, rec, state);
  }

  /** Make a job waiting and index it. */
  toWaiting(q: QueueState, rec: Rec, fresh = false): void {
    rec.job.delayUntil = null;
    if (fresh) this.#enter(q, rec, "waiting");
    else this.setState(q, rec, "waiting");
    q.waiting.add(rec);
  }

  /** Make a job delayed until `at` and index it. */
  toDelayed(q: QueueState, rec: Rec, at: number, fresh = false): void {
    if (fresh) this.#enter(q, rec, "delayed");
    else this.setState(q, rec, "delayed");
    rec.job.delayUntil = at;
    q.delayed.push({ rec, gen: rec.gen, at });
  }

  /** Lease a job just taken out of the waiting index. */
  lease(q: QueueState, rec: Rec, workerId: string, lockDuration: number, now: number): void {
    this.setState(q, rec, "active");
    const job = rec.job;
    job.lockedBy = workerId;
    job.lockToken = `${this.#tokenPrefix}${++this.#tokenSeq}`;
    job.lockUntil = now + lockDuration;
    job.processedAt = now;
    job.attemptsStarted++;
    q.claims.record(now);
  }

  /** The job if it is active under `lockToken` (the fence of every worker change), else `null`. */
  leased(queueName: string, jobId: string, lockToken: string): { q: QueueState; rec: Rec } | null {
    const q = this.queues.get(queueName);
    const rec = q?.jobs.get(jobId);
    if (!q || !rec || rec.job.state !== "active" || rec.job.lockToken !== lockToken) return null;
    return { q, rec };
  }

  /** Forget a job's lease. */
  clearLock(rec: Rec): void {
    rec.job.lockedBy = null;
    rec.job.lockToken = null;
    rec.job.lockUntil = null;
  }

  /** Move every delayed job due at or before `at` to waiting; returns them. */
  promote(q: QueueState, at: number): Rec[] {
    const out: Rec[] = [];
    for (;;) {
      const top = q.delayed.peek();
      if (top === undefined) break;
      if (!isLiveDelayed(top)) {
        q.delayed.pop();
        continue;
      }
      if (top.at > at) break;
      q.delayed.pop();
      this.toWaiting(q, top.rec);
      out.push(top.rec);
    }
    return out;
  }

  /** Earliest due time of the queue's delayed jobs, or `null`. */
  nextDelayed(q: QueueState): number | null {
    for (;;) {
      const top = q.delayed.peek();
      if (top === undefined) return null;
      if (isLiveDelayed(top)) return top.at;
      q.delayed.pop();
    }
  }

  // ── Deduplication ────────────────────────────────────────────────────────────────────────

  /** The live job holding `key` in the queue, or `null` (an expired or stale entry is dropped). */
  dedupHolder(q: QueueState, key: string, now: number): Rec | null {
    const id = q.dedup.get(key);
    if (id === undefined) return null;
    const rec = q.jobs.get(id);
    if (rec && rec.job.deduplicationKey === key) {
      const ttl = rec.job.opts.deduplication?.ttl;
      if (ttl !== undefined ? now < rec.job.createdAt + ttl : !isFinished(rec.job.state)) {
        return rec;
      }
    }
    q.dedup.delete(key);
    return null;
  }

  #releaseKey(q: QueueState, rec: Rec, removed: boolean): void {
    const key = rec.job.deduplicationKey;
    if (key === null || q.dedup.get(key) !== rec.job.id) return;
    // A key with a ttl holds until the ttl ends, whatever the job does, unless the job is removed.
    if (removed || rec.job.opts.deduplication?.ttl === undefined) q.dedup.delete(key);
  }

  // ── Finishing ────────────────────────────────────────────────────────────────────────────

  /** Complete an active job: counters, parent, `removeOnComplete`, event. */
  complete(q: QueueState, rec: Rec, returnValue: unknown, now: number): void {
    const job = rec.job;
    job.returnValue = returnValue;
    job.attemptsMade++;
    job.finishedAt = now;
    this.clearLock(rec);
    this.setState(q, rec, "completed");
    q.completed.push(rec);
    this.#releaseKey(q, rec, false);
    this.emitJob(rec, "completed");
    if (job.parentId !== null) {
      childDone(this, job.parentQueueName as string, job.parentId, job.id, now);
    }
    this.#keep(q, "completed", rec, job.opts.removeOnComplete, now);
  }

  /** Fail a job for good: counters, parent policy, `removeOnFail`, event. */
  failFinal(q: QueueState, rec: Rec, failedReason: string, now: number): void {
    const job = rec.job;
    job.failedReason = failedReason;
    job.finishedAt = now;
    job.delayUntil = null;
    this.clearLock(rec);
    this.setState(q, rec, "failed");
    q.failed.push(rec);
    this.#releaseKey(q, rec, false);
    this.emitJob(rec, "failed", { failedReason });
    if (job.parentId !== null) {
      childFailed(this, job.parentQueueName as string, job.parentId, job.id, failedReason, now);
    }
    this.#keep(q, "failed", rec, job.opts.removeOnFail, now);
  }

  #keep(
    q: QueueState,
    state: "completed" | "failed",
    rec: Rec,
    policy: boolean | number | KeepJobs | undefined,
    now: number,
  ): void {
    if (policy === undefined || policy === false) return;
    if (policy === true) {
      if (q.jobs.get(rec.job.id) === rec) this.remove(q, rec, false, false);
      return;
    }
    const log = state === "completed" ? q.completed : q.failed;
    const count = typeof policy === "number" ? policy : policy.count;
    const age = typeof policy === "number" ? undefined : policy.age;
    if (age !== undefined) {
      for (let old = log.oldest(); old !== undefined; old = log.oldest()) {
        if ((old.job.finishedAt as number) > now - age) break;
        this.remove(q, old, false, false);
      }
    }
    if (count !== undefined) {
      while (q.counts[state] > count) {
        const old = log.oldest();
        if (old === undefined) break;
        this.remove(q, old, false, false);
      }
    }
    log.compact(q.counts[state]);
  }

  // ── Removal ──────────────────────────────────────────────────────────────────────────────

  /**
   * Remove a stored, non-active job, and its unfinished descendants that are not active.
   * With `countForParent`, an unfinished flow child counts as done for its parent.
   */
  remove(q: QueueState, rec: Rec, countForParent: boolean, publish: boolean): void {
    const job = rec.job;
    const key = jobKey(q.name, job.id);
    const kids = this.children.get(key);
    if (kids) {
      this.children.delete(key);
      for (const k of kids) {
        const found = this.#findKey(k);
        if (!found) continue;
        const s = found.rec.job.state;
        if (s === "waiting" || s === "delayed" || s === "waiting-children") {
          this.remove(found.q, found.rec, false, publish);
        }
      }
    }
    const unfinished = !isFinished(job.state);
    const state = job.state;
    this.#leave(q, rec);
    q.jobs.delete(job.id);
    this.#releaseKey(q, rec, true);
    if (job.parentId !== null) {
      const pk = jobKey(job.parentQueueName as string, job.parentId);
      const siblings = this.children.get(pk);
      if (siblings) {
        siblings.delete(key);
        if (siblings.size === 0) this.children.delete(pk);
      }
      if (countForParent && unfinished) {
        childDone(this, job.parentQueueName as string, job.parentId, job.id, this.now());
      }
    }
    if (state === "waiting") {
      q.waiting.compact(q.counts.waiting);
      if (job.groupId !== null) {
        const g = q.waiting.groups.get(job.groupId);
        if (g) q.waiting.compactGroup(g);
      }
    } else if (state === "delayed" && q.delayed.size > 2 * q.counts.delayed + 1024) {
      q.delayed.rebuild(isLiveDelayed);
    }
    if (publish) this.emitJob(rec, "removed");
  }
}
