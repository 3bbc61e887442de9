/**
 * Read-only queries of the store, each one statement served by an index of `_schema.ts`.
 *
 * @module
 */

import type { JobState } from "@conveyor/shared";
import type { Db } from "./_db.ts";
import { JOB_COLUMNS, type JobRow } from "./_rows.ts";

/** A job row by queue and id, or `undefined` (`{jobs_id}`). */
export function findJob(db: Db, queue: string, id: string): JobRow | undefined {
  return db.get<JobRow>(`SELECT ${JOB_COLUMNS} FROM {jobs} WHERE queue = ? AND id = ?`, queue, id);
}

/** Jobs of a queue by ascending seq, optionally in one state, paged (`{jobs_queue}`, `{jobs_state}`). */
export function listJobs(
  db: Db,
  queue: string,
  state: JobState | undefined,
  offset: number,
  limit: number,
): JobRow[] {
  if (state === undefined) {
    return db.all<JobRow>(
      `SELECT ${JOB_COLUMNS} FROM {jobs} WHERE queue = ? ORDER BY seq LIMIT ? OFFSET ?`,
      queue,
      limit,
      offset,
    );
  }
  return db.all<JobRow>(
    `SELECT ${JOB_COLUMNS} FROM {jobs} WHERE queue = ? AND state = ? ORDER BY seq LIMIT ? OFFSET ?`,
    queue,
    state,
    limit,
    offset,
  );
}

/** Number of jobs of a queue (in `state` when given). */
export function countJobs(db: Db, queue: string, state?: JobState): number {
  const row = state === undefined
    ? db.get<{ n: number }>("SELECT COUNT(*) AS n FROM {jobs} WHERE queue = ?", queue)
    : db.get<{ n: number }>(
      "SELECT COUNT(*) AS n FROM {jobs} WHERE queue = ? AND state = ?",
      queue,
      state,
    );
  return Number(row?.n ?? 0);
}

/** Earliest due time of the queue's delayed jobs, or `null` (`{jobs_delayed}`). */
export function nextDelayed(db: Db, queue: string): number | null {
  const row = db.get<{ t: number | null }>(
    "SELECT MIN(delay_until) AS t FROM {jobs} WHERE queue = ? AND state = 'delayed'",
    queue,
  );
  return row?.t == null ? null : Number(row.t);
}

/** Paused job names of the queue. */
export function pausedNames(db: Db, queue: string): string[] {
  return db.all<{ name: string }>("SELECT name FROM {paused} WHERE queue = ?", queue)
    .map((r) => r.name);
}

/** Active jobs whose lease ended before `now`, by ascending seq (`{jobs_active}`). */
export function stalledJobs(db: Db, queue: string, now: number): JobRow[] {
  return db.all<JobRow>(
    `SELECT ${JOB_COLUMNS} FROM {jobs} WHERE queue = ? AND state = 'active' AND lock_until < ?
     ORDER BY seq`,
    queue,
    now,
  );
}

/** Direct children of a parent, across queues, by ascending seq (`{jobs_parent}`). */
export function childrenOf(db: Db, parentQueue: string, parentId: string): JobRow[] {
  return db.all<JobRow>(
    `SELECT ${JOB_COLUMNS} FROM {jobs} WHERE parent_queue = ? AND parent_id = ? ORDER BY seq`,
    parentQueue,
    parentId,
  );
}

/** The live job holding deduplication `key` in the queue, or `undefined` (`{jobs_dedup}`). */
export function dedupJob(db: Db, queue: string, key: string, now: number): JobRow | undefined {
  return db.get<JobRow>(
    `SELECT ${JOB_COLUMNS} FROM {jobs} WHERE queue = ? AND dedup_hold = ?
       AND (dedup_until IS NULL OR dedup_until > ?)`,
    queue,
    key,
    now,
  );
}

/** Number of a group's jobs in `state` (`{jobs_group}`). */
export function groupCount(db: Db, queue: string, groupId: string, state: JobState): number {
  const row = db.get<{ n: number }>(
    "SELECT COUNT(*) AS n FROM {jobs} WHERE queue = ? AND group_id = ? AND state = ?",
    queue,
    groupId,
    state,
  );
  return Number(row?.n ?? 0);
}
