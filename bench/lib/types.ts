/**
 * Types shared by every benchmark child, under Deno and under Node 22 (which strips the types).
 * Keep to erasable TypeScript and to APIs both runtimes have.
 *
 * @module
 */

/** The workloads every system runs, in table order. */
export const WORKLOADS = [
  "enqueue-serial",
  "enqueue-par",
  "enqueue-bulk",
  "process",
  "latency",
  "flow",
] as const;

/** One workload's name. */
export type Workload = typeof WORKLOADS[number];

/** The small payload every job carries: an index, a timestamp (for latency) and a few strings. */
export interface Payload {
  i: number;
  t: number;
  user: string;
  action: string;
}

/** A job handler as the harness sees it: gets the payload, returns when done. */
export type Handler = (data: Payload) => void | Promise<void>;

/** What a system must offer the workload runner. One instance per process. */
export interface Adapter {
  /**
   * Connects. With `fresh`, also creates this run's isolated store (schema, prefix) and empties
   * it; without, attaches to the store the producer created (the latency worker process).
   */
  open(fresh: boolean): Promise<void>;
  /** Adds one job. */
  add(data: Payload): Promise<void>;
  /** Adds many jobs in one call. */
  addBulk(items: Payload[]): Promise<void>;
  /** Adds one parent whose children must all complete first; absent if the system has no flows. */
  addFlow?(parent: Payload, children: Payload[]): Promise<void>;
  /** Starts a worker with the given concurrency; resolves once it is running. */
  startWorker(handler: Handler, concurrency: number): Promise<void>;
  /** Stops the worker, if one runs. */
  stopWorker(): Promise<void>;
  /** Jobs in the store that are not completed yet (waiting, active, delayed, waiting on children). */
  remaining(): Promise<number>;
  /** Disconnects; with `drop`, also removes this run's schema, keys or tables. */
  close(drop: boolean): Promise<void>;
  /** True when a second process cannot see this store (memory, the bare baseline). */
  readonly inProcessOnly?: boolean;
  /** The settings this system runs with, for RESULTS.md. */
  readonly settings: Record<string, unknown>;
}

/** What a child prints as its last line, after the `RESULT ` marker. */
export interface Measurement {
  workload: Workload;
  /** jobs per second, or milliseconds for `latency`. */
  value?: number;
  unit?: "jobs/s" | "ms";
  /** Set when the system does not support the workload, or is not built yet. */
  skipped?: string;
  /** Extra numbers for the curious (phase split, percentiles, duplicate count). */
  extra?: Record<string, number | string>;
  settings?: Record<string, unknown>;
  versions?: Record<string, string>;
}
