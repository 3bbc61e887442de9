/**
 * The {@linkcode Worker} class: claims jobs of one queue and runs them.
 *
 * @module
 */

import {
  type JobData,
  type JobProgress,
  LeaseLostError,
  type StoreEvent,
  type StoreInterface,
  validateQueueName,
} from "@conveyor/shared";
import { acquireHub, type QueueHub } from "./_hub.ts";
import { LeaseRenewer } from "./_lease_renewer.ts";
import { type Entry, Finisher, type Unit, withTimeout } from "./_running.ts";
import { enqueueNextRun } from "./_scheduler.ts";
import { toError } from "./_util.ts";
import { describe } from "./_validate.ts";
import { type WorkerConfig, workerConfig } from "./_worker_config.ts";
import { EventBus } from "./event_bus.ts";
import type { WorkerEvents } from "./events.ts";
import { bindJobLease, Job } from "./job.ts";
import type {
  BatchProcessor,
  BatchWorkerOptions,
  Processor,
  WorkerOptions,
} from "./worker_options.ts";

const IDLE = 0;
const RUNNING = 1;
const PAUSED = 2;
const CLOSING = 3;
const CLOSED = 4;

/**
 * A worker: claims jobs of one queue from the store and runs them with a processor.
 *
 * It fetches as soon as a slot frees, wakes on the store's events, sleeps until the next delayed
 * job is due, renews the leases of its running jobs on one timer, recovers stalled jobs, retries
 * failed ones with backoff, and closes gracefully.
 *
 * @typeParam T payload type of the jobs (default `any`; give it for type-checked payloads)
 * @typeParam R return value type of the jobs
 *
 * @example
 * ```ts
 * import { Queue, Worker } from "@conveyor/core";
 * import { MemoryStore } from "@conveyor/store-memory";
 * const store = new MemoryStore();
 * await store.connect();
 * const queue = new Queue<{ to: string }>("emails", { store });
 * const worker = new Worker<{ to: string }>("emails", async (job, signal) => {
 *   await job.updateProgress(50);
 *   if (signal.aborted) return;
 *   console.log("sending to", job.data.to);
 * }, { store, concurrency: 5 });
 * worker.events.on("completed", (event) => console.log(`Job ${event.detail.jobId} completed`));
 * const job = await queue.add("welcome", { to: "a@example.com" });
 * await job.waitUntilFinished();
 * await worker.close();
 * await queue.close();
 * await store.disconnect();
 * ```
 */
// deno-lint-ignore no-explicit-any
export class Worker<T = any, R = any> {
  /** Name of the queue this worker serves. */
  readonly name: string;
  /** Id of this worker (recorded on the jobs it leases). */
  readonly id: string;
  /** Typed events of this worker: `active`, `progress`, `completed`, `failed`, `error`, … */
  readonly events: EventBus<WorkerEvents>;
  readonly #cfg: WorkerConfig;
  readonly #store: StoreInterface;
  readonly #processor: Processor<T, R> | BatchProcessor<T, R>;
  readonly #batch: boolean;
  readonly #finisher: Finisher;
  readonly #leases: LeaseRenewer;
  #state = IDLE;
  #hub: QueueHub | undefined;
  #detach: (() => void) | undefined;
  #unlisten: (() => void) | undefined;
  #active = new Map<string, Entry>();
  /** Prefetched jobs: leased, not started yet, in claim order. */
  #held: JobData[] = [];
  /** Units whose processor runs (or whose finish holds the slot; see #runOne). */
  #units = 0;
  /** Units whose processor returned and whose finish is in flight without holding a slot. */
  #finishing = 0;
  #fetching = false;
  #fetchAgain = false;
  #requested = 0;
  #fetchPromise: Promise<void> | undefined;
  #pumpQueued = false;
  #backingOff = false;
  #fetchFailures = 0;
  #drained = false;
  #pollTimer: ReturnType<typeof setTimeout> | undefined;
  #stalledTimer: ReturnType<typeof setTimeout> | undefined;
  #limiterTimer: ReturnType<typeof setTimeout> | undefined;
  #backoffTimer: ReturnType<typeof setTimeout> | undefined;
  #claims: number[] = [];
  /** The controller of the next job started (made after a start; never handed out twice). */
  #spareController: AbortController | undefined;
  #idleWaiters: (() => void)[] = [];
  #background = new Set<Promise<unknown>>();
  #closing: Promise<void> | undefined;

  /**
   * Create a batch worker: the processor receives up to `batch.size` jobs at once.
   * @param queueName the queue to serve
   * @param processor runs a batch of jobs
   * @param options the store, `batch` and other worker options
   */
  constructor(
    queueName: string,
    processor: BatchProcessor<T, R>,
    options: BatchWorkerOptions,
  );
  /**
   * Create a worker. It starts at once unless `autorun` is `false`.
   * @param queueName the queue to serve
   * @param processor runs one job; its result becomes the job's return value
   * @param options the store and worker options
   */
  constructor(
    queueName: string,
    processor: Processor<T, R>,
    options: WorkerOptions & { batch?: undefined },
  );
  /**
   * Create a worker.
   * @param queueName the queue to serve
   * @param processor runs one job (or a batch, with `batch`)
   * @param options the store and worker options
   */
  constructor(
    queueName: string,
    processor: Processor<T, R> | BatchProcessor<T, R>,
    options: WorkerOptions | BatchWorkerOptions,
  ) {
    const context = `Cannot create worker for queue ${describe(queueName)}: `;
    try {
      validateQueueName(queueName);
    } catch (error) {
      const Ctor = error instanceof RangeError ? RangeError : TypeError;
      throw new Ctor(`${context}${(error as Error).message}`);
    }
    if (typeof processor !== "function") {
      throw new TypeError(`${context}processor must be a function, got ${describe(processor)}`);
    }
    this.#cfg = workerConfig(options, context);
    this.#store = this.#cfg.store;
    this.#processor = processor;
    this.#batch = (options as BatchWorkerOptions).batch !== undefined;
    this.name = queueName;
    this.id = this.#cfg.id;
    this.events = new EventBus<WorkerEvents>((error) =>
      this.events.emit("error", { error, queueName })
    );
    this.#finisher = new Finisher(
      this.#store,
      queueName,
      this.events,
      this.#cfg.backoffStrategies,
      (error, jobId) => this.#error(error, jobId),
      (at) => this.#hub?.promoter.schedule(at),
    );
    this.#leases = new LeaseRenewer(
      this.#store,
      queueName,
      this.#cfg.lockDuration,
      this.#cfg.lockRenewTime,
      this.#active,
      () => this.#held,
      (entry) => {
        this.#finisher.leaseLost(entry, "extend the lease of");
        entry.unit.controller.abort(new LeaseLostError(queueName, entry.data.id, "run"));
      },
      (error, jobId) => this.#error(error, jobId),
      (work) => this.#track(work),
      this.#dropHeld,
    );
    if (this.#cfg.autorun) this.run();
  }

  /** Whether the worker is running (started, not paused, not closing). */
  isRunning(): boolean {
    return this.#state === RUNNING;
  }

  /** Whether the worker is paused. */
  isPaused(): boolean {
    return this.#state === PAUSED;
  }

  /** Number of jobs this worker is running now. */
  get activeCount(): number {
    return this.#active.size;
  }

  /**
   * Start processing (only needed with `autorun: false`; calling it again does nothing).
   * @throws {Error} when the worker is closing or closed
   */
  run(): void {
    if (this.#state === RUNNING || this.#state === PAUSED) return;
    if (this.#state !== IDLE) throw new Error(`Worker of queue "${this.name}" is closed`);
    this.#state = RUNNING;
    const hub = acquireHub(this.#store, this.name);
    this.#hub = hub;
    this.#detach = hub.attachWorker(this.#wake, (error) => this.#error(error));
    const fetchOptions = this.#cfg.fetchOptions;
    if (
      fetchOptions.groupConcurrency !== undefined ||
      fetchOptions.maxGlobalConcurrency !== undefined
    ) {
      // Slots freed by other workers' jobs may let this worker claim again.
      this.#unlisten = hub.listen(this.#onCapacityEvent);
    }
    this.#pollTimer = setTimeout(this.#poll, this.#cfg.pollInterval);
    this.#checkStalled();
    this.#pump();
  }

  /**
   * Stop claiming jobs; running jobs go on. Resolves when they have finished.
   */
  async pause(): Promise<void> {
    if (this.#state === RUNNING) {
      this.#state = PAUSED;
      this.#giveBackHeld();
      this.events.emit("paused", { queueName: this.name });
    }
    await this.#whenIdle();
  }

  /** Claim jobs again after {@linkcode Worker.pause}. */
  resume(): void {
    if (this.#state !== PAUSED) return;
    this.#state = RUNNING;
    this.events.emit("resumed", { queueName: this.name });
    this.#pump();
  }

  /**
   * Close gracefully: stop claiming jobs, wait for running jobs to finish (up to `timeout` ms),
   * then abort the rest (their `signal` aborts) and give their leases back so another worker
   * picks them up without counting an attempt. Calling it again returns the same promise.
   *
   * @param timeout most ms to wait for running jobs (default: wait for them to finish)
   */
  close(timeout?: number): Promise<void> {
    if (timeout !== undefined && (typeof timeout !== "number" || !(timeout >= 0))) {
      throw new RangeError(
        `Cannot close worker of queue "${this.name}": timeout must be a number of ms >= 0, got ${
          describe(timeout)
        }`,
      );
    }
    this.#closing ??= this.#close(timeout);
    return this.#closing;
  }

  async #close(timeout: number | undefined): Promise<void> {
    const wasStarted = this.#state !== IDLE;
    this.#state = CLOSING;
    clearTimeout(this.#pollTimer);
    this.#pollTimer = undefined;
    this.#unlisten?.();
    this.#detach?.();
    if (this.#fetchPromise) await this.#fetchPromise;
    this.#giveBackHeld();
    if (this.#units > 0 || this.#finishing > 0) {
      if (timeout === undefined) await this.#whenIdle();
      else {
        let timer: ReturnType<typeof setTimeout> | undefined;
        await Promise.race([
          this.#whenIdle(),
          new Promise<void>((resolve) => timer = setTimeout(resolve, timeout)),
        ]);
        clearTimeout(timer);
      }
      if (this.#units > 0) this.#releaseAll();
      // Finishes already issued are never abandoned: wait for their store calls.
      while (this.#finishing > 0) await this.#whenIdle();
    }
    this.#leases.stop();
    for (const timer of [this.#stalledTimer, this.#limiterTimer, this.#backoffTimer]) {
      clearTimeout(timer);
    }
    this.#stalledTimer = this.#limiterTimer = this.#backoffTimer = undefined;
    this.#backingOff = false;
    while (this.#background.size > 0) await Promise.allSettled([...this.#background]);
    if (wasStarted) this.#hub?.release();
    this.#state = CLOSED;
  }

  #releaseAll(): void {
    const units = new Set<Unit>();
    for (const entry of this.#active.values()) {
      units.add(entry.unit);
      if (entry.finishing || entry.lost) continue;
      this.#track(
        this.#store.releaseLock(this.name, entry.data.id, entry.lockToken).then(
          undefined,
          (error) => this.#error(error, entry.data.id),
        ),
      );
    }
    for (const unit of units) {
      unit.released = true;
      if (unit.timer !== undefined) clearTimeout(unit.timer);
      unit.controller.abort(
        new DOMException(
          `Worker of queue "${this.name}" closed before the job finished`,
          "AbortError",
        ),
      );
    }
    this.#active.clear();
    this.#units = 0;
    this.#resolveIdle();
  }

  // ── Fetching ─────────────────────────────────────────────────────────────────────────────────

  #wake = (): void => this.#pump();

  #onCapacityEvent = (event: StoreEvent): void => {
    if (event.type === "completed" || event.type === "failed" || event.type === "stalled") {
      this.#pump();
    }
  };

  #pump(): void {
    if (this.#state !== RUNNING) return;
    if (this.#held.length > 0) this.#startHeld();
    if (this.#backingOff) return;
    if (this.#fetching) {
      this.#fetchAgain = true;
      return;
    }
    // Free slots, plus room in the local queue when prefetching.
    const free = this.#cfg.concurrency - this.#units + this.#cfg.prefetch - this.#held.length;
    if (free <= 0) return;
    // While the local queue still feeds the slots, claim only once it has room for half of what
    // the worker holds: one claim of many jobs rather than one per freed slot.
    if (this.#held.length > 0 && free * 2 < this.#cfg.concurrency + this.#cfg.prefetch) return;
    this.#fetching = true;
    this.#fetchAgain = false;
    const count = free * this.#cfg.batchSize;
    this.#requested = count;
    this.#fetchPromise = this.#store
      .fetchNextJobs(this.name, this.id, this.#cfg.lockDuration, count, this.#cfg.fetchOptions)
      .then(this.#onFetched, this.#onFetchFailed);
  }

  #deferredPump = (): void => {
    this.#pumpQueued = false;
    this.#pump();
  };

  #onFetched = (jobs: JobData[]): void => {
    this.#fetching = false;
    this.#fetchPromise = undefined;
    this.#fetchFailures = 0;
    if (this.#state !== RUNNING) {
      for (const data of jobs) this.#giveBack(data);
      return;
    }
    const n = jobs.length;
    if (n > 0) {
      this.#drained = false;
      if (this.#cfg.limiter) this.#recordClaims(n);
      if (this.#batch) {
        const size = this.#cfg.batchSize;
        for (let i = 0; i < n; i += size) this.#startBatch(jobs.slice(i, i + size));
      } else {
        // Started at once while slots are free and no job is held (a processor may pause or
        // close the worker as it starts); the rest wait, leased, in the local queue (a prefetch).
        let i = 0;
        if (this.#held.length === 0) {
          const concurrency = this.#cfg.concurrency;
          while (i < n && this.#units < concurrency && this.#state === RUNNING) {
            this.#startOne(jobs[i++]);
          }
        }
        if (i < n) {
          if (this.#state !== RUNNING) {
            for (; i < n; i++) this.#giveBack(jobs[i]);
          } else {
            const held = this.#held;
            for (; i < n; i++) held.push(jobs[i]);
            this.#startHeld();
            if (held.length > 0) this.#leases.ensure();
          }
        }
      }
    }
    if (this.#fetchAgain || n >= this.#requested) {
      this.#pump();
      return;
    }
    if (this.#cfg.limiter) this.#armLimiter();
    if (n === 0 && this.#units === 0 && this.#finishing === 0 && !this.#drained) {
      this.#drained = true;
      this.events.emit("drained", { queueName: this.name });
    }
  };

  #onFetchFailed = (error: unknown): void => {
    this.#fetching = false;
    this.#fetchPromise = undefined;
    if (this.#state !== RUNNING) return;
    this.#error(error);
    const wait = Math.min(this.#cfg.pollInterval, 50 * 2 ** Math.min(this.#fetchFailures++, 10));
    this.#backingOff = true;
    this.#backoffTimer = setTimeout(() => {
      this.#backoffTimer = undefined;
      this.#backingOff = false;
      this.#pump();
    }, wait);
  };

  /**
   * Start held jobs while slots are free, and while the worker runs: a processor that pauses or
   * closes it as it starts gives the rest back (see #giveBackHeld).
   */
  #startHeld(): void {
    while (
      this.#state === RUNNING && this.#units < this.#cfg.concurrency && this.#held.length > 0
    ) {
      this.#startOne(this.#held.shift()!);
    }
  }

  /** A held job's lease was lost: it must not run. */
  #dropHeld = (data: JobData): void => {
    const i = this.#held.indexOf(data);
    if (i >= 0) this.#held.splice(i, 1);
    this.#error(new LeaseLostError(this.name, data.id, "run"), data.id);
  };

  /** Give every held job back to the queue (pause, close). */
  #giveBackHeld(): void {
    for (const data of this.#held) this.#giveBack(data);
    this.#held = [];
  }

  #giveBack(data: JobData): void {
    this.#track(
      this.#store.releaseLock(this.name, data.id, data.lockToken!).then(
        undefined,
        (error) => this.#error(error, data.id),
      ),
    );
  }

  #poll = (): void => {
    this.#pollTimer = undefined;
    if (this.#state !== RUNNING && this.#state !== PAUSED) return;
    this.#hub?.promoter.refresh();
    this.#pump();
    this.#pollTimer = setTimeout(this.#poll, this.#cfg.pollInterval);
  };

  #recordClaims(n: number): void {
    const now = Date.now();
    const claims = this.#claims;
    for (let i = 0; i < n; i++) claims.push(now);
    const max = this.#cfg.limiter!.max;
    if (claims.length > max * 2) claims.splice(0, claims.length - max);
  }

  /** A short fetch with a rate limit: try again when this worker's oldest claim leaves the window. */
  #armLimiter(): void {
    if (this.#limiterTimer !== undefined) return;
    const { duration } = this.#cfg.limiter!;
    const now = Date.now();
    const claims = this.#claims;
    let first = 0;
    while (first < claims.length && claims[first] <= now - duration) first++;
    if (first > 0) claims.splice(0, first);
    if (claims.length === 0) return;
    this.#limiterTimer = setTimeout(() => {
      this.#limiterTimer = undefined;
      this.#pump();
    }, Math.max(1, claims[0] + duration - now));
  }

  // ── Running ──────────────────────────────────────────────────────────────────────────────────

  #newEntry(data: JobData, unit: Unit | undefined): Entry {
    const job = new Job(this.#store, data);
    const entry = {
      data,
      job,
      lockToken: data.lockToken!,
      onProgress: this.#onProgress,
      unit: unit!,
      finishing: false,
      lost: false,
    } as Entry;
    bindJobLease(job, entry);
    this.#active.set(data.id, entry);
    if (data.opts.repeat !== undefined) this.#continueSchedule(data);
    if (this.events.hasListeners("active")) {
      this.events.emit("active", { queueName: this.name, jobId: data.id, name: data.name, job });
    }
    return entry;
  }

  #startOne(data: JobData): void {
    this.#units++;
    const unit: Unit = {
      controller: this.#spareController ?? new AbortController(),
      timer: undefined,
      released: false,
      started: Date.now(),
    };
    this.#spareController = undefined;
    const entry = this.#newEntry(data, unit);
    this.#runOne(entry);
    // Set up once the processor has started, so that the next start (often after an idle wait,
    // when every step costs most) has less to do: the lease timer and the next job's controller.
    this.#leases.ensure();
    this.#spareController = new AbortController();
  }

  async #runOne(entry: Entry): Promise<void> {
    const unit = entry.unit;
    const timeout = entry.data.opts.timeout;
    let value: unknown;
    let error: unknown;
    let failed = false;
    try {
      value = timeout === undefined
        ? await (this.#processor as Processor<T, R>)(entry.job as Job<T, R>, unit.controller.signal)
        : await withTimeout(
          unit,
          () =>
            (this.#processor as Processor<T, R>)(entry.job as Job<T, R>, unit.controller.signal),
          timeout,
          entry.data.id,
        );
    } catch (e) {
      failed = true;
      error = e;
    }
    if (unit.timer !== undefined) clearTimeout(unit.timer);
    if (unit.released || entry.lost) {
      this.#done(entry);
      this.#unitDone(unit);
      return;
    }
    const finish = failed
      ? this.#finisher.fail(entry, toError(error))
      : this.#finisher.complete(entry, value);
    const overlapped = this.#overlapFinish(unit);
    try {
      await finish;
    } catch (unexpected) {
      this.#error(unexpected, entry.data.id);
    } finally {
      this.#done(entry);
      if (overlapped) this.#finishDone();
      else this.#unitDone(unit);
    }
  }

  #startBatch(jobs: JobData[]): void {
    this.#units++;
    this.#leases.ensure();
    const unit: Unit = {
      controller: new AbortController(),
      timer: undefined,
      released: false,
      started: Date.now(),
    };
    const entries = jobs.map((data) => this.#newEntry(data, unit));
    this.#runBatch(entries, unit);
  }

  async #runBatch(entries: Entry[], unit: Unit): Promise<void> {
    let timeout: number | undefined;
    for (const entry of entries) {
      const t = entry.data.opts.timeout;
      if (t !== undefined && (timeout === undefined || t < timeout)) timeout = t;
    }
    const jobs = entries.map((entry) => entry.job as Job<T, R>);
    const run = () => (this.#processor as BatchProcessor<T, R>)(jobs, unit.controller.signal);
    let value: unknown;
    let error: unknown;
    let failed = false;
    try {
      value = timeout === undefined
        ? await run()
        : await withTimeout(unit, run, timeout, entries[0].data.id);
    } catch (e) {
      failed = true;
      error = e;
    }
    if (unit.timer !== undefined) clearTimeout(unit.timer);
    if (unit.released) {
      for (const entry of entries) this.#done(entry);
      this.#unitDone(unit);
      return;
    }
    const err = failed ? toError(error) : undefined;
    const finish = Promise.all(entries.map((entry, i) => {
      if (entry.lost) return undefined;
      if (err) return this.#finisher.fail(entry, err);
      const result = Array.isArray(value) ? value[i] : value;
      return result instanceof Error
        ? this.#finisher.fail(entry, result)
        : this.#finisher.complete(entry, result);
    }));
    const overlapped = this.#overlapFinish(unit);
    try {
      await finish;
    } catch (unexpected) {
      this.#error(unexpected);
    } finally {
      for (const entry of entries) this.#done(entry);
      if (overlapped) this.#finishDone();
      else this.#unitDone(unit);
    }
  }

  /**
   * The processor of `unit` returned and its finish call was issued: free its slot now, so the
   * next claim overlaps the completion's commit. At most `concurrency` + `prefetch` finishes
   * run this way (a prefetching worker keeps that many in flight, so a store that coalesces
   * completions commits them in batches as large as its claims); beyond that the unit keeps its
   * slot until its finish resolves (as without overlap), so the leases held never exceed
   * 2 × (`concurrency` + `prefetch`). The job's entry stays in the running set (and under lease
   * renewal) until its finish resolves. Returns whether the slot was freed early.
   */
  #overlapFinish(unit: Unit): boolean {
    if (unit.released || this.#finishing >= this.#cfg.concurrency + this.#cfg.prefetch) {
      return false;
    }
    this.#finishing++;
    this.#unitDone(unit);
    return true;
  }

  /** A finish started by #overlapFinish resolved. */
  #finishDone(): void {
    this.#finishing--;
    if (this.#units === 0 && this.#finishing === 0) {
      this.#resolveIdle();
      // Nothing runs any more: look again (so `drained` is emitted once the queue is empty).
      this.#queuePump();
    }
  }

  #done(entry: Entry): void {
    if (this.#active.get(entry.data.id) === entry) this.#active.delete(entry.data.id);
  }

  #unitDone(unit: Unit): void {
    if (unit.released) return; // already accounted for by #releaseAll
    this.#units--;
    if (this.#units === 0 && this.#finishing === 0) this.#resolveIdle();
    this.#queuePump();
  }

  #queuePump(): void {
    if (!this.#pumpQueued && this.#state === RUNNING) {
      this.#pumpQueued = true;
      queueMicrotask(this.#deferredPump);
    }
  }

  /** Resolves when no processor runs and no finish is in flight. */
  #whenIdle(): Promise<void> {
    if (this.#units === 0 && this.#finishing === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  #resolveIdle(): void {
    const waiters = this.#idleWaiters;
    if (waiters.length === 0) return;
    this.#idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  #onProgress = (job: Job, progress: JobProgress): void => {
    if (!this.events.hasListeners("progress")) return;
    this.events.emit("progress", {
      queueName: this.name,
      jobId: job.id,
      name: job.name,
      job,
      progress,
    });
  };

  #continueSchedule(data: JobData): void {
    const repeat = data.opts.repeat!;
    this.#track(
      enqueueNextRun(this.#store, this.name, repeat.key, repeat.slot).then(
        (slot) => {
          if (slot !== null) this.#hub?.promoter.schedule(slot);
        },
        (error) => this.#error(error, data.id),
      ),
    );
  }

  // ── Leases and stalled jobs ──────────────────────────────────────────────────────────────────

  #checkStalled = (): void => {
    this.#stalledTimer = undefined;
    const work = this.#store.recoverStalledJobs(this.name, this.#cfg.maxStalledCount).then(
      (recovery) => {
        for (const jobId of recovery.recovered) {
          this.events.emit("stalled", { queueName: this.name, jobId, failed: false });
        }
        for (const jobId of recovery.failed) {
          this.events.emit("stalled", { queueName: this.name, jobId, failed: true });
        }
        if (recovery.recovered.length > 0) this.#pump();
      },
      (error) => this.#error(error),
    ).finally(() => {
      if (this.#state === RUNNING || this.#state === PAUSED) {
        this.#stalledTimer = setTimeout(this.#checkStalled, this.#cfg.stalledInterval);
      }
    });
    this.#track(work);
  };

  // ── Helpers ──────────────────────────────────────────────────────────────────────────────────

  #track(promise: Promise<unknown>): void {
    this.#background.add(promise);
    const forget = () => this.#background.delete(promise);
    promise.then(forget, forget);
  }

  #error(error: unknown, jobId?: string): void {
    const detail: { error: Error; queueName: string; jobId?: string } = {
      error: toError(error),
      queueName: this.name,
    };
    if (jobId !== undefined) detail.jobId = jobId;
    this.events.emit("error", detail);
  }
}
