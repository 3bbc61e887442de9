/**
 * The job model shared by core and every store.
 *
 * Times are milliseconds since the Unix epoch, taken from the store's clock. Payloads, return
 * values and progress are JSON values.
 *
 * @module
 */

/** A JSON value: what payloads, return values and progress may hold. */
export type JsonValue =
  | null
  | boolean
  | number
  | string
  | JsonValue[]
  | { [key: string]: JsonValue | undefined };

/**
 * Where a job is in its life.
 *
 * - `waiting`: ready to be claimed by a worker.
 * - `waiting-children`: a flow parent waiting for its direct children.
 * - `delayed`: due at `delayUntil` (a delayed add, or a retry after backoff).
 * - `active`: leased by a worker that is running it.
 * - `completed` / `failed`: finished.
 */
export type JobState =
  | "waiting"
  | "waiting-children"
  | "delayed"
  | "active"
  | "completed"
  | "failed";

/** Every {@linkcode JobState}, in life-cycle order. */
export const JOB_STATES: readonly JobState[] = Object.freeze([
  "waiting",
  "waiting-children",
  "delayed",
  "active",
  "completed",
  "failed",
]);

/** What happens to a flow parent when one of its children fails for good. */
export type FailParentPolicy = "fail" | "ignore" | "remove";

/** Every {@linkcode FailParentPolicy}. */
export const FAIL_PARENT_POLICIES: readonly FailParentPolicy[] = Object.freeze([
  "fail",
  "ignore",
  "remove",
]);

/**
 * How long to wait before retrying a failed attempt.
 *
 * `fixed` waits `delay` ms each time; `exponential` waits `delay * 2^(attempt - 1)` ms. Any other
 * `type` names a custom strategy registered on the Worker (`backoffStrategies`).
 */
export interface BackoffOptions {
  /** `fixed`, `exponential`, or the name of a strategy registered on the Worker. */
  type: string;
  /**
   * Base delay in milliseconds.
   * @default 0
   */
  delay?: number;
  /**
   * Fraction (0..1) of the computed delay that is randomised away, to spread retries.
   * @default 0
   */
  jitter?: number;
}

/** Deduplication of adds: a second add with the same key is reported as a duplicate. */
export interface DeduplicationOptions {
  /**
   * The deduplication key. When omitted, the key is a SHA-256 hash of the job name and payload.
   */
  id?: string;
  /**
   * How long (ms) the key holds after the add. Without it, the key holds until the job
   * completes, fails for good or is removed.
   */
  ttl?: number;
}

/** How many finished jobs to keep. */
export interface KeepJobs {
  /** Keep at most this many of the most recent finished jobs in this state. */
  count?: number;
  /** Remove finished jobs older than this many milliseconds. */
  age?: number;
}

/** Options of one job, as given to `Queue.add` (and stored on the job). */
export interface JobOptions {
  /**
   * Custom job id, unique within its queue. Adding a job whose id exists is a duplicate add.
   * @default a random UUID
   */
  jobId?: string;
  /**
   * Lower runs first; 0 is the highest priority.
   * @default 0
   */
  priority?: number;
  /**
   * Delay before the job becomes waiting: milliseconds, or human-readable (`"5s"`,
   * `"in 10 minutes"`). Stores receive it resolved to milliseconds.
   * @default 0
   */
  delay?: number | string;
  /**
   * Total number of attempts (the first run plus retries).
   * @default 1
   */
  attempts?: number;
  /**
   * Backoff between attempts: milliseconds (fixed) or {@linkcode BackoffOptions}.
   * @default 0
   */
  backoff?: number | BackoffOptions;
  /**
   * Last in, first out: this job runs before older jobs of the same priority.
   * @default false
   */
  lifo?: boolean;
  /**
   * Milliseconds after which the processor is aborted and the attempt fails.
   * @default no timeout
   */
  timeout?: number;
  /**
   * Remove the job when it completes: `true`, a number of jobs to keep, or {@linkcode KeepJobs}.
   * @default false
   */
  removeOnComplete?: boolean | number | KeepJobs;
  /**
   * Remove the job when it fails for good: `true`, a number of jobs to keep, or
   * {@linkcode KeepJobs}.
   * @default false
   */
  removeOnFail?: boolean | number | KeepJobs;
  /** Deduplicate adds by key or payload hash. */
  deduplication?: DeduplicationOptions;
  /**
   * Group of the job; a Worker's `group.concurrency` limits how many jobs of one group run at once.
   * @default no group
   */
  groupId?: string;
  /**
   * Flow parents only: what happens to this job when one of its children fails for good.
   * @default "fail"
   */
  failParentOnChildFailure?: FailParentPolicy;
  /** Set by `Queue.cron`/`every`: the schedule this job is a run of. */
  repeat?: RepeatInfo;
}

/** Stored description of the schedule a repeated job belongs to. */
export interface RepeatInfo {
  /** Schedule key, unique within the queue. */
  key: string;
  /** Cron pattern, when the schedule is a cron schedule. */
  pattern?: string;
  /** Interval in milliseconds, when the schedule is an `every` schedule. */
  every?: number;
  /** IANA time zone for the cron pattern. */
  tz?: string;
  /** Time (ms) of the slot this job runs for. */
  slot: number;
  /** Stop scheduling after this time (ms). */
  endDate?: number;
  /** Stop after this many runs in total. */
  limit?: number;
  /** How many runs have been scheduled, this one included. */
  count: number;
}

/** Job options as stored: the delay is resolved to milliseconds. */
export type StoredJobOptions = Omit<JobOptions, "delay"> & { delay?: number };

/** A job's progress: a number (usually 0-100) or a JSON object. */
export type JobProgress = number | { [key: string]: JsonValue | undefined };

/** A job as stored. Stores return isolated copies: mutating one changes nothing stored. */
export interface JobData<T = unknown, R = unknown> {
  /** Id, unique within the queue. */
  id: string;
  /** Queue the job belongs to. */
  queueName: string;
  /** Job name (what the processor switches on). */
  name: string;
  /** Payload. */
  data: T;
  /** Current state. */
  state: JobState;
  /** Options the job was added with (delay resolved to ms). */
  opts: StoredJobOptions;
  /** Priority (lower runs first), copied from `opts.priority`. */
  priority: number;
  /** Insertion order assigned by the store; later adds get larger numbers. */
  seq: number;
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
  /** When the job was added (store clock). */
  createdAt: number;
  /** When a delayed job becomes waiting, else `null`. */
  delayUntil: number | null;
  /** When the current or last attempt started. */
  processedAt: number | null;
  /** When the job completed or failed for good. */
  finishedAt: number | null;
  /** Id of the worker holding the lease, while active. */
  lockedBy: string | null;
  /** Token of the current lease, while active; fenced operations must present it. */
  lockToken: string | null;
  /** When the current lease expires (store clock), while active. */
  lockUntil: number | null;
  /** Id of the flow parent, if this job is a flow child. */
  parentId: string | null;
  /** Queue of the flow parent, if this job is a flow child. */
  parentQueueName: string | null;
  /** Direct children not yet accounted for (flow parents only). */
  pendingChildrenCount: number;
  /** Deduplication key the job was added with, if any. */
  deduplicationKey: string | null;
  /** Group of the job, copied from `opts.groupId`. */
  groupId: string | null;
}

/** What a caller hands to `saveJob`/`saveBulk`/`saveFlow`: the store fills in the rest. */
export interface NewJob<T = unknown> {
  /** Job id, unique within the queue. */
  id: string;
  /** Job name. */
  name: string;
  /** Payload (a JSON value). */
  data: T;
  /** Options, with the delay resolved to milliseconds. */
  opts: StoredJobOptions;
  /** Deduplication key, resolved by the caller (see `resolveDeduplicationKey`). */
  deduplicationKey?: string | null;
  /** Flow parent id (flows only). */
  parentId?: string | null;
  /** Flow parent queue (flows only). */
  parentQueueName?: string | null;
  /** Number of direct children; a value above 0 makes the job start `waiting-children`. */
  pendingChildrenCount?: number;
}

/** A job of a flow, with the queue it goes to. */
export interface FlowJobRecord<T = unknown> extends NewJob<T> {
  /** Queue the job goes to. */
  queueName: string;
}

/** The outcome of saving one job. */
export interface SaveResult {
  /** Id of the saved job, or of the existing job the add duplicated. */
  id: string;
  /** `true` when nothing was saved because of a job id or deduplication key already held. */
  duplicate: boolean;
}

/** Event types a store publishes to subscribers (across processes where the backend can). */
export type StoreEventType =
  | "waiting"
  | "waiting-children"
  | "delayed"
  | "active"
  | "progress"
  | "completed"
  | "failed"
  | "stalled"
  | "removed"
  | "paused"
  | "resumed"
  | "drained"
  | "cleaned";

/** Every {@linkcode StoreEventType}. */
export const STORE_EVENT_TYPES: readonly StoreEventType[] = Object.freeze([
  "waiting",
  "waiting-children",
  "delayed",
  "active",
  "progress",
  "completed",
  "failed",
  "stalled",
  "removed",
  "paused",
  "resumed",
  "drained",
  "cleaned",
]);

/** An event published by a store. Kept small: it names the job; read the job for its data. */
export interface StoreEvent {
  /** What happened. */
  type: StoreEventType;
  /** Queue it happened in. */
  queueName: string;
  /** Job concerned; absent for queue-wide events and coalesced batch events. */
  jobId?: string;
  /** Job name concerned (pause/resume by name, and job events where known). */
  jobName?: string;
  /** Number of jobs a coalesced event stands for (e.g. a bulk add). */
  count?: number;
  /** Small extra details (e.g. `progress`, `failedReason`). */
  detail?: { [key: string]: JsonValue | undefined };
}

/** Fields a caller may change with `updateJob`. State changes go through dedicated methods. */
export interface JobUpdate<T = unknown> {
  /** Replace the payload. */
  data?: T;
  /** Replace the progress. */
  progress?: JobProgress;
}
