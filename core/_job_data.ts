// JobData of a job just saved, built locally instead of read back from the store.

import type { JobData, NewJob } from "@conveyor/shared";

/** Build the JobData of a job just saved, without reading it back. */
export function localJobData<T>(queueName: string, job: NewJob<T>, now: number): JobData<T> {
  const delay = job.opts.delay ?? 0;
  const pending = job.pendingChildrenCount ?? 0;
  return {
    id: job.id,
    queueName,
    name: job.name,
    data: job.data,
    state: pending > 0 ? "waiting-children" : delay > 0 ? "delayed" : "waiting",
    opts: job.opts,
    priority: job.opts.priority ?? 0,
    seq: 0,
    attemptsMade: 0,
    attemptsStarted: 0,
    stalledCount: 0,
    progress: 0,
    returnValue: null,
    failedReason: null,
    stacktrace: [],
    logs: [],
    createdAt: now,
    delayUntil: delay > 0 ? now + delay : null,
    processedAt: null,
    finishedAt: null,
    lockedBy: null,
    lockToken: null,
    lockUntil: null,
    parentId: job.parentId ?? null,
    parentQueueName: job.parentQueueName ?? null,
    pendingChildrenCount: pending,
    deduplicationKey: job.deduplicationKey ?? null,
    groupId: job.opts.groupId ?? null,
  };
}
