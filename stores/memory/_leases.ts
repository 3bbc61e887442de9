/**
 * Lease-fenced operations of the memory store: extend, release, complete, fail. Each applies
 * only while the job is active under the presented lock token, and returns `false` otherwise.
 *
 * @module
 */

import {
  checkFailure,
  checkId,
  checkMs,
  checkToken,
  type JobFailure,
  validateQueueName,
} from "@conveyor/shared";
import { appendLine, type StoreCore } from "./_core.ts";
import type { QueueState, Rec } from "./_queue.ts";
import { checkReturnValue } from "./_validate.ts";

function held(
  core: StoreCore,
  queueName: string,
  jobId: string,
  lockToken: string,
): { q: QueueState; rec: Rec } | null {
  if (!core.queues.has(queueName)) validateQueueName(queueName);
  checkId(jobId, "jobId");
  checkToken(lockToken, "lockToken");
  return core.leased(queueName, jobId, lockToken);
}

/** Extend a lease to now + `duration`. */
export function extendLock(
  core: StoreCore,
  queueName: string,
  jobId: string,
  lockToken: string,
  duration: number,
): boolean {
  checkMs(duration, "duration", 1);
  const lease = held(core, queueName, jobId, lockToken);
  if (!lease) return false;
  lease.rec.job.lockUntil = core.now() + duration;
  return true;
}

/** Give a leased job back to waiting; `attemptsMade` is unchanged. */
export function releaseLock(
  core: StoreCore,
  queueName: string,
  jobId: string,
  lockToken: string,
): boolean {
  const lease = held(core, queueName, jobId, lockToken);
  if (!lease) return false;
  core.clearLock(lease.rec);
  core.toWaiting(lease.q, lease.rec);
  core.emitState(lease.rec);
  return true;
}

/** Complete a leased job (parent count, `removeOnComplete` and event included). */
export function completeJob(
  core: StoreCore,
  queueName: string,
  jobId: string,
  lockToken: string,
  returnValue: unknown,
): boolean {
  // held() inlined: no { q, rec } pair per completion.
  if (!core.queues.has(queueName)) validateQueueName(queueName);
  checkId(jobId, "jobId");
  checkToken(lockToken, "lockToken");
  const q = core.queues.get(queueName);
  const rec = q?.jobs.get(jobId);
  const value = checkReturnValue(returnValue);
  if (q === undefined || rec === undefined) return false;
  const job = rec.job;
  if (job.state !== "active" || job.lockToken !== lockToken) return false;
  core.complete(q, rec, value, core.now());
  return true;
}

/** Fail a leased attempt: retry now, retry after a delay, or fail for good. */
export function failJob(
  core: StoreCore,
  queueName: string,
  jobId: string,
  lockToken: string,
  failure: JobFailure,
): boolean {
  const lease = held(core, queueName, jobId, lockToken);
  const f = checkFailure(failure);
  if (!lease) return false;
  const { q, rec } = lease;
  const now = core.now();
  rec.job.attemptsMade++;
  if (typeof f.stacktrace === "string") {
    rec.job.stacktrace = appendLine(rec.job.stacktrace, f.stacktrace);
  }
  if (f.retryDelay === null) {
    core.failFinal(q, rec, f.failedReason, now);
    return true;
  }
  rec.job.failedReason = f.failedReason;
  core.clearLock(rec);
  if (f.retryDelay > 0) core.toDelayed(q, rec, now + f.retryDelay);
  else core.toWaiting(q, rec);
  core.emitState(rec);
  return true;
}
