// JobData of a job just saved, built locally instead of read back from the store.

import type { JobData, NewJob, StoreInterface } from "@conveyor/shared";
import { Job } from "./job.ts";

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

/**
 * One JobData, refilled for every {@linkcode localJob}: the Job constructor copies its fields,
 * so an add allocates the Job alone. Fields that never differ keep the values set here.
 */
const scratch: JobData = localJobData("", { id: "", name: "", data: null, opts: {} }, 0);

/** The Job of a job just saved ({@linkcode localJobData} as a Job), without reading it back. */
export function localJob<T, R>(
  store: StoreInterface,
  queueName: string,
  job: NewJob<T>,
  now: number,
): Job<T, R> {
  const opts = job.opts;
  const delay = opts.delay ?? 0;
  const pending = job.pendingChildrenCount ?? 0;
  const d = scratch;
  d.id = job.id;
  d.queueName = queueName;
  d.name = job.name;
  d.data = job.data;
  d.state = pending > 0 ? "waiting-children" : delay > 0 ? "delayed" : "waiting";
  d.opts = opts;
  d.priority = opts.priority ?? 0;
  d.stacktrace = [];
  d.logs = [];
  d.createdAt = now;
  d.delayUntil = delay > 0 ? now + delay : null;
  d.parentId = job.parentId ?? null;
  d.parentQueueName = job.parentQueueName ?? null;
  d.pendingChildrenCount = pending;
  d.deduplicationKey = job.deduplicationKey ?? null;
  d.groupId = opts.groupId ?? null;
  const out = new Job<T, R>(store, d as JobData<T, R>);
  // Keep nothing of this job alive through the scratch object.
  d.data = null;
  return out;
}
