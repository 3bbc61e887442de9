/**
 * `@conveyor/core`: Queue, Worker, Job, FlowProducer and typed events for Conveyor, a job queue
 * whose storage you swap in one line (memory, SQLite, PostgreSQL).
 *
 * - {@linkcode Queue}: add jobs (delayed, prioritised, deduplicated, repeated with cron, or
 *   inside your own database transaction: {@linkcode TransactionOptions}), pause, inspect and
 *   clean.
 * - {@linkcode Worker}: run jobs with concurrency, retries and backoff, rate limits, groups,
 *   batches, timeouts and graceful shutdown; event-driven, no polling latency.
 * - {@linkcode FlowProducer}: trees of jobs where parents wait for their children.
 * - {@linkcode EventBus}: the typed events of queues and workers.
 *
 * @example Add a job and process it
 * ```ts
 * import { Queue, Worker } from "@conveyor/core";
 * import { MemoryStore } from "@conveyor/store-memory";
 *
 * const store = new MemoryStore();
 * await store.connect();
 * const queue = new Queue<{ to: string }>("emails", { store });
 * const worker = new Worker<{ to: string }, string>("emails", async (job) => {
 *   await job.updateProgress(100);
 *   return `sent to ${job.data.to}`;
 * }, { store, concurrency: 10 });
 * worker.events.on("completed", (event) => console.log(`Job ${event.detail.jobId} completed`));
 *
 * const job = await queue.add("welcome", { to: "a@example.com" }, { attempts: 3 });
 * console.log(await job.waitUntilFinished()); // "sent to a@example.com"
 *
 * await worker.close();
 * await queue.close();
 * await store.disconnect();
 * ```
 *
 * @module
 */

export { EventBus, type EventListenerOf, type ListenerErrorDetail } from "./event_bus.ts";
export type {
  ErrorEventDetail,
  QueueCompletedDetail,
  QueueEventDetail,
  QueueEvents,
  QueueFailedDetail,
  QueueProgressDetail,
  WorkerCompletedDetail,
  WorkerDelayedDetail,
  WorkerEvents,
  WorkerFailedDetail,
  WorkerJobDetail,
  WorkerProgressDetail,
  WorkerStalledDetail,
  WorkerStateDetail,
} from "./events.ts";
export { Job, JobFailedError } from "./job.ts";
export {
  type AddJobOptions,
  type BulkJob,
  Queue,
  type QueueOptions,
  type TransactionOptions,
} from "./queue.ts";
export type { RepeatableInfo, RepeatOptions } from "./repeat_options.ts";
export { Worker } from "./worker.ts";
export type {
  BackoffStrategy,
  BatchOptions,
  BatchProcessor,
  BatchWorkerOptions,
  GroupOptions,
  Processor,
  RateLimiterOptions,
  WorkerOptions,
} from "./worker_options.ts";
export {
  type FlowJob,
  FlowProducer,
  type FlowProducerOptions,
  type FlowResult,
} from "./flow_producer.ts";
export {
  ConveyorError,
  FlowError,
  InvalidJobStateError,
  JobNotFoundError,
  JobTimeoutError,
  LeaseLostError,
  StoreClosedError,
  UnrecoverableError,
} from "@conveyor/shared";
export type {
  BackoffOptions,
  ConveyorErrorCode,
  DeduplicationOptions,
  FailParentPolicy,
  FetchOptions,
  FlowJobRecord,
  JobData,
  JobFailure,
  JobOptions,
  JobProgress,
  JobState,
  JobUpdate,
  JsonValue,
  KeepJobs,
  ListOptions,
  NewJob,
  RepeatInfo,
  SaveResult,
  StalledRecovery,
  StoredJobOptions,
  StoreEvent,
  StoreEventListener,
  StoreEventType,
  StoreInterface,
  TransactionalStore,
  TransactionScope,
} from "@conveyor/shared";
