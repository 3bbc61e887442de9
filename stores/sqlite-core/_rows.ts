/**
 * Jobs as rows: the column list and the row → {@linkcode JobData} mapping.
 *
 * @module
 */

import type { JobData, JobState, StoredJobOptions } from "@conveyor/shared";

/** A row of the jobs table as the driver returns it. */
export interface JobRow {
  seq: number;
  queue: string;
  id: string;
  name: string;
  state: JobState;
  data: string;
  opts: string;
  priority: number;
  attempts_made: number;
  attempts_started: number;
  stalled_count: number;
  progress: string;
  return_value: string;
  failed_reason: string | null;
  stacktrace: string;
  logs: string;
  created_at: number;
  delay_until: number | null;
  processed_at: number | null;
  finished_at: number | null;
  locked_by: string | null;
  lock_token: string | null;
  lock_until: number | null;
  parent_id: string | null;
  parent_queue: string | null;
  pending_children: number;
  dedup_key: string | null;
  group_id: string | null;
}

/** The columns a job is read with (`SELECT ${JOB_COLUMNS} FROM {jobs}`). */
export const JOB_COLUMNS =
  "seq, queue, id, name, state, data, opts, priority, attempts_made, attempts_started, " +
  "stalled_count, progress, return_value, failed_reason, stacktrace, logs, created_at, " +
  "delay_until, processed_at, finished_at, locked_by, lock_token, lock_until, parent_id, " +
  "parent_queue, pending_children, dedup_key, group_id";

const num = (v: number | bigint | null): number | null => (v === null ? null : Number(v));

/** A fresh {@linkcode JobData} (an isolated copy: parsed from the row's JSON). */
export function toJob(r: JobRow): JobData {
  return {
    id: r.id,
    queueName: r.queue,
    name: r.name,
    data: JSON.parse(r.data),
    state: r.state,
    opts: JSON.parse(r.opts) as StoredJobOptions,
    priority: Number(r.priority),
    seq: Number(r.seq),
    attemptsMade: Number(r.attempts_made),
    attemptsStarted: Number(r.attempts_started),
    stalledCount: Number(r.stalled_count),
    progress: JSON.parse(r.progress),
    returnValue: JSON.parse(r.return_value),
    failedReason: r.failed_reason,
    stacktrace: JSON.parse(r.stacktrace),
    logs: JSON.parse(r.logs),
    createdAt: Number(r.created_at),
    delayUntil: num(r.delay_until),
    processedAt: num(r.processed_at),
    finishedAt: num(r.finished_at),
    lockedBy: r.locked_by,
    lockToken: r.lock_token,
    lockUntil: num(r.lock_until),
    parentId: r.parent_id,
    parentQueueName: r.parent_queue,
    pendingChildrenCount: Number(r.pending_children),
    deduplicationKey: r.dedup_key,
    groupId: r.group_id,
  };
}
