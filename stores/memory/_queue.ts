/**
 * Per-queue state of the memory store: jobs, counters and the indexes kept up to date on every
 * change.
 *
 * @module
 */

import { JOB_STATES, type JobData, type JobState } from "@conveyor/shared";
import { BinaryHeap } from "./_heap.ts";
import { WaitingIndex } from "./_waiting.ts";

/** A stored job and its bookkeeping. */
export interface Rec {
  /** The stored job (never handed out: callers get copies). */
  job: JobData;
  /** Bumped on every state change and on removal; heap entries made earlier become stale. */
  gen: number;
  /** Order within a priority: `-seq` for LIFO jobs, `seq` for FIFO jobs. */
  order: number;
  /** Flow parents: ids of children already counted (completed, ignored, removed or failed). */
  counted: Set<string> | null;
}

/** A delayed job in the delayed heap. */
export interface DelayedEntry {
  /** The job. */
  rec: Rec;
  /** `rec.gen` when the entry was made. */
  gen: number;
  /** When the job is due. */
  at: number;
}

/** Finished jobs of one state in the order they finished (stale entries skipped). */
export class FinishedLog {
  #items: { rec: Rec; gen: number }[] = [];
  #head = 0;

  /** Record a job that has just finished. */
  push(rec: Rec): void {
    this.#items.push({ rec, gen: rec.gen });
  }

  /** The job that finished first and is still stored in that state, or `undefined`. */
  oldest(): Rec | undefined {
    const items = this.#items;
    while (this.#head < items.length) {
      const e = items[this.#head];
      if (e.rec.gen === e.gen) return e.rec;
      this.#head++;
    }
    this.#items = [];
    this.#head = 0;
    return undefined;
  }

  /** Drop consumed and stale entries when they outnumber `live` ones. */
  compact(live: number): void {
    if (this.#items.length - this.#head > 2 * live + 1024 || this.#head > 4096) {
      this.#items = this.#items.slice(this.#head).filter((e) => e.rec.gen === e.gen);
      this.#head = 0;
    }
  }
}

/** Timestamps of recent claims, for sliding-window rate limits. */
export class ClaimWindow {
  #times: number[] = [];
  #head = 0;
  /** Longest window any claim asked for; older claims are forgotten. */
  #keep = 0;

  /** Remember a claim made at `now` (only while some rate limit is in use). */
  record(now: number): void {
    if (this.#keep > 0) this.#times.push(now);
  }

  /** Claims made in the `duration` ms up to `now` (exclusive of the window's start). */
  count(now: number, duration: number): number {
    if (duration > this.#keep) this.#keep = duration;
    const times = this.#times;
    const keepFrom = now - this.#keep;
    while (this.#head < times.length && times[this.#head] <= keepFrom) this.#head++;
    if (this.#head > 1024 && this.#head * 2 > times.length) {
      this.#times = times.slice(this.#head);
      this.#head = 0;
    }
    const from = now - duration;
    let lo = this.#head;
    let hi = this.#times.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.#times[mid] <= from) lo = mid + 1;
      else hi = mid;
    }
    return this.#times.length - lo;
  }
}

/** Everything the memory store keeps for one queue. */
export class QueueState {
  /** Queue name. */
  readonly name: string;
  /** Jobs by id, in ascending `seq` (insertion order). */
  readonly jobs: Map<string, Rec> = new Map();
  /** Number of jobs in each state. */
  readonly counts: Record<JobState, number>;
  /** Active jobs. */
  readonly active: Set<Rec> = new Set();
  /** Paused job names (`"*"`: the whole queue). */
  readonly paused: Set<string> = new Set();
  /** Waiting jobs, indexed for claims. */
  readonly waiting: WaitingIndex;
  /** Delayed jobs by due time, then `seq`. */
  readonly delayed: BinaryHeap<DelayedEntry> = new BinaryHeap<DelayedEntry>((a, b) =>
    a.at < b.at || (a.at === b.at && a.rec.job.seq < b.rec.job.seq)
  );
  /** Deduplication key → id of the job that last took it. */
  readonly dedup: Map<string, string> = new Map();
  /** Completed jobs in finishing order. */
  readonly completed: FinishedLog = new FinishedLog();
  /** Failed jobs in finishing order. */
  readonly failed: FinishedLog = new FinishedLog();
  /** Recent claims, for rate limits. */
  readonly claims: ClaimWindow = new ClaimWindow();

  /**
   * Create the state of an empty queue.
   * @param name queue name
   */
  constructor(name: string) {
    this.name = name;
    this.counts = Object.fromEntries(JOB_STATES.map((s) => [s, 0])) as Record<JobState, number>;
    this.waiting = new WaitingIndex((jobName) => this.paused.has(jobName));
  }

  /** Whether the queue holds nothing worth keeping its state for. */
  get isEmpty(): boolean {
    return this.jobs.size === 0 && this.paused.size === 0;
  }
}

/** Whether a delayed-heap entry still stands for a delayed job. */
export function isLiveDelayed(e: DelayedEntry): boolean {
  return e.rec.gen === e.gen && e.rec.job.state === "delayed";
}
