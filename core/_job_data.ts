// JobData of a job just saved, built locally instead of read back from the store.

import type { JobData, NewJob, StoreInterface } from "@conveyor/shared";
import { Job } from "./job.ts";

/** A JobData with every field (in one order, so every one has the same shape) at its default. */
function blank(): JobData {
  return {
    id: "",
    queueName: "",
    name: "",
    data: null,
    state: "waiting",
    opts: {},
    priority: 0,
    seq: 0,
    attemptsMade: 0,
    attemptsStarted: 0,
    stalledCount: 0,
    progress: 0,
    returnValue: null,
    failedReason: null,
    stacktrace: [],
    logs: [],
    createdAt: 0,
    delayUntil: null,
    processedAt: null,
    finishedAt: null,
    lockedBy: null,
    lockToken: null,
    lockUntil: null,
    parentId: null,
    parentQueueName: null,
    pendingChildrenCount: 0,
    deduplicationKey: null,
    groupId: null,
  };
}

/** Set the fields of `d` that a just-saved `job` decides; the others keep their defaults. */
function fill<T>(d: JobData, queueName: string, job: NewJob<T>, now: number): JobData<T> {
  const opts = job.opts;
  const delay = opts.delay ?? 0;
  const pending = job.pendingChildrenCount ?? 0;
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
  return d as JobData<T>;
}

/** Build the JobData of a job just saved, without reading it back. */
export function localJobData<T>(queueName: string, job: NewJob<T>, now: number): JobData<T> {
  return fill(blank(), queueName, job, now);
}

/**
 * One JobData, refilled for every {@linkcode localJob}: the Job constructor copies its fields,
 * so an add allocates the Job alone. Fields that never differ keep their defaults.
 */
const scratch: JobData = blank();

/** The Job of a job just saved ({@linkcode localJobData} as a Job), without reading it back. */
export function localJob<T, R>(
  store: StoreInterface,
  queueName: string,
  job: NewJob<T>,
  now: number,
): Job<T, R> {
  const out = new Job<T, R>(store, fill(scratch, queueName, job, now) as JobData<T, R>);
  // Keep nothing of this job alive through the scratch object.
  scratch.data = null;
  return out;
}
