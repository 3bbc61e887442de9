/**
 * Options and descriptions of repeat schedules (`Queue.cron`, `Queue.every`).
 *
 * @module
 */

import type { JobOptions } from "@conveyor/shared";

/** Options of `Queue.cron` and `Queue.every`: job options for every run, plus the schedule's. */
export interface RepeatOptions
  extends Omit<JobOptions, "jobId" | "delay" | "repeat" | "deduplication"> {
  /**
   * Key of the schedule, unique within the queue; registering the same key again updates (or,
   * when nothing changed, keeps) the schedule instead of adding a second one.
   * @default the job name
   */
  key?: string;
  /**
   * IANA time zone of a cron pattern (`"Europe/Paris"`).
   * @default the local time zone of the process computing the next run
   */
  tz?: string;
  /**
   * No run is scheduled after this time (a `Date` or ms since the epoch).
   * @default no end
   */
  endDate?: Date | number;
  /**
   * Schedule at most this many runs in total.
   * @default no limit
   */
  limit?: number;
}

/** A registered repeat schedule, as returned by `cron`, `every` and `listRepeatables`. */
export interface RepeatableInfo {
  /** Key of the schedule. */
  key: string;
  /** Name of the jobs it adds. */
  name: string;
  /** Cron pattern, for a cron schedule. */
  pattern?: string;
  /** Interval in ms, for an `every` schedule. */
  every?: number;
  /** Time zone of the cron pattern. */
  tz?: string;
  /** Last possible run time (ms), if any. */
  endDate?: number;
  /** Maximum number of runs, if any. */
  limit?: number;
  /** Runs scheduled so far. */
  count: number;
  /** Time (ms) of the pending run, or `null` when the schedule has ended. */
  next: number | null;
}
