/**
 * The {@linkcode Queue} class: adds jobs and manages a queue.
 *
 * @module
 */

import {
  ALL_JOB_NAMES,
  JOB_STATES,
  type JobData,
  type JobOptions,
  type JobState,
  type NewJob,
  parseDuration,
  type SaveResult,
  STORE_EVENT_TYPES,
  StoreClosedError,
  type StoreEvent,
  type StoreInterface,
  type TransactionScope,
  validateJobName,
  validateJobOptions,
  validateQueueName,
} from "@conveyor/shared";
import { acquireHub, type QueueHub } from "./_hub.ts";
import { localJob, localJobData } from "./_job_data.ts";
import { buildNewJob, checkPayload, fastNewJob } from "./_new_job.ts";
import { checkCron, type ScheduleDefinition } from "./_scheduler.ts";
import {
  listSchedules,
  registerSchedule,
  removeSchedule,
  scheduleDefinition,
  splitRepeatOptions,
} from "./_schedules.ts";
import { transactionOption, transactionScope } from "./_transaction.ts";
import { toError } from "./_util.ts";
import { checkInt, checkKeys, checkObject, checkStore, describe } from "./_validate.ts";
import { EventBus, watchListeners } from "./event_bus.ts";
import type { QueueEvents } from "./events.ts";
import { Job } from "./job.ts";
import type { RepeatableInfo, RepeatOptions } from "./repeat_options.ts";

/** Options of `Queue.add`: every {@linkcode JobOptions} field except `repeat` (see `cron`). */
export type AddJobOptions = Omit<JobOptions, "repeat">;

/**
 * The `transaction` option of {@linkcode Queue.add}, {@linkcode Queue.addBulk} and
 * `FlowProducer.add`: enqueue inside your own database transaction.
 */
export interface TransactionOptions {
  /**
   * Your open database transaction; the store must support it (see `TransactionalStore` in
   * `@conveyor/shared`), else the add rejects with a `TypeError`. For `PgStore`, the postgres.js
   * `tx` of `sql.begin(async (tx) => ...)`. The jobs, and the wake-up of workers, then exist only
   * if that transaction commits; a rollback leaves nothing. The option is not stored with the
   * job.
   *
   * The returned `Job` objects are usable after the commit. Until then, reading the jobs back
   * through the store (`queue.getJob`, `job.getState()`, …) does not see them, and after a
   * rollback they name jobs that do not exist. Call within the transaction, while it is open.
   * @default none: the jobs are saved at once
   */
  transaction?: unknown;
}

/** Options of a {@linkcode Queue}. */
export interface QueueOptions {
  /** Where jobs are kept (e.g. a connected `MemoryStore`). */
  store: StoreInterface;
  /**
   * Options applied to every job added through this queue; `add`'s own options win.
   * @default {}
   */
  defaultJobOptions?: AddJobOptions;
}

/** One job of `Queue.addBulk`. */
export interface BulkJob<T = unknown> {
  /** Job name. */
  name: string;
  /** Payload (a JSON value). */
  data: T;
  /** Job options. */
  opts?: AddJobOptions;
}

function sortedCounts(): Record<JobState, number> {
  const counts = {} as Record<JobState, number>;
  for (const state of JOB_STATES) counts[state] = 0;
  return counts;
}

/**
 * A queue: add jobs (now, later, repeatedly), inspect them, pause and clean up.
 *
 * A Queue only talks to its store; workers (in this process or others) run the jobs.
 *
 * @typeParam T payload type of the queue's jobs (default `any`; give it for type-checked payloads)
 * @typeParam R return value type of the queue's jobs
 *
 * @example
 * ```ts
 * import { Queue } from "@conveyor/core";
 * import { MemoryStore } from "@conveyor/store-memory";
 * const store = new MemoryStore();
 * await store.connect();
 * const queue = new Queue<{ to: string }>("emails", { store });
 * await queue.add("welcome", { to: "a@example.com" });
 * await queue.add("reminder", { to: "a@example.com" }, { delay: "in 10 minutes", attempts: 3 });
 * console.log(await queue.countJobs("delayed")); // 1
 * await queue.close();
 * await store.disconnect();
 * ```
 */
// deno-lint-ignore no-explicit-any
export class Queue<T = any, R = any> {
  /** Name of the queue. */
  readonly name: string;
  /** The store the queue uses. */
  readonly store: StoreInterface;
  /**
   * Typed events the store reports for this queue (from this process and, where the store can,
   * from others): `waiting`, `active`, `progress`, `completed`, `failed`, `delayed`, …
   *
   * The queue follows its store's events only while a listener is registered here (a queue
   * nobody listens to costs the store no event per job), so a listener hears what happens from
   * the moment it is added.
   */
  readonly events: EventBus<QueueEvents>;
  #hub: QueueHub;
  #unlisten: (() => void) | undefined;
  #defaults: AddJobOptions | undefined;
  #closed = false;

  /**
   * Create a queue handle.
   * @param name queue name (non-empty, at most 255 characters)
   * @param options the store, and default job options
   * @throws {TypeError | RangeError} when the name or an option is invalid
   */
  constructor(name: string, options: QueueOptions) {
    const context = `Cannot create queue ${describe(name)}: `;
    try {
      validateQueueName(name);
    } catch (error) {
      const Ctor = error instanceof RangeError ? RangeError : TypeError;
      throw new Ctor(`${context}${(error as Error).message}`);
    }
    checkObject(options, "options", context);
    checkKeys(options, ["store", "defaultJobOptions"], "option", context);
    this.store = checkStore(options.store, context);
    if (options.defaultJobOptions !== undefined) {
      validateJobOptions(options.defaultJobOptions, `${context}defaultJobOptions: `);
      if ("repeat" in options.defaultJobOptions) {
        throw new TypeError(`${context}defaultJobOptions must not set repeat`);
      }
      this.#defaults = { ...options.defaultJobOptions };
    }
    this.name = name;
    this.events = new EventBus<QueueEvents>((error) =>
      this.events.emit("error", { error, queueName: this.name })
    );
    this.#hub = acquireHub(this.store, name);
    // The store's events are followed only while `events` has listeners: a queue nobody listens
    // to costs the store no event per job.
    watchListeners(this.events as EventBus<object>, () => this.#listenersChanged());
  }

  /**
   * Add a job.
   *
   * When the store already holds a job with the same `jobId`, or a live job with the same
   * deduplication key, nothing is saved: the returned job is the existing one, with
   * `isDuplicate` set.
   *
   * With `opts.transaction`, the job is saved inside your own database transaction and exists
   * (and wakes workers) only if that transaction commits; see {@linkcode TransactionOptions}.
   *
   * @param name job name (what the processor switches on)
   * @param data payload; must survive a JSON round trip
   * @param opts job options (priority, delay, attempts, backoff, deduplication, …), and
   *   `transaction`
   * @returns the added job, or the existing job when the add was a duplicate
   * @throws {TypeError | RangeError} naming the bad field and value; a `TypeError` when
   *   `transaction` is given and the store cannot save inside it
   *
   * @example
   * ```ts
   * import { Queue } from "@conveyor/core";
   * import { MemoryStore } from "@conveyor/store-memory";
   * const store = new MemoryStore();
   * await store.connect();
   * const queue = new Queue("emails", { store });
   * const first = await queue.add("send", { to: "a" }, { deduplication: { id: "a" } });
   * const again = await queue.add("send", { to: "a" }, { deduplication: { id: "a" } });
   * console.log(again.isDuplicate, again.id === first.id); // true true
   * await queue.close();
   * await store.disconnect();
   * ```
   *
   * @example Enqueue inside your own PostgreSQL transaction
   * ```ts ignore
   * import postgres from "postgres";
   * import { Queue } from "@conveyor/core";
   * import { PgStore } from "@conveyor/store-pg";
   * const sql = postgres("postgres://postgres@127.0.0.1:5432/test");
   * const store = new PgStore({ connection: sql });
   * await store.connect();
   * const queue = new Queue("emails", { store });
   * await sql.begin(async (tx) => {
   *   await tx`insert into orders (id) values (${42})`;
   *   await queue.add("receipt", { order: 42 }, { transaction: tx });
   * }); // the job exists only if the order does
   * ```
   */
  add(
    name: string,
    data: T,
    opts?: AddJobOptions & TransactionOptions,
  ): Promise<Job<T, R>> {
    // The common add (no options, a valid name) in one step: no async frame, no option merging,
    // and the payload checked once, by the store (which refuses, saving nothing, what is not
    // JSON; see StoreInterface.saveJob). After a refusal the payload is checked here, so the
    // error names the add as the general path's does. Anything else takes the general path.
    if (opts === undefined && this.#defaults === undefined && !this.#closed) {
      try {
        const job = fastNewJob(name, data);
        if (job !== null) {
          let saving: Promise<SaveResult>;
          try {
            saving = this.store.saveJob(this.name, job);
          } catch (error) {
            saving = Promise.reject(error);
          }
          return saving.then(
            (result) => result.duplicate ? this.#existing(result.id, job) : this.#saved(job),
            (error) => {
              checkPayload(name, data);
              throw error;
            },
          );
        }
      } catch (error) {
        return Promise.reject(error);
      }
    }
    return this.#add(name, data, opts);
  }

  async #add(
    name: string,
    data: T,
    opts?: AddJobOptions & TransactionOptions,
  ): Promise<Job<T, R>> {
    this.#checkOpen();
    let scope: TransactionScope | undefined;
    if (typeof opts === "object" && opts !== null && Object.hasOwn(opts, "transaction")) {
      const { transaction, ...rest } = opts;
      scope = transactionScope(this.store, transaction, `Cannot add job ${describe(name)}: `);
      opts = rest;
    }
    let job = this.#newJob(name, data, opts);
    if (job instanceof Promise) job = await job;
    const result = await (scope ?? this.store).saveJob(this.name, job);
    if (result.duplicate) return await this.#existing(result.id, job, scope);
    return this.#saved(job, scope !== undefined);
  }

  /**
   * Add many jobs in one atomic store call. Results are in input order; duplicates are reported
   * as in {@linkcode Queue.add}. With `options.transaction`, the jobs are saved inside your own
   * database transaction; see {@linkcode TransactionOptions}.
   * @param jobs the jobs to add
   * @param options `transaction`: your open database transaction
   * @returns the added (or existing) jobs
   * @throws {TypeError | RangeError} naming the bad job, field and value; nothing is saved
   */
  async addBulk(
    jobs: readonly BulkJob<T>[],
    options?: TransactionOptions,
  ): Promise<Job<T, R>[]> {
    this.#checkOpen();
    const context = `Cannot add jobs to queue "${this.name}": `;
    const scope = transactionScope(this.store, transactionOption(options, context), context);
    if (!Array.isArray(jobs)) {
      throw new TypeError(`${context}jobs must be an array`);
    }
    const built = await Promise.all(jobs.map((job, i) => {
      if (typeof job !== "object" || job === null) {
        throw new TypeError(
          `Cannot add jobs to queue "${this.name}": jobs[${i}] must be { name, data, opts? }`,
        );
      }
      return this.#newJob(job.name, job.data, job.opts);
    }));
    if (built.length === 0) return [];
    const results = await (scope ?? this.store).saveBulk(this.name, built);
    return await Promise.all(
      results.map((result, i) =>
        result.duplicate
          ? this.#existing(result.id, built[i], scope)
          : this.#saved(built[i], scope !== undefined)
      ),
    );
  }

  /**
   * Run a job on a cron schedule. One run per slot, whatever the number of workers; registering
   * the same schedule again (e.g. at every start-up) changes nothing; registering the same key
   * with a different pattern, payload or options replaces the schedule. The next run is enqueued
   * when a run starts, so a failed run does not end the schedule.
   *
   * @param pattern cron pattern (5 fields, or 6 with seconds first), see croner
   * @param name name of the jobs to add
   * @param data payload of every run
   * @param opts job options for every run, plus `key`, `tz`, `endDate` and `limit`
   * @returns the schedule
   * @throws {TypeError | RangeError} for a bad pattern, time zone or option
   *
   * @example
   * ```ts
   * import { Queue } from "@conveyor/core";
   * import { MemoryStore } from "@conveyor/store-memory";
   * const store = new MemoryStore();
   * await store.connect();
   * const queue = new Queue("reports", { store });
   * const schedule = await queue.cron("0 3 * * *", "nightly", { full: true }, { tz: "Europe/Paris" });
   * console.log(new Date(schedule.next!).toISOString());
   * await queue.removeRepeatable(schedule.key);
   * await queue.close();
   * await store.disconnect();
   * ```
   */
  async cron(
    pattern: string,
    name: string,
    data: T,
    opts?: RepeatOptions,
  ): Promise<RepeatableInfo> {
    this.#checkOpen();
    const context = `Cannot schedule job ${describe(name)}: `;
    if (typeof pattern !== "string" || pattern.trim() === "") {
      throw new TypeError(
        `${context}cron pattern must be a non-empty string, got ${describe(pattern)}`,
      );
    }
    const def = await this.#definition(name, data, opts, context);
    checkCron(pattern, def.tz, context);
    def.pattern = pattern;
    return await registerSchedule(this.store, this.name, def);
  }

  /**
   * Run a job every `interval`. Runs fall on multiples of the interval since the Unix epoch
   * (every `"1h"` runs on the hour), so every process computes the same slots.
   *
   * @param interval ms, or a duration such as `"5m"`
   * @param name name of the jobs to add
   * @param data payload of every run
   * @param opts job options for every run, plus `key`, `endDate` and `limit`
   * @returns the schedule
   * @throws {TypeError | RangeError} for a bad interval or option
   */
  async every(
    interval: number | string,
    name: string,
    data: T,
    opts?: RepeatOptions,
  ): Promise<RepeatableInfo> {
    this.#checkOpen();
    const context = `Cannot schedule job ${describe(name)}: `;
    const every = parseDuration(interval, `${context}interval`);
    if (!Number.isInteger(every) || every < 1) {
      throw new RangeError(`${context}interval must be at least 1 ms, got ${describe(interval)}`);
    }
    const def = await this.#definition(name, data, opts, context);
    if (def.tz !== undefined) throw new TypeError(`${context}tz applies to cron schedules only`);
    def.every = every;
    return await registerSchedule(this.store, this.name, def);
  }

  /**
   * Remove a repeat schedule and its pending run (a run already active finishes).
   * @param key the schedule's key (the job name unless `key` was given)
   * @returns `false` when no such schedule exists
   */
  async removeRepeatable(key: string): Promise<boolean> {
    this.#checkOpen();
    return await removeSchedule(this.store, this.name, key);
  }

  /**
   * The queue's repeat schedules, by key.
   * @returns every registered schedule
   */
  async listRepeatables(): Promise<RepeatableInfo[]> {
    this.#checkOpen();
    return await listSchedules(this.store, this.name);
  }

  /**
   * Pause the queue, or only the jobs named `jobName`: workers in every process stop claiming
   * them (running jobs finish).
   * @param jobName pause only jobs of this name
   */
  async pause(jobName?: string): Promise<void> {
    this.#checkOpen();
    await this.store.pauseJobName(this.name, this.#pauseName(jobName, "pause"));
  }

  /**
   * Undo {@linkcode Queue.pause}.
   * @param jobName resume only jobs of this name
   */
  async resume(jobName?: string): Promise<void> {
    this.#checkOpen();
    await this.store.resumeJobName(this.name, this.#pauseName(jobName, "resume"));
  }

  /**
   * Whether the queue (or, with `jobName`, that job name) is paused.
   * @param jobName check this job name (a paused queue pauses every name)
   */
  async isPaused(jobName?: string): Promise<boolean> {
    this.#checkOpen();
    const paused = await this.store.getPausedJobNames(this.name);
    if (paused.includes(ALL_JOB_NAMES)) return true;
    return jobName !== undefined && paused.includes(this.#pauseName(jobName, "check"));
  }

  /**
   * Read a job.
   * @param jobId the job's id
   * @returns the job, or `null` when it does not exist
   */
  async getJob(jobId: string): Promise<Job<T, R> | null> {
    this.#checkOpen();
    if (typeof jobId !== "string") {
      throw new TypeError(`Cannot get job from queue "${this.name}": id must be a string`);
    }
    const data = await this.store.getJob(this.name, jobId);
    return data ? new Job(this.store, data as JobData<T, R>) : null;
  }

  /**
   * List jobs, oldest first.
   * @param state only jobs in this state (all when omitted)
   * @param opts paging: `offset` (default 0) and `limit` (default 100)
   */
  async listJobs(
    state?: JobState,
    opts?: { offset?: number; limit?: number },
  ): Promise<Job<T, R>[]> {
    this.#checkOpen();
    const context = `Cannot list jobs of queue "${this.name}": `;
    if (state !== undefined) this.#checkState(state, context);
    if (opts !== undefined) {
      checkObject(opts, "options", context);
      checkKeys(opts, ["offset", "limit"], "option", context);
      if (opts.offset !== undefined) checkInt(opts.offset, "offset", context, 0);
      if (opts.limit !== undefined) checkInt(opts.limit, "limit", context, 1);
    }
    const jobs = await this.store.listJobs(this.name, state, opts);
    return jobs.map((data) => new Job(this.store, data as JobData<T, R>));
  }

  /**
   * Count jobs.
   * @param state only jobs in this state (all when omitted)
   */
  async countJobs(state?: JobState): Promise<number> {
    this.#checkOpen();
    if (state !== undefined) this.#checkState(state, `Cannot count jobs of queue "${this.name}": `);
    return await this.store.countJobs(this.name, state);
  }

  /** Number of jobs in each state. */
  async getJobCounts(): Promise<Record<JobState, number>> {
    this.#checkOpen();
    const counts = sortedCounts();
    const values = await Promise.all(JOB_STATES.map((s) => this.store.countJobs(this.name, s)));
    JOB_STATES.forEach((state, i) => counts[state] = values[i]);
    return counts;
  }

  /**
   * Remove a job (not an active one).
   * @param jobId the job's id
   * @returns `false` when the job did not exist
   * @throws {InvalidJobStateError} when the job is active
   */
  async removeJob(jobId: string): Promise<boolean> {
    this.#checkOpen();
    return await this.store.removeJob(this.name, jobId);
  }

  /**
   * Remove old jobs in `state`: finished (completed/failed) jobs that finished more than `grace`
   * ago, or jobs in other states added more than `grace` ago. Active jobs are never cleaned.
   * @param state the state to clean
   * @param grace ms, or a duration such as `"1h"`
   * @param limit remove at most this many
   * @returns ids of the removed jobs
   */
  async clean(state: JobState, grace: number | string, limit?: number): Promise<string[]> {
    this.#checkOpen();
    const context = `Cannot clean queue "${this.name}": `;
    this.#checkState(state, context);
    const ms = parseDuration(grace, `${context}grace`);
    if (limit !== undefined) checkInt(limit, "limit", context, 1);
    return await this.store.clean(this.name, state, ms, limit);
  }

  /**
   * Remove every waiting job, and delayed ones too unless `delayed` is `false`.
   * @param delayed also remove delayed jobs
   * @returns how many jobs were removed
   */
  async drain(delayed = true): Promise<number> {
    this.#checkOpen();
    if (typeof delayed !== "boolean") {
      throw new TypeError(`Cannot drain queue "${this.name}": delayed must be a boolean`);
    }
    return await this.store.drain(this.name, delayed);
  }

  /**
   * Stop this handle: it emits no more events and refuses further calls. The store stays
   * connected (it may be shared); disconnect it yourself.
   */
  close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.#unlisten?.();
      this.#unlisten = undefined;
      this.#hub.release();
    }
    return Promise.resolve();
  }

  #checkOpen(): void {
    if (this.#closed) throw new StoreClosedError(`Queue "${this.name}"`);
  }

  #checkState(state: unknown, context: string): void {
    if (!JOB_STATES.includes(state as JobState)) {
      throw new RangeError(
        `${context}state must be one of ${JOB_STATES.join(", ")}, got ${describe(state)}`,
      );
    }
  }

  #pauseName(jobName: string | undefined, action: string): string {
    if (jobName === undefined) return ALL_JOB_NAMES;
    return validateJobName(jobName, `Cannot ${action} queue "${this.name}": `);
  }

  #newJob(
    name: string,
    data: T,
    opts: AddJobOptions | undefined,
  ): NewJob<T> | Promise<NewJob<T>> {
    if (opts !== undefined && (opts as JobOptions).repeat !== undefined) {
      throw new TypeError(
        `Cannot add job ${
          describe(name)
        }: the repeat option is set by queue.cron() and queue.every()`,
      );
    }
    const merged = this.#defaults ? { ...this.#defaults, ...opts } : opts;
    return buildNewJob(name, data, merged);
  }

  /**
   * The Job of a saved add. Inside a caller's transaction the local promoter is not armed: the
   * job may never exist, and the store's `delayed` event arms it after the commit.
   */
  #saved(job: NewJob<T>, inTransaction = false): Job<T, R> {
    const now = Date.now();
    const delay = job.opts.delay;
    if (!inTransaction && delay !== undefined && delay > 0) {
      this.#hub.promoter.schedule(now + delay);
    }
    return localJob<T, R>(this.store, this.name, job, now);
  }

  async #existing(id: string, job: NewJob<T>, scope?: TransactionScope): Promise<Job<T, R>> {
    const data = scope?.getJob
      ? await scope.getJob(this.name, id)
      : await this.store.getJob(this.name, id);
    if (data) return new Job(this.store, data as JobData<T, R>, true);
    return new Job(
      this.store,
      { ...localJobData(this.name, job, Date.now()), id } as JobData<T, R>,
      true,
    );
  }

  async #definition(
    name: string,
    data: T,
    opts: RepeatOptions | undefined,
    context: string,
  ): Promise<ScheduleDefinition> {
    const { jobOpts, repeat } = splitRepeatOptions(opts, context);
    const job = await this.#newJob(name, data, jobOpts as AddJobOptions);
    return scheduleDefinition(job, repeat, context);
  }

  #listenersChanged(): void {
    if (this.#closed) return;
    // The events of `Queue.events` that come from the store (all but `error`).
    const wanted = STORE_EVENT_TYPES.some((type) => this.events.hasListeners(type));
    if (wanted && this.#unlisten === undefined) {
      try {
        this.#unlisten = this.#hub.listen(this.#forwarder);
      } catch (error) {
        // The store refused the subscription (e.g. it was disconnected).
        this.events.emit("error", { error: toError(error), queueName: this.name });
      }
    } else if (!wanted && this.#unlisten !== undefined) {
      this.#unlisten();
      this.#unlisten = undefined;
    }
  }

  #forwarder = (event: StoreEvent): void => this.#forward(event);

  #forward(event: StoreEvent): void {
    const type = event.type as keyof QueueEvents;
    if (!this.events.hasListeners(type)) return;
    const detail: Record<string, unknown> = { ...event.detail, queueName: event.queueName };
    if (event.jobId !== undefined) detail.jobId = event.jobId;
    if (event.jobName !== undefined) detail.name = event.jobName;
    if (event.count !== undefined) detail.count = event.count;
    this.events.emit(type, detail as never);
  }
}
