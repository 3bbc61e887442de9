/**
 * Event detail types of `Queue.events` and `Worker.events`.
 *
 * @module
 */

import type { JobProgress } from "@conveyor/shared";
import type { Job } from "./job.ts";

/** Fields every queue event carries: the queue, and the job when one is concerned. */
export interface QueueEventDetail {
  /** Queue the event happened in. */
  queueName: string;
  /** Job concerned, when the event is about one job. */
  jobId?: string;
  /** Job name concerned, when known (and for pause/resume by job name). */
  name?: string;
  /** Number of jobs a coalesced event stands for (e.g. a bulk add). */
  count?: number;
}

/** Detail of a queue `progress` event. */
export interface QueueProgressDetail extends QueueEventDetail {
  /** The reported progress, when the store carried it. */
  progress?: JobProgress;
}

/** Detail of a queue `completed` event. */
export interface QueueCompletedDetail extends QueueEventDetail {
  /** The return value, when the store carried it. */
  returnValue?: unknown;
}

/** Detail of a queue `failed` event. */
export interface QueueFailedDetail extends QueueEventDetail {
  /** Error message of the failed attempt, when the store carried it. */
  failedReason?: string;
}

/** Detail of an `error` event. */
export interface ErrorEventDetail {
  /** The error. */
  error: Error;
  /** Queue concerned, when known. */
  queueName?: string;
  /** Job concerned, when known. */
  jobId?: string;
}

/**
 * Events of `Queue.events`: what the store reports for the queue, from this process
 * and (where the store can) from others.
 */
export interface QueueEvents {
  /** Jobs became waiting (added, promoted, retried or released). */
  waiting: QueueEventDetail;
  /** A flow parent was saved and waits for its children. */
  "waiting-children": QueueEventDetail;
  /** A job was delayed (a delayed add, or a retry after backoff). */
  delayed: QueueEventDetail;
  /** A worker claimed a job. */
  active: QueueEventDetail;
  /** A job reported progress. */
  progress: QueueProgressDetail;
  /** A job completed. */
  completed: QueueCompletedDetail;
  /** A job attempt failed. */
  failed: QueueFailedDetail;
  /** A job's lease expired and the job was recovered or failed. */
  stalled: QueueEventDetail;
  /** A job was removed. */
  removed: QueueEventDetail;
  /** Finished jobs were cleaned. */
  cleaned: QueueEventDetail;
  /** The queue (no `name`) or one job name was paused. */
  paused: QueueEventDetail;
  /** The queue (no `name`) or one job name was resumed. */
  resumed: QueueEventDetail;
  /** The queue was drained. */
  drained: QueueEventDetail;
  /** A listener threw, or a background operation failed. */
  error: ErrorEventDetail;
}

/** Fields every worker job event carries. */
export interface WorkerJobDetail {
  /** Queue of the job. */
  queueName: string;
  /** Id of the job. */
  jobId: string;
  /** Name of the job. */
  name: string;
  /** The job as the worker holds it. */
  job: Job;
}

/** Detail of a worker `progress` event. */
export interface WorkerProgressDetail extends WorkerJobDetail {
  /** The reported progress. */
  progress: JobProgress;
}

/** Detail of a worker `completed` event. */
export interface WorkerCompletedDetail extends WorkerJobDetail {
  /** What the processor returned. */
  returnValue: unknown;
  /** Milliseconds the processor ran. */
  duration: number;
}

/** Detail of a worker `failed` event (one per failed attempt). */
export interface WorkerFailedDetail extends WorkerJobDetail {
  /** Error message. */
  failedReason: string;
  /** What the processor threw (a `JobTimeoutError` when the job timed out). */
  error: Error;
  /** Attempts finished so far, this one included. */
  attemptsMade: number;
  /** Whether the job will be retried. */
  willRetry: boolean;
  /** Milliseconds before the retry, when `willRetry`. */
  retryDelay?: number;
}

/** Detail of a worker `delayed` event: a failed job was scheduled for a later retry. */
export interface WorkerDelayedDetail extends WorkerJobDetail {
  /** Milliseconds before the retry. */
  delay: number;
}

/** Detail of a worker `stalled` event. */
export interface WorkerStalledDetail {
  /** Queue of the job. */
  queueName: string;
  /** Id of the job whose lease expired. */
  jobId: string;
  /** `true` when the job stalled too often and was failed; `false` when it was put back. */
  failed: boolean;
}

/** Detail of worker `paused`, `resumed` and `drained` events. */
export interface WorkerStateDetail {
  /** Queue the worker serves. */
  queueName: string;
}

/** Events of `Worker.events`: what this worker did. */
export interface WorkerEvents {
  /** The worker started a job. */
  active: WorkerJobDetail;
  /** A running job reported progress. */
  progress: WorkerProgressDetail;
  /** A job completed. */
  completed: WorkerCompletedDetail;
  /** A job attempt failed (see `willRetry`). */
  failed: WorkerFailedDetail;
  /** A failed job was scheduled for a retry after a backoff. */
  delayed: WorkerDelayedDetail;
  /** Stalled-job recovery put back or failed a job whose lease expired. */
  stalled: WorkerStalledDetail;
  /** The worker was paused. */
  paused: WorkerStateDetail;
  /** The worker was resumed. */
  resumed: WorkerStateDetail;
  /** The worker found no more jobs and has none running. */
  drained: WorkerStateDetail;
  /**
   * Something went wrong outside a processor: a store call failed, a lease was lost
   * (`LeaseLostError`), a listener threw.
   */
  error: ErrorEventDetail;
}
