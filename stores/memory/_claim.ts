/**
 * Claims of the memory store: lease the next waiting jobs while honouring every limit.
 *
 * @module
 */

import { ALL_JOB_NAMES, type FetchOptions } from "@conveyor/shared";
import type { StoreCore } from "./_core.ts";
import type { QueueState, Rec } from "./_queue.ts";

/**
 * Lease up to `count` jobs of the queue in claim order (priority, then LIFO newest first, then
 * FIFO oldest first), skipping paused names and groups at their limit, and stopping at the
 * global concurrency or rate limit. Runs synchronously: the claim is atomic.
 */
export function claim(
  core: StoreCore,
  q: QueueState,
  workerId: string,
  lockDuration: number,
  count: number,
  opts: FetchOptions,
): Rec[] {
  const out: Rec[] = [];
  if (q.paused.has(ALL_JOB_NAMES) || q.counts.waiting === 0) return out;
  const now = core.now();
  const { maxGlobalConcurrency: maxActive, rateLimit, groupConcurrency } = opts;
  while (out.length < count) {
    if (maxActive !== undefined && q.counts.active >= maxActive) break;
    if (rateLimit && q.claims.count(now, rateLimit.duration) >= rateLimit.max) break;
    const rec = q.waiting.next(groupConcurrency);
    if (rec === null) break;
    core.lease(q, rec, workerId, lockDuration, now);
    out.push(rec);
  }
  if (core.events.listens(q.name)) {
    for (const rec of out) core.emitJob(rec, "active", { workerId });
  }
  if (out.length > 0 && q.counts.waiting === 0) {
    core.events.publish({ type: "drained", queueName: q.name });
  }
  return out;
}
