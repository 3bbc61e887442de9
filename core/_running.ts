// A worker's running jobs: their bookkeeping, timeouts, and how an attempt is finished
// (one atomic completeJob/failJob call, then the worker's events).

import {
  type JobData,
  type JobProgress,
  JobTimeoutError,
  LeaseLostError,
  type StoreInterface,
} from "@conveyor/shared";
import { type BackoffStrategyFn, decideRetry } from "./_backoff.ts";
import { returnValueProblem } from "./_util.ts";
import type { EventBus } from "./event_bus.ts";
import type { WorkerEvents } from "./events.ts";
import type { Job } from "./job.ts";

/** One processor call: a job, or a batch of jobs. */
export interface Unit {
  controller: AbortController;
  timer: ReturnType<typeof setTimeout> | undefined;
  /** The lease was given back (close timed out): the outcome is dropped. */
  released: boolean;
  started: number;
}

/** One leased job. Also the lease binding handed to its Job. */
export interface Entry {
  data: JobData;
  job: Job;
  lockToken: string;
  onProgress: (job: Job, progress: JobProgress) => void;
  unit: Unit;
  /** completeJob/failJob was called: lease renewal no longer applies. */
  finishing: boolean;
  /** The lease was lost: the outcome is dropped. */
  lost: boolean;
}

/** Run `run` with a timeout that aborts the unit's signal and rejects with JobTimeoutError. */
export function withTimeout(
  unit: Unit,
  run: () => unknown,
  ms: number,
  jobId: string,
): Promise<unknown> {
  return new Promise((resolve, reject) => {
    unit.timer = setTimeout(() => {
      unit.timer = undefined;
      const error = new JobTimeoutError(jobId, ms);
      unit.controller.abort(error);
      reject(error);
    }, ms);
    let result: Promise<unknown>;
    try {
      result = Promise.resolve(run());
    } catch (error) {
      result = Promise.reject(error);
    }
    result.then(resolve, reject);
  });
}

/** Finishes attempts for one worker. */
export class Finisher {
  readonly #store: StoreInterface;
  readonly #queueName: string;
  readonly #events: EventBus<WorkerEvents>;
  readonly #strategies: Readonly<Record<string, BackoffStrategyFn>> | undefined;
  readonly #onError: (error: unknown, jobId?: string) => void;
  readonly #onRetryAt: (at: number) => void;

  constructor(
    store: StoreInterface,
    queueName: string,
    events: EventBus<WorkerEvents>,
    strategies: Readonly<Record<string, BackoffStrategyFn>> | undefined,
    onError: (error: unknown, jobId?: string) => void,
    onRetryAt: (at: number) => void,
  ) {
    this.#store = store;
    this.#queueName = queueName;
    this.#events = events;
    this.#strategies = strategies;
    this.#onError = onError;
    this.#onRetryAt = onRetryAt;
  }

  async complete(entry: Entry, value: unknown): Promise<void> {
    const result = value === undefined ? null : value;
    const problem = returnValueProblem(result, entry.data.id);
    if (problem) return await this.fail(entry, problem);
    entry.finishing = true;
    const { data } = entry;
    let ok: boolean;
    try {
      ok = await this.#store.completeJob(this.#queueName, data.id, entry.lockToken, result);
    } catch (error) {
      this.#onError(error, data.id);
      return;
    }
    if (!ok) return this.leaseLost(entry, "complete");
    entry.job.state = "completed";
    entry.job.returnValue = result;
    if (this.#events.hasListeners("completed")) {
      this.#events.emit("completed", {
        queueName: this.#queueName,
        jobId: data.id,
        name: data.name,
        job: entry.job,
        returnValue: result,
        duration: Date.now() - entry.unit.started,
      });
    }
  }

  async fail(entry: Entry, error: Error): Promise<void> {
    entry.finishing = true;
    const { data } = entry;
    const decision = decideRetry(data, error, entry.job, this.#strategies);
    if (decision.problem) this.#onError(decision.problem, data.id);
    const retryDelay = decision.retryDelay;
    const failedReason = error.message || error.name;
    let ok: boolean;
    try {
      ok = await this.#store.failJob(this.#queueName, data.id, entry.lockToken, {
        failedReason,
        stacktrace: error.stack ?? null,
        retryDelay,
      });
    } catch (storeError) {
      this.#onError(storeError, data.id);
      return;
    }
    if (!ok) return this.leaseLost(entry, "fail");
    const attemptsMade = data.attemptsMade + 1;
    const job = entry.job;
    job.attemptsMade = attemptsMade;
    job.failedReason = failedReason;
    const willRetry = retryDelay !== null;
    job.state = !willRetry ? "failed" : retryDelay > 0 ? "delayed" : "waiting";
    if (willRetry && retryDelay > 0) this.#onRetryAt(Date.now() + retryDelay);
    const base = { queueName: this.#queueName, jobId: data.id, name: data.name, job };
    if (this.#events.hasListeners("failed")) {
      this.#events.emit("failed", {
        ...base,
        failedReason,
        error,
        attemptsMade,
        willRetry,
        ...(willRetry ? { retryDelay } : {}),
      });
    }
    if (willRetry && retryDelay > 0) this.#events.emit("delayed", { ...base, delay: retryDelay });
  }

  /** Record (once) that the worker lost `entry`'s lease, as an `error` event. */
  leaseLost(entry: Entry, action: string): void {
    if (entry.lost) return;
    entry.lost = true;
    this.#onError(new LeaseLostError(this.#queueName, entry.data.id, action), entry.data.id);
  }
}
