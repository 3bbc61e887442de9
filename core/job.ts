/**
 * The {@linkcode Job} class: a job's data plus the operations a processor or caller performs on it.
 *
 * @module
 */

import {
  assertJsonValue,
  type JobData,
  JobNotFoundError,
  type JobProgress,
  type JobState,
  LeaseLostError,
  type StoredJobOptions,
  type StoreEvent,
  type StoreInterface,
} from "@conveyor/shared";
import { acquireHub } from "./_hub.ts";

/** Hooks a worker attaches to a job it runs. */
interface LeaseBinding {
  lockToken: string;
  onProgress: (job: Job, progress: JobProgress) => void;
}

let bind: (job: Job, binding: LeaseBinding | null) => void;

/**
 * Attach (or detach, with `null`) a worker's lease to a job: fenced updates present the lease's
 * token and progress is reported to the worker. Internal to `@conveyor/core`.
 */
export function bindJobLease(job: Job, binding: LeaseBinding | null): void {
  bind(job, binding);
}

/** Rejection of {@linkcode Job.waitUntilFinished} when the job failed for good. */
export class JobFailedError extends Error {
  /** Queue of the job. */
  readonly queueName: string;
  /** Id of the job. */
  readonly jobId: string;
  /** Error message of the job's last attempt. */
  readonly failedReason: string;
  /**
   * Create the error.
   * @param queueName queue of the job
   * @param jobId id of the job
   * @param failedReason error message of the job's last attempt
   */
  constructor(queueName: string, jobId: string, failedReason: string) {
    super(`Job "${jobId}" in queue "${queueName}" failed: ${failedReason}`);
    this.name = "JobFailedError";
    this.queueName = queueName;
    this.jobId = jobId;
    this.failedReason = failedReason;
  }
}

function checkProgress(progress: unknown, context: string): JobProgress {
  if (typeof progress === "number") {
    if (!Number.isFinite(progress)) {
      throw new RangeError(`${context}progress must be a finite number, got ${progress}`);
    }
    return progress;
  }
  if (typeof progress !== "object" || progress === null || Array.isArray(progress)) {
    throw new TypeError(
      `${context}progress must be a number or a JSON object, got ${
        Array.isArray(progress) ? "an array" : String(progress)
      }`,
    );
  }
  assertJsonValue(progress, `${context}progress`);
  return progress as JobProgress;
}

/**
 * A job: its stored data (a snapshot taken when the job was read) and methods to act on it.
 *
 * Jobs come from {@linkcode Queue.add}, {@linkcode Queue.getJob}, a worker's processor argument,
 * or a flow. Inside a processor, `updateProgress`, `log` and `updateData` are fenced by the
 * worker's lease: once the lease is lost they throw `LeaseLostError` and change nothing.
 *
 * @typeParam T payload type (default `any`; give it for type-checked payloads)
 * @typeParam R return value type
 *
 * @example
 * ```ts
 * import { Queue } from "@conveyor/core";
 * import { MemoryStore } from "@conveyor/store-memory";
 * const store = new MemoryStore();
 * await store.connect();
 * const queue = new Queue<{ to: string }>("emails", { store });
 * const job = await queue.add("welcome", { to: "a@example.com" });
 * console.log(job.id, job.name, job.data.to, await job.getState()); // … "waiting"
 * await queue.close();
 * await store.disconnect();
 * ```
 */
// deno-lint-ignore no-explicit-any
export class Job<T = any, R = any> {
  /** Id, unique within the queue. */
  readonly id: string;
  /** Queue the job belongs to. */
  readonly queueName: string;
  /** Job name (what the processor switches on). */
  readonly name: string;
  /** Payload. */
  data: T;
  /** Options the job was added with (delay resolved to ms). */
  readonly opts: StoredJobOptions;
  /** State when this snapshot was taken; {@linkcode Job.getState} reads the current one. */
  state: JobState;
  /** Priority (lower runs first). */
  readonly priority: number;
  /** Insertion order assigned by the store (0 on a job built locally by `add`). */
  readonly seq: number;
  /** Attempts that finished (failed or completed). */
  attemptsMade: number;
  /** Times the job was claimed by a worker. */
  attemptsStarted: number;
  /** Times the job's lease expired while it was active. */
  stalledCount: number;
  /** Last reported progress. */
  progress: JobProgress;
  /** What the processor returned, once completed. */
  returnValue: R | null;
  /** Error message of the last failed attempt. */
  failedReason: string | null;
  /** Stack traces of failed attempts, oldest first. */
  stacktrace: string[];
  /** Log lines added by the processor. */
  logs: string[];
  /** When the job was added (ms since the epoch). */
  readonly createdAt: number;
  /** When a delayed job becomes waiting, else `null`. */
  delayUntil: number | null;
  /** When the current or last attempt started. */
  processedAt: number | null;
  /** When the job completed or failed for good. */
  finishedAt: number | null;
  /** Id of the flow parent, if this job is a flow child. */
  readonly parentId: string | null;
  /** Queue of the flow parent, if this job is a flow child. */
  readonly parentQueueName: string | null;
  /** Direct children not yet finished (flow parents only). */
  pendingChildrenCount: number;
  /** Group of the job (`opts.groupId`), or `null`. */
  readonly groupId: string | null;
  /** Deduplication key the job was added with, or `null`. */
  readonly deduplicationKey: string | null;
  /**
   * `true` when an add was refused as a duplicate (same job id or deduplication key): this Job
   * is then the existing job, and nothing new was saved.
   */
  readonly isDuplicate: boolean;

  #store: StoreInterface;
  #lease: LeaseBinding | null = null;

  static {
    bind = (job, binding) => {
      job.#lease = binding;
    };
  }

  /**
   * Wrap stored job data. Jobs are normally obtained from a Queue, a Worker or a FlowProducer.
   * @param store the store the job lives in
   * @param data the stored data (kept, not copied)
   * @param isDuplicate whether this job is the existing job an add duplicated
   */
  constructor(store: StoreInterface, data: JobData<T, R>, isDuplicate = false) {
    this.#store = store;
    this.id = data.id;
    this.queueName = data.queueName;
    this.name = data.name;
    this.data = data.data;
    this.opts = data.opts;
    this.state = data.state;
    this.priority = data.priority;
    this.seq = data.seq;
    this.attemptsMade = data.attemptsMade;
    this.attemptsStarted = data.attemptsStarted;
    this.stalledCount = data.stalledCount;
    this.progress = data.progress;
    this.returnValue = data.returnValue;
    this.failedReason = data.failedReason;
    this.stacktrace = data.stacktrace;
    this.logs = data.logs;
    this.createdAt = data.createdAt;
    this.delayUntil = data.delayUntil;
    this.processedAt = data.processedAt;
    this.finishedAt = data.finishedAt;
    this.parentId = data.parentId;
    this.parentQueueName = data.parentQueueName;
    this.pendingChildrenCount = data.pendingChildrenCount;
    this.groupId = data.groupId;
    this.deduplicationKey = data.deduplicationKey;
    this.isDuplicate = isDuplicate;
  }

  /**
   * Report progress: a number (usually 0-100) or a JSON object. Inside a processor this also
   * emits the worker's `progress` event.
   * @param progress the progress
   * @throws {LeaseLostError} inside a processor whose lease was lost
   * @throws {JobNotFoundError} when the job no longer exists
   */
  async updateProgress(progress: JobProgress): Promise<void> {
    const value = checkProgress(progress, `Cannot update progress of job "${this.id}": `);
    const lease = this.#lease;
    const ok = await this.#store.updateJob(
      this.queueName,
      this.id,
      { progress: value },
      lease?.lockToken,
    );
    if (!ok) throw this.#refused("update progress of");
    this.progress = value;
    lease?.onProgress(this as Job, value);
  }

  /**
   * Append a line to the job's log.
   * @param line the text to append
   * @throws {LeaseLostError} inside a processor whose lease was lost
   * @throws {JobNotFoundError} when the job no longer exists
   */
  async log(line: string): Promise<void> {
    if (typeof line !== "string") {
      throw new TypeError(
        `Cannot log to job "${this.id}": line must be a string, got ${typeof line}`,
      );
    }
    const ok = await this.#store.addLog(this.queueName, this.id, line, this.#lease?.lockToken);
    if (!ok) throw this.#refused("log to");
    this.logs.push(line);
  }

  /**
   * Replace the job's payload (a JSON value).
   * @param data the new payload
   * @throws {TypeError} when `data` is not JSON
   * @throws {LeaseLostError} inside a processor whose lease was lost
   * @throws {JobNotFoundError} when the job no longer exists
   */
  async updateData(data: T): Promise<void> {
    assertJsonValue(data, `Cannot update data of job "${this.id}": payload`);
    const ok = await this.#store.updateJob(
      this.queueName,
      this.id,
      { data },
      this.#lease?.lockToken,
    );
    if (!ok) throw this.#refused("update data of");
    this.data = data;
  }

  /**
   * The job's current state, read from the store.
   * @returns the state, or `"unknown"` when the job no longer exists
   */
  async getState(): Promise<JobState | "unknown"> {
    const data = await this.#store.getJob(this.queueName, this.id);
    return data ? data.state : "unknown";
  }

  /**
   * Re-read the job from the store and update this snapshot's mutable fields.
   * @returns this job
   * @throws {JobNotFoundError} when the job no longer exists
   */
  async refresh(): Promise<this> {
    const data = await this.#store.getJob(this.queueName, this.id);
    if (!data) throw new JobNotFoundError(this.queueName, this.id);
    this.data = data.data as T;
    this.state = data.state;
    this.attemptsMade = data.attemptsMade;
    this.attemptsStarted = data.attemptsStarted;
    this.stalledCount = data.stalledCount;
    this.progress = data.progress;
    this.returnValue = data.returnValue as R | null;
    this.failedReason = data.failedReason;
    this.stacktrace = data.stacktrace;
    this.logs = data.logs;
    this.delayUntil = data.delayUntil;
    this.processedAt = data.processedAt;
    this.finishedAt = data.finishedAt;
    this.pendingChildrenCount = data.pendingChildrenCount;
    return this;
  }

  /**
   * Remove the job (and, for a flow parent, its unfinished descendants).
   * @returns `false` when the job did not exist
   * @throws {InvalidJobStateError} when the job is active
   */
  remove(): Promise<boolean> {
    return this.#store.removeJob(this.queueName, this.id);
  }

  /**
   * Wait until the job completes or fails for good, driven by the store's events (no polling).
   *
   * @param timeout give up after this many ms
   * @returns what the processor returned
   * @throws {JobFailedError} when the job failed for good
   * @throws {JobNotFoundError} when the job does not exist (or was removed without finishing)
   * @throws {DOMException} named `TimeoutError` when `timeout` ran out
   *
   * @example
   * ```ts
   * import { Queue, Worker } from "@conveyor/core";
   * import { MemoryStore } from "@conveyor/store-memory";
   * const store = new MemoryStore();
   * await store.connect();
   * const queue = new Queue<number, number>("math", { store });
   * const worker = new Worker<number, number>("math", (job) => job.data * 2, { store });
   * const job = await queue.add("double", 21);
   * console.log(await job.waitUntilFinished(5000)); // 42
   * await worker.close();
   * await queue.close();
   * await store.disconnect();
   * ```
   */
  waitUntilFinished(timeout?: number): Promise<R> {
    if (timeout !== undefined && (typeof timeout !== "number" || !(timeout >= 0))) {
      throw new RangeError(
        `Cannot wait for job "${this.id}": timeout must be a number of ms >= 0, got ${timeout}`,
      );
    }
    const store = this.#store;
    const { queueName, id } = this;
    const hub = acquireHub(store, queueName);
    return new Promise<R>((resolve, reject) => {
      let done = false;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const settle = (fn: () => void) => {
        if (done) return;
        done = true;
        if (timer !== undefined) clearTimeout(timer);
        stopWaiting();
        hub.release();
        fn();
      };
      const check = (event?: StoreEvent) => {
        store.getJob(queueName, id).then((data) => {
          if (done) return;
          if (data === null) {
            if (event?.type === "completed") {
              settle(() => resolve(event.detail?.returnValue as R));
            } else if (event?.type === "failed") {
              const reason = event.detail?.failedReason;
              settle(() =>
                reject(new JobFailedError(queueName, id, typeof reason === "string" ? reason : ""))
              );
            } else settle(() => reject(new JobNotFoundError(queueName, id)));
          } else if (data.state === "completed") {
            settle(() => resolve(data.returnValue as R));
          } else if (data.state === "failed") {
            settle(() => reject(new JobFailedError(queueName, id, data.failedReason ?? "")));
          }
        }, (error) => settle(() => reject(error)));
      };
      const stopWaiting = hub.waitFor(id, (event) => {
        switch (event.type) {
          case "completed":
          case "failed":
          case "removed":
            check(event);
            break;
          case "cleaned":
          case "drained":
            check();
        }
      });
      if (timeout !== undefined) {
        timer = setTimeout(() => {
          settle(() =>
            reject(
              new DOMException(
                `Job "${id}" in queue "${queueName}" did not finish within ${timeout} ms`,
                "TimeoutError",
              ),
            )
          );
        }, timeout);
      }
      check();
    });
  }

  /**
   * The direct children of this flow parent, across queues, oldest first.
   * @returns the children as jobs
   */
  async getDependencies(): Promise<Job[]> {
    const children = await this.#store.getChildrenJobs(this.queueName, this.id);
    return children.map((child) => new Job(this.#store, child));
  }

  /**
   * Return values of this flow parent's completed children, oldest child first. Children that
   * failed (with the `ignore` policy) or were removed are left out.
   * @typeParam V type of the children's return values
   * @returns the return values
   */
  // deno-lint-ignore no-explicit-any
  async getChildrenValues<V = any>(): Promise<V[]> {
    const children = await this.#store.getChildrenJobs(this.queueName, this.id);
    const values: V[] = [];
    for (const child of children) {
      if (child.state === "completed") values.push(child.returnValue as V);
    }
    return values;
  }

  #refused(action: string): Error {
    return this.#lease
      ? new LeaseLostError(this.queueName, this.id, action)
      : new JobNotFoundError(this.queueName, this.id);
  }
}
