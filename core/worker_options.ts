/**
 * Options and processor types of a `Worker`.
 *
 * @module
 */

import type { StoreInterface } from "@conveyor/shared";
import type { Job } from "./job.ts";

/**
 * Runs one job. Return the job's result (a JSON value); throw to fail the attempt
 * (`UnrecoverableError` fails it with no further retries).
 *
 * `signal` aborts when the job's `timeout` runs out (reason: `JobTimeoutError`), when the worker
 * loses the job's lease (`LeaseLostError`), or when `close(timeout)` gives up waiting.
 */
// deno-lint-ignore no-explicit-any
export type Processor<T = any, R = any> = (
  job: Job<T, R>,
  signal: AbortSignal,
) => R | Promise<R>;

/**
 * Runs a batch of jobs (see `WorkerOptions.batch`). Return nothing (every job completes with
 * `null`), or an array with one entry per job, in order: the job's result, or an `Error` to fail
 * that job alone. Throwing fails every job of the batch.
 */
// deno-lint-ignore no-explicit-any
export type BatchProcessor<T = any, R = any> = (
  jobs: Job<T, R>[],
  signal: AbortSignal,
) => void | (R | Error)[] | Promise<void | (R | Error)[]>;

/**
 * A custom backoff strategy: the delay (ms) before the next attempt. Return a negative number
 * or `null` to stop retrying.
 *
 * @param attemptsMade attempts finished so far, the failed one included (>= 1)
 * @param error what the processor threw
 * @param job the failed job
 */
export type BackoffStrategy = (
  attemptsMade: number,
  error: Error,
  job: Job,
) => number | null;

/** Sliding-window rate limit, shared by every worker of the queue. */
export interface RateLimiterOptions {
  /** At most this many jobs are started… */
  max: number;
  /** …per this many milliseconds. */
  duration: number;
}

/** Batch processing: the processor receives up to `size` jobs at once. */
export interface BatchOptions {
  /** Most jobs per batch. */
  size: number;
}

/** Group limits (jobs with `opts.groupId`). */
export interface GroupOptions {
  /** Jobs of one group that may run at once, across all workers. */
  concurrency: number;
}

/** Options of a `Worker`. */
export interface WorkerOptions {
  /** Where jobs are kept (the same store the queue uses). */
  store: StoreInterface;
  /**
   * Jobs (or batches) this worker runs at once.
   * @default 1
   */
  concurrency?: number;
  /**
   * Jobs claimed ahead of free slots and held, leased, in the worker's local queue, so a slot
   * that frees starts its next job without a round trip to the store, and claims go in large
   * batches. Worth it on a remote store (PostgreSQL: e.g. `prefetch: 200` with `concurrency:
   * 50`); little use in memory. Held jobs count as active (for `group`, `maxGlobalConcurrency`
   * and `getJobCounts`), their leases are renewed while they wait, and `pause()`/`close()` give
   * them back without counting an attempt. A worker that dies holding them leaves them to
   * stalled-job recovery, like its running jobs. Not with `batch` (a batch worker already claims
   * `concurrency × batch.size` at once).
   * @default 0
   */
  prefetch?: number;
  /**
   * Jobs of the queue that may run at once across every worker.
   * @default unlimited
   */
  maxGlobalConcurrency?: number;
  /**
   * Lease length in ms: a job whose worker stops renewing it for this long is stalled.
   * @default 30000
   */
  lockDuration?: number;
  /**
   * How often (ms) the worker renews the leases of its running jobs; less than `lockDuration`.
   * @default lockDuration / 2
   */
  lockRenewTime?: number;
  /**
   * How often (ms) the worker recovers stalled jobs (expired leases) of the queue.
   * @default 30000
   */
  stalledInterval?: number;
  /**
   * Times a job may stall before it fails for good.
   * @default 1
   */
  maxStalledCount?: number;
  /**
   * Safety-net poll interval (ms). Workers are woken by store events and timers; the poll only
   * covers events a store could not deliver.
   * @default 2000
   */
  pollInterval?: number;
  /**
   * Rate limit across every worker of the queue.
   * @default unlimited
   */
  limiter?: RateLimiterOptions;
  /**
   * Per-group concurrency for jobs added with `groupId`.
   * @default unlimited
   */
  group?: GroupOptions;
  /**
   * Custom backoff strategies by name, used by jobs added with `backoff: { type: name }`.
   * @default {}
   */
  backoffStrategies?: Record<string, BackoffStrategy>;
  /**
   * Start processing at once; with `false`, call `run()`.
   * @default true
   */
  autorun?: boolean;
  /**
   * Id of this worker, recorded on the jobs it leases.
   * @default a random UUID
   */
  id?: string;
}

/** Options of a batch `Worker`: {@linkcode WorkerOptions} plus `batch`. */
export interface BatchWorkerOptions extends WorkerOptions {
  /** Run jobs in batches: the processor receives up to `batch.size` jobs at once. */
  batch: BatchOptions;
}
