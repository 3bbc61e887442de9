/**
 * Hand-off: a job added while a worker waits goes to that worker in the insert itself, so the
 * worker starts it when the insert's NOTIFY arrives, without a claim round trip.
 *
 * 1. A worker's claim that finds nothing (`FetchOptions.handoff`, no limits) leaves an offer
 *    (`offers` table, see `CLAIM_ONE`): queue, worker id, lease, and the store's listening
 *    session. A claim that finds jobs withdraws it.
 * 2. A single add (`HANDOFF_INSERT` in `_save.ts`) takes one live offer of its queue, `for update
 *    skip locked`, so two adds never take one offer, and inserts its job already leased to that
 *    worker, exactly as a claim would lease it. Only when the job would be claimed next anyway:
 *    no job of the queue is waiting, neither the queue nor the job's name is paused, and the job
 *    is neither delayed, deduplicated, nor waiting for children, and it fits in a NOTIFY. In any
 *    other case the offer is left alone and the job waits as usual.
 * 3. The insert's `waiting` NOTIFY carries the job and names the offering store. That store
 *    holds the job ({@linkcode Handoffs}) and wakes its workers; the worker's next fetch returns
 *    it at once. A job not taken within {@linkcode HOLD_MS} (the worker paused or closed
 *    meanwhile), or still held when the store disconnects, goes back to waiting as if it had
 *    never been handed off.
 *
 * An offer is good for one job, lapses after its lease, and counts only while the session that
 * listens for its store lives: that session holds an advisory lock (a random key per session)
 * that a taker fails to share, so a crashed process takes nothing; a store deletes its offers
 * when it disconnects.
 *
 * @module
 */

import type { JobData } from "@conveyor/shared";
import type { Db } from "./_db.ts";
import { rowToJob } from "./_rows.ts";

/**
 * How long a handed-off job waits for its worker's fetch before it goes back to waiting (at
 * most half its lease).
 */
export const HOLD_MS = 1000;

/**
 * Give handed-off job $2 (queue $1, token $3) back to waiting as if it had never been handed
 * off; origin $4.
 */
const UNHAND = (s: string) => `
with released as (
  update ${s}.jobs set state = 'waiting', locked_by = null, lock_token = null, lock_until = null,
    processed_at = null, attempts_started = attempts_started - 1
  where queue = $1 and id = $2 and lock_token = $3 and state = 'active'
  returning id
)
select array(select ${s}.emit($4, $1, 'waiting', array(select id from released))) as events`;

/** Delete the offers of store $1 (it disconnects). */
const WITHDRAW_ALL = (s: string) => `delete from ${s}.offers where origin = $1`;

/** A handed-off job held for its worker. */
interface Held {
  job: JobData;
  timer: ReturnType<typeof setTimeout>;
}

/**
 * The jobs handed off to this store's workers, held until their worker's next fetch.
 */
export class Handoffs {
  readonly #held = new Map<string, Held[]>();
  readonly #mark: string;
  readonly #origin: string;
  readonly #giveBack: (job: JobData) => Promise<void>;
  readonly #returning = new Set<Promise<void>>();
  #closed = false;

  /**
   * @param origin this store's origin: payloads naming it carry a job for one of its workers
   * @param giveBack returns a job not taken in time (see {@linkcode unhand})
   */
  constructor(origin: string, giveBack: (job: JobData) => Promise<void>) {
    this.#origin = origin;
    // How json_build_object writes the addressee: a cheap test before parsing.
    this.#mark = `"to" : "${origin}"`;
    this.#giveBack = giveBack;
  }

  /** Hold the job of a payload addressed to this store, if it is one. */
  receive(payload: unknown): void {
    if (typeof payload !== "string" || !payload.includes(this.#mark)) return;
    this.hold((JSON.parse(payload) as { h?: unknown }).h);
  }

  /** Hold the job of a parsed payload's `h`, if addressed to this store. */
  hold(handoff: unknown): void {
    const h = handoff as { to?: unknown; job?: Record<string, unknown> } | null | undefined;
    if (!h || h.to !== this.#origin || !h.job) return;
    const job = rowToJob(h.job);
    if (this.#closed) return this.#return(job);
    const key = keyOf(job.queueName, job.lockedBy ?? "");
    // Never hold a job beyond half its lease, lest it be recovered as stalled while held.
    const lease = (job.lockUntil ?? 0) - (job.processedAt ?? 0);
    const entry: Held = {
      job,
      timer: setTimeout(() => {
        if (this.#drop(key, entry)) this.#return(job);
      }, Math.max(0, Math.min(HOLD_MS, lease / 2))),
    };
    const list = this.#held.get(key);
    if (list) list.push(entry);
    else this.#held.set(key, [entry]);
  }

  /** Take up to `count` jobs held for `worker` of `queue`. */
  take(queue: string, worker: string, count: number): JobData[] {
    const key = keyOf(queue, worker);
    const list = this.#held.get(key);
    if (!list) return [];
    const taken = list.splice(0, count);
    if (list.length === 0) this.#held.delete(key);
    for (const entry of taken) clearTimeout(entry.timer);
    return taken.map((entry) => entry.job);
  }

  /**
   * Give every held job back, and from now on each one received at once (the store
   * disconnects); waits for the returns.
   */
  async close(): Promise<void> {
    this.#closed = true;
    for (const list of this.#held.values()) {
      for (const entry of list) {
        clearTimeout(entry.timer);
        this.#return(entry.job);
      }
    }
    this.#held.clear();
    while (this.#returning.size > 0) await Promise.allSettled([...this.#returning]);
  }

  #drop(key: string, entry: Held): boolean {
    const list = this.#held.get(key);
    const i = list?.indexOf(entry) ?? -1;
    if (i < 0) return false;
    list!.splice(i, 1);
    if (list!.length === 0) this.#held.delete(key);
    return true;
  }

  #return(job: JobData): void {
    const p = this.#giveBack(job).finally(() => this.#returning.delete(p));
    this.#returning.add(p);
  }
}

function keyOf(queue: string, worker: string): string {
  return `${queue}\u0000${worker}`;
}

/** Give a handed-off job back to waiting; returns the payloads published. */
export async function unhand(db: Db, job: JobData): Promise<string[]> {
  const [row] = await db.query(UNHAND, [job.queueName, job.id, job.lockToken, db.origin]);
  return row.events as string[];
}

/** Delete this store's offers. */
export async function withdrawAll(db: Db): Promise<void> {
  await db.query(WITHDRAW_ALL, [db.origin]);
}
