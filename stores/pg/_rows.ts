/**
 * Rows to `JobData`, and `NewJob`s to the JSON records the insert statement reads.
 *
 * @module
 */

import type {
  JobData,
  JobProgress,
  JobState,
  KeepJobs,
  NewJob,
  StoredJobOptions,
} from "@conveyor/shared";
import { num, numOrNull, type Row } from "./_db.ts";

const COLUMNS = [
  "queue",
  "id",
  "name",
  "data",
  "opts",
  "state",
  "priority",
  "seq",
  "attempts_made",
  "attempts_started",
  "stalled_count",
  "progress",
  "return_value",
  "failed_reason",
  "stacktrace",
  "logs",
  "created_at",
  "delay_until",
  "processed_at",
  "finished_at",
  "locked_by",
  "lock_token",
  "lock_until",
  "parent_queue",
  "parent_id",
  "pending_children",
  "dedup_key",
  "group_id",
];

/** The job columns `rowToJob` reads, qualified with `alias` when given. */
export function jobColumns(alias?: string): string {
  return alias ? COLUMNS.map((c) => `${alias}.${c}`).join(", ") : COLUMNS.join(", ");
}

/**
 * A job as one JSON text: an array of the {@linkcode jobColumns} in their order (SQL, for the
 * row alias `alias`). Rows read in bulk come back this way: one field per job, parsed by
 * `JSON.parse`, costs the client a fraction of what decoding each column of each row does.
 */
export function jobJson(alias: string): string {
  return `json_build_array(${jobColumns(alias)})::text`;
}

/**
 * A job sent as {@linkcode jobJson}, as `JobData`: `v[i]` is column `COLUMNS[i]` (numbers
 * arrive as JSON numbers, so none needs converting).
 */
export function jsonToJob(text: string): JobData {
  const v = JSON.parse(text);
  return {
    id: v[1],
    queueName: v[0],
    name: v[2],
    data: v[3],
    state: v[5],
    opts: v[4],
    priority: v[6],
    seq: v[7],
    attemptsMade: v[8],
    attemptsStarted: v[9],
    stalledCount: v[10],
    progress: v[11],
    returnValue: v[12],
    failedReason: v[13],
    stacktrace: v[14],
    logs: v[15],
    createdAt: v[16],
    delayUntil: v[17],
    processedAt: v[18],
    finishedAt: v[19],
    lockedBy: v[20],
    lockToken: v[21],
    lockUntil: v[22],
    parentId: v[24],
    parentQueueName: v[23],
    pendingChildrenCount: v[25],
    deduplicationKey: v[26],
    groupId: v[27],
  };
}

/** A row of `jobs` (selected with {@linkcode jobColumns}) as `JobData`. */
export function rowToJob(r: Row): JobData {
  return {
    id: r.id as string,
    queueName: r.queue as string,
    name: r.name as string,
    data: r.data,
    state: r.state as JobState,
    opts: r.opts as StoredJobOptions,
    priority: r.priority as number,
    seq: num(r.seq),
    attemptsMade: r.attempts_made as number,
    attemptsStarted: r.attempts_started as number,
    stalledCount: r.stalled_count as number,
    progress: r.progress as JobProgress,
    returnValue: r.return_value ?? null,
    failedReason: (r.failed_reason as string | null) ?? null,
    stacktrace: r.stacktrace as string[],
    logs: r.logs as string[],
    createdAt: num(r.created_at),
    delayUntil: numOrNull(r.delay_until),
    processedAt: numOrNull(r.processed_at),
    finishedAt: numOrNull(r.finished_at),
    lockedBy: (r.locked_by as string | null) ?? null,
    lockToken: (r.lock_token as string | null) ?? null,
    lockUntil: numOrNull(r.lock_until),
    parentId: (r.parent_id as string | null) ?? null,
    parentQueueName: (r.parent_queue as string | null) ?? null,
    pendingChildrenCount: r.pending_children as number,
    deduplicationKey: (r.dedup_key as string | null) ?? null,
    groupId: (r.group_id as string | null) ?? null,
  };
}

/** How many finished jobs to keep: `keep` null keeps all, 0 removes at once. */
interface Keep {
  keep: number | null;
  age: number | null;
}

function keepOf(option: boolean | number | KeepJobs | undefined): Keep {
  if (option === undefined || option === false) return { keep: null, age: null };
  if (option === true) return { keep: 0, age: null };
  if (typeof option === "number") return { keep: option, age: null };
  return { keep: option.count ?? null, age: option.age === undefined ? null : option.age };
}

/** A job to insert, as one element of the insert statement's `json_to_recordset` input. */
export interface InsertRecord {
  queue: string;
  id: string;
  name: string;
  data: unknown;
  opts: StoredJobOptions;
  priority: number;
  lifo: boolean;
  delay: number;
  group_id: string | null;
  dedup_key: string | null;
  dedup_ttl: number | null;
  parent_queue: string | null;
  parent_id: string | null;
  pending_children: number;
  parent_policy: string;
  complete_keep: number | null;
  complete_age: number | null;
  fail_keep: number | null;
  fail_age: number | null;
}

/** Build the insert record of a (checked) job. */
export function toInsertRecord(queue: string, job: NewJob): InsertRecord {
  const o = job.opts;
  const complete = keepOf(o.removeOnComplete);
  const fail = keepOf(o.removeOnFail);
  const dedupKey = job.deduplicationKey ?? null;
  return {
    queue,
    id: job.id,
    name: job.name,
    data: job.data,
    opts: o,
    priority: o.priority ?? 0,
    lifo: o.lifo ?? false,
    delay: Math.max(0, Math.round(o.delay ?? 0)),
    group_id: o.groupId ?? null,
    dedup_key: dedupKey,
    dedup_ttl: dedupKey !== null && o.deduplication?.ttl !== undefined
      ? Math.max(1, Math.round(o.deduplication.ttl))
      : null,
    parent_queue: job.parentId ? (job.parentQueueName ?? queue) : null,
    parent_id: job.parentId ?? null,
    pending_children: job.pendingChildrenCount ?? 0,
    parent_policy: o.failParentOnChildFailure ?? "fail",
    complete_keep: complete.keep,
    complete_age: complete.age === null ? null : Math.round(complete.age),
    fail_keep: fail.keep,
    fail_age: fail.age === null ? null : Math.round(fail.age),
  };
}
