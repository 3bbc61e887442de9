/**
 * Saving and reading jobs: inserts with race-free duplicate checks, updates, logs, lists.
 *
 * @module
 */

import type { JobState, SaveResult } from "@conveyor/shared";
import type { Tx } from "./_db.ts";
import type { CheckedJob } from "./_validate.ts";

/** Where a job just went, for the events that announce it. */
export interface Moved {
  queue: string;
  id: string;
  name: string;
  state: JobState;
  delayUntil: number | null;
}

/**
 * The id of the live job holding deduplication `key` in the queue, or `null`. With `release`,
 * a hold whose ttl ran out is released on the way (inside a write transaction).
 */
export function dedupHolder(tx: Tx, queue: string, key: string, release: boolean): string | null {
  const row = tx.db.get<{ seq: number; id: string; dedup_until: number | null }>(
    "SELECT seq, id, dedup_until FROM {jobs} WHERE queue = ? AND dedup_hold = ?",
    queue,
    key,
  );
  if (!row) return null;
  if (row.dedup_until === null || tx.now < Number(row.dedup_until)) return row.id;
  if (release) tx.db.run("UPDATE {jobs} SET dedup_hold = NULL WHERE seq = ?", row.seq);
  return null;
}

/** Insert a checked job (duplicates already ruled out). */
export function insertJob(tx: Tx, queue: string, c: CheckedJob): Moved {
  const delay = c.opts.delay ?? 0;
  const state: JobState = c.pendingChildrenCount > 0
    ? "waiting-children"
    : delay > 0
    ? "delayed"
    : "waiting";
  const delayUntil = state === "delayed" ? tx.now + delay : null;
  const ttl = c.opts.deduplication?.ttl;
  tx.db.run(
    `INSERT INTO {jobs} (queue, id, name, state, data, opts, priority, lifo, created_at,
       delay_until, parent_id, parent_queue, pending_children, dedup_key, dedup_hold, dedup_until,
       group_id)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    queue,
    c.id,
    c.name,
    state,
    c.data,
    JSON.stringify(c.opts),
    c.opts.priority ?? 0,
    c.opts.lifo ? 1 : 0,
    tx.now,
    delayUntil,
    c.parentId,
    c.parentId === null ? null : (c.parentQueueName ?? queue),
    c.pendingChildrenCount,
    c.deduplicationKey,
    c.deduplicationKey,
    c.deduplicationKey !== null && ttl !== undefined ? tx.now + ttl : null,
    c.opts.groupId ?? null,
  );
  return { queue, id: c.id, name: c.name, state, delayUntil };
}

/** Save one job, or report the job whose id or deduplication key it duplicates. */
export function saveOne(tx: Tx, queue: string, c: CheckedJob, moved: Moved[]): SaveResult {
  if (tx.db.get("SELECT 1 FROM {jobs} WHERE queue = ? AND id = ?", queue, c.id)) {
    return { id: c.id, duplicate: true };
  }
  if (c.deduplicationKey !== null) {
    const holder = dedupHolder(tx, queue, c.deduplicationKey, true);
    if (holder !== null) return { id: holder, duplicate: true };
  }
  moved.push(insertJob(tx, queue, c));
  return { id: c.id, duplicate: false };
}

/** Publish where one job went: `waiting`, `delayed` (with its due time) or `waiting-children`. */
export function emitState(tx: Tx, m: Moved): void {
  if (m.state === "delayed") {
    tx.emitJob(m.queue, m.id, m.name, "delayed", { delayUntil: m.delayUntil });
  } else if (m.state === "waiting" || m.state === "waiting-children") {
    tx.emitJob(m.queue, m.id, m.name, m.state);
  }
}

/** Publish where jobs went: one event per job alone in its queue and state, else one with `count`. */
export function emitMoved(tx: Tx, moved: readonly Moved[]): void {
  const groups = new Map<string, Moved[]>();
  for (const m of moved) {
    const k = `${m.queue}\u0000${m.state}`;
    const list = groups.get(k);
    if (list) list.push(m);
    else groups.set(k, [m]);
  }
  for (const list of groups.values()) {
    if (list.length === 1) emitState(tx, list[0]);
    else tx.emit({ type: list[0].state, queueName: list[0].queue, count: list.length });
  }
}

const FENCE = "AND state = 'active' AND lock_token = ?";

/** Replace a job's payload and/or progress (fenced by `token` when given); publishes progress. */
export function updateJob(
  tx: Tx,
  queue: string,
  id: string,
  change: { data: string | null; progress: string | null },
  token: string | undefined,
): boolean {
  const sql = "UPDATE {jobs} SET data = coalesce(?, data), progress = coalesce(?, progress) " +
    `WHERE queue = ? AND id = ? ${token === undefined ? "" : FENCE} RETURNING name`;
  const params = [change.data, change.progress, queue, id];
  const row = token === undefined
    ? tx.db.get<{ name: string }>(sql, ...params)
    : tx.db.get<{ name: string }>(sql, ...params, token);
  if (!row) return false;
  if (change.progress !== null) {
    tx.emitJob(queue, id, row.name, "progress", { progress: JSON.parse(change.progress) });
  }
  return true;
}

/** Append a log line (fenced by `token` when given). */
export function addLog(
  tx: Tx,
  queue: string,
  id: string,
  line: string,
  token: string | undefined,
): boolean {
  const sql = "UPDATE {jobs} SET logs = json_insert(logs, '$[#]', ?) WHERE queue = ? AND id = ? " +
    (token === undefined ? "" : FENCE);
  return token === undefined
    ? tx.db.run(sql, line, queue, id) > 0
    : tx.db.run(sql, line, queue, id, token) > 0;
}
