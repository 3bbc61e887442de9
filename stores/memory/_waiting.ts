/**
 * The index of a queue's waiting jobs: which job a claim takes next, without scanning.
 *
 * - `main`: a min-heap by (priority, order) holding ungrouped jobs and one entry per group
 *   (keyed by that group's best job); entries that arrive in order (FIFO jobs of one priority)
 *   skip the heap.
 * - per group: a heap of the group's waiting jobs. A group whose active count reached a claim's
 *   `groupConcurrency` is set aside (its entry leaves `main`) until one of its jobs stops being
 *   active, or a claim with a higher limit (or none) comes.
 * - per paused job name: a heap of that name's waiting jobs, set aside the first time a claim
 *   meets them and put back on resume.
 *
 * Entries are deleted lazily: a job entry is live while its record's `gen` is the one it was
 * made with and the job is waiting.
 *
 * @module
 */

import { BinaryHeap, RunHeap } from "./_heap.ts";
import type { Rec } from "./_queue.ts";

/** A waiting job in a heap. */
export interface JobEntry {
  /** The job. */
  rec: Rec;
  /** `rec.gen` when the entry was made. */
  gen: number;
  /** Priority (lower first). */
  p: number;
  /** Order within the priority (lower first). */
  o: number;
  /** Absent for job entries. */
  group?: undefined;
}

/** A group's best waiting job, standing for the whole group in `main`. */
export interface GroupEntry {
  /** The group. */
  group: GroupState;
  /** `group.mainGen` when the entry was made. */
  gen: number;
  /** Priority of the group's best job when the entry was made. */
  p: number;
  /** Order of the group's best job when the entry was made. */
  o: number;
}

type Entry = JobEntry | GroupEntry;

/** Counters and waiting jobs of one group of one queue. */
export interface GroupState {
  /** Group id. */
  id: string;
  /** Waiting jobs of the group (stale entries included). */
  heap: BinaryHeap<JobEntry>;
  /** Active jobs of the group. */
  active: number;
  /** Waiting jobs of the group. */
  waiting: number;
  /** Whether a live entry for the group is in `main`. */
  inMain: boolean;
  /** Whether the group was set aside because it reached a claim's group concurrency. */
  saturated: boolean;
  /** The group concurrency it reached when it was set aside. */
  saturatedAt: number;
  /** Generation of the group's live entry in `main`. */
  mainGen: number;
}

function less(a: Entry, b: Entry): boolean {
  return a.p < b.p || (a.p === b.p && a.o < b.o);
}

/** Whether a job entry still stands for a waiting job. */
export function isLive(e: JobEntry): boolean {
  return e.rec.gen === e.gen && e.rec.job.state === "waiting";
}

function isLiveEntry(e: Entry): boolean {
  if (e.group === undefined) return isLive(e);
  return e.gen === e.group.mainGen && e.group.inMain;
}

/** The waiting jobs of one queue, indexed for claims. */
export class WaitingIndex {
  /** Ungrouped jobs and group heads, by (priority, order). */
  readonly main: RunHeap<Entry> = new RunHeap<Entry>(less);
  /** Groups that have waiting or active jobs. */
  readonly groups: Map<string, GroupState> = new Map();
  /** Jobs set aside because their name is paused. */
  readonly parked: Map<string, BinaryHeap<JobEntry>> = new Map();
  /** Groups set aside, by the group concurrency they reached (usually a single limit). */
  readonly saturated: Map<number, Set<GroupState>> = new Map();
  #isPaused: (name: string) => boolean;

  /**
   * Create an empty index.
   * @param isPaused whether a job name is paused in the queue
   */
  constructor(isPaused: (name: string) => boolean) {
    this.#isPaused = isPaused;
  }

  /** The group's counters, created when missing. */
  group(id: string): GroupState {
    let g = this.groups.get(id);
    if (!g) {
      g = {
        id,
        heap: new BinaryHeap<JobEntry>(less),
        active: 0,
        waiting: 0,
        inMain: false,
        saturated: false,
        saturatedAt: 0,
        mainGen: 0,
      };
      this.groups.set(id, g);
    }
    return g;
  }

  /** Forget a group that has no waiting and no active job. */
  dropIfIdle(g: GroupState): void {
    if (g.active === 0 && g.waiting === 0 && this.groups.get(g.id) === g) {
      this.groups.delete(g.id);
      g.heap.clear();
      g.inMain = false;
      this.#unsaturate(g);
    }
  }

  /** Index a job that has just become waiting (its `gen` already bumped). */
  add(rec: Rec): void {
    this.#place({ rec, gen: rec.gen, p: rec.job.priority, o: rec.order });
  }

  #place(e: JobEntry): void {
    const name = e.rec.job.name;
    if (this.#isPaused(name)) {
      let park = this.parked.get(name);
      if (!park) this.parked.set(name, park = new BinaryHeap<JobEntry>(less));
      park.push(e);
      return;
    }
    const gid = e.rec.job.groupId;
    if (gid === null) {
      this.main.push(e);
      return;
    }
    const g = this.group(gid);
    g.heap.push(e);
    if (g.saturated) return;
    const head = this.#liveTop(g.heap) as JobEntry;
    if (!g.inMain || head === e) this.#pushGroup(g, head);
  }

  #pushGroup(g: GroupState, head: JobEntry): void {
    g.mainGen++;
    g.inMain = true;
    this.main.push({ group: g, gen: g.mainGen, p: head.p, o: head.o });
  }

  #liveTop(heap: BinaryHeap<JobEntry>): JobEntry | undefined {
    let top = heap.peek();
    while (top !== undefined && !isLive(top)) {
      heap.pop();
      top = heap.peek();
    }
    return top;
  }

  #park(e: JobEntry): void {
    this.#place(e);
  }

  /**
   * Take the next claimable job out of the index, or `null`. Jobs of paused names and groups at
   * `groupLimit` met on the way are set aside, so the next claim does not meet them again.
   */
  next(groupLimit?: number): Rec | null {
    if (this.saturated.size > 0) this.#unsaturateBelow(groupLimit);
    const main = this.main;
    for (;;) {
      const top = main.peek();
      if (top === undefined) return null;
      if (top.group === undefined) {
        main.pop();
        if (!isLive(top)) continue;
        if (this.#isPaused(top.rec.job.name)) {
          this.#park(top);
          continue;
        }
        return top.rec;
      }
      const g = top.group;
      if (top.gen !== g.mainGen || !g.inMain) {
        main.pop();
        continue;
      }
      const head = this.#liveTop(g.heap);
      if (head === undefined) {
        main.pop();
        g.inMain = false;
        this.dropIfIdle(g);
        continue;
      }
      if (head.p !== top.p || head.o !== top.o) {
        main.pop();
        this.#pushGroup(g, head);
        continue;
      }
      if (this.#isPaused(head.rec.job.name)) {
        g.heap.pop();
        this.#park(head);
        continue;
      }
      main.pop();
      g.inMain = false;
      if (groupLimit !== undefined && g.active >= groupLimit) {
        this.#saturate(g, groupLimit);
        continue;
      }
      g.heap.pop();
      const nextHead = this.#liveTop(g.heap);
      if (nextHead !== undefined) this.#pushGroup(g, nextHead);
      return head.rec;
    }
  }

  #unsaturate(g: GroupState): void {
    if (!g.saturated) return;
    g.saturated = false;
    const set = this.saturated.get(g.saturatedAt);
    set?.delete(g);
    if (set?.size === 0) this.saturated.delete(g.saturatedAt);
  }

  #saturate(g: GroupState, limit: number): void {
    g.saturated = true;
    g.saturatedAt = limit;
    let set = this.saturated.get(limit);
    if (!set) this.saturated.set(limit, set = new Set());
    set.add(g);
  }

  /**
   * A claim with a higher group limit (or none) than the one a group was set aside at may take
   * from that group again: bring such groups back. Claims that all use one limit never get here.
   */
  #unsaturateBelow(groupLimit: number | undefined): void {
    for (const [limit, set] of this.saturated) {
      if (groupLimit !== undefined && limit >= groupLimit) continue;
      for (const g of [...set]) {
        if (groupLimit === undefined || g.active < groupLimit) this.slotFreed(g);
      }
    }
  }

  /** A job of group `g` stopped being active: bring the group back if it was set aside. */
  slotFreed(g: GroupState): void {
    if (!g.saturated) return;
    this.#unsaturate(g);
    const head = this.#liveTop(g.heap);
    if (head !== undefined) this.#pushGroup(g, head);
  }

  /** Put the jobs set aside for a paused name back (the name was resumed). */
  resumeName(name: string): void {
    const park = this.parked.get(name);
    if (!park) return;
    this.parked.delete(name);
    for (const e of park.values()) if (isLive(e)) this.#place(e);
  }

  /** Every waiting job in the index. */
  *records(): Generator<Rec> {
    for (const e of this.main.values()) if (e.group === undefined && isLive(e)) yield e.rec;
    for (const g of this.groups.values()) {
      for (const e of g.heap.values()) if (isLive(e)) yield e.rec;
    }
    for (const park of this.parked.values()) {
      for (const e of park.values()) if (isLive(e)) yield e.rec;
    }
  }

  /** Forget every entry (the queue has no waiting job left). */
  clear(): void {
    this.main.clear();
    this.parked.clear();
    for (const g of [...this.groups.values()]) {
      g.heap.clear();
      g.inMain = false;
      this.dropIfIdle(g);
    }
  }

  /** Drop stale entries when they outnumber live ones: keeps memory bounded after removals. */
  compact(waiting: number): void {
    if (this.main.size > 2 * waiting + 1024) this.main.rebuild(isLiveEntry);
  }

  /** Drop stale entries of one group's heap when they outnumber live ones. */
  compactGroup(g: GroupState): void {
    if (g.heap.size > 2 * g.waiting + 64) g.heap.rebuild(isLive);
  }
}
