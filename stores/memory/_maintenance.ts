/**
 * Maintenance operations of the memory store: stalled-job recovery, `clean` and `drain`.
 * None of them is on a claim's hot path.
 *
 * @module
 */

import type { JobState, StalledRecovery } from "@conveyor/shared";
import type { StoreCore } from "./_core.ts";
import { isLiveDelayed, type QueueState, type Rec } from "./_queue.ts";

/** Active jobs whose lease ended before `now`, by ascending `seq` (active jobs are few). */
export function stalledJobs(q: QueueState, now: number): Rec[] {
  const out: Rec[] = [];
  for (const rec of q.active) if ((rec.job.lockUntil as number) < now) out.push(rec);
  return out.sort((a, b) => a.job.seq - b.job.seq);
}

/** Put every stalled job back to waiting, or fail it for good past `maxStalledCount`. */
export function recoverStalled(
  core: StoreCore,
  q: QueueState,
  maxStalledCount: number,
): StalledRecovery {
  const result: StalledRecovery = { recovered: [], failed: [] };
  const now = core.now();
  const back: Rec[] = [];
  for (const rec of stalledJobs(q, now)) {
    const job = rec.job;
    job.stalledCount++;
    core.emitJob(rec, "stalled", { stalledCount: job.stalledCount });
    if (job.stalledCount > maxStalledCount) {
      result.failed.push(job.id);
      const reason = `Job "${job.id}" stalled ${job.stalledCount} times, more than the allowed ` +
        `${maxStalledCount} (its lease expired while it was active)`;
      core.failFinal(q, rec, reason, now);
    } else {
      result.recovered.push(job.id);
      core.clearLock(rec);
      core.toWaiting(q, rec);
      back.push(rec);
    }
  }
  core.emitMoved(back);
  return result;
}

/** Remove up to `max` jobs in `state` that finished or were added at or before `cutoff`. */
export function clean(
  core: StoreCore,
  q: QueueState,
  state: JobState,
  cutoff: number,
  max: number,
): string[] {
  const ids: string[] = [];
  if (state === "active" || max <= 0) return ids;
  if (state === "completed" || state === "failed") {
    // Finished jobs are logged in finishing order: the oldest come first.
    const log = state === "completed" ? q.completed : q.failed;
    for (let rec = log.oldest(); rec !== undefined && ids.length < max; rec = log.oldest()) {
      if ((rec.job.finishedAt as number) > cutoff) break;
      ids.push(rec.job.id);
      core.remove(q, rec, false, false);
    }
    log.compact(q.counts[state]);
  } else {
    const picked: Rec[] = [];
    for (const rec of q.jobs.values()) {
      if (rec.job.state === state && rec.job.createdAt <= cutoff) picked.push(rec);
      if (picked.length >= max) break;
    }
    for (const rec of picked) {
      // An earlier removal in this loop may have taken this job with its parent.
      if (q.jobs.get(rec.job.id) !== rec || rec.job.state !== state) continue;
      ids.push(rec.job.id);
      core.remove(q, rec, true, false);
    }
  }
  if (ids.length > 0) {
    core.events.publish({
      type: "cleaned",
      queueName: q.name,
      count: ids.length,
      detail: { state },
    });
  }
  return ids;
}

/** Remove every waiting job, and every delayed one when `withDelayed`; returns how many. */
export function drain(core: StoreCore, q: QueueState, withDelayed: boolean): number {
  let removed = 0;
  // Removing a flow child may release its parent into this queue: repeat until none is left.
  while (q.counts.waiting > 0 || (withDelayed && q.counts.delayed > 0)) {
    const batch = [...q.waiting.records()];
    if (withDelayed) {
      for (const e of q.delayed.values()) if (isLiveDelayed(e)) batch.push(e.rec);
    }
    let done = 0;
    for (const rec of batch) {
      const s = rec.job.state;
      if (q.jobs.get(rec.job.id) !== rec || (s !== "waiting" && s !== "delayed")) continue;
      core.remove(q, rec, true, false);
      done++;
    }
    removed += done;
    if (q.counts.waiting === 0) q.waiting.clear();
    if (q.counts.delayed === 0) q.delayed.clear();
    if (done === 0) break;
  }
  core.events.publish({ type: "drained", queueName: q.name, count: removed });
  return removed;
}
