/**
 * Lease-fenced changes (extend, release, complete, fail) and the transitions they share with
 * stalled recovery and flows: failing for good, keeping finished jobs, removing jobs.
 *
 * @module
 */

import type { KeepJobs, StoredJobOptions } from "@conveyor/shared";
import type { Tx } from "./_db.ts";
import { childDone, childFailed } from "./_flows.ts";
import { emitState } from "./_jobs.ts";

/** The columns a transition needs. */
export interface Brief {
  seq: number;
  queue: string;
  id: string;
  name: string;
  state: string;
  opts: string;
  parent_id: string | null;
  parent_queue: string | null;
}

/** Column list of {@linkcode Brief}. */
export const BRIEF = "seq, queue, id, name, state, opts, parent_id, parent_queue";

const FENCE = "queue = ? AND id = ? AND state = 'active' AND lock_token = ?";
const UNLOCK = "locked_by = NULL, lock_token = NULL, lock_until = NULL";
// A key without a ttl is released when its job finishes; a key with one holds until it ends.
const RELEASE_KEY = "dedup_hold = CASE WHEN dedup_until IS NULL THEN NULL ELSE dedup_hold END";

/** Extend a lease to now + `duration`. */
export function extendLock(tx: Tx, q: string, id: string, token: string, duration: number) {
  return tx.db.run(
    `UPDATE {jobs} SET lock_until = ? WHERE ${FENCE}`,
    tx.now + duration,
    q,
    id,
    token,
  ) >
    0;
}

/** Give a leased job back to waiting without counting an attempt. */
export function releaseLock(tx: Tx, q: string, id: string, token: string): boolean {
  const row = tx.db.get<{ name: string }>(
    `UPDATE {jobs} SET state = 'waiting', ${UNLOCK} WHERE ${FENCE} RETURNING name`,
    q,
    id,
    token,
  );
  if (!row) return false;
  tx.emitJob(q, id, row.name, "waiting");
  return true;
}

/** Complete a leased job: result, parent count, `removeOnComplete`, event. */
export function completeJob(tx: Tx, q: string, id: string, token: string, value: string): boolean {
  const row = tx.db.get<Brief>(
    `UPDATE {jobs} SET state = 'completed', return_value = ?, attempts_made = attempts_made + 1,
       finished_at = ?, ${UNLOCK}, ${RELEASE_KEY}
     WHERE ${FENCE} RETURNING ${BRIEF}`,
    value,
    tx.now,
    q,
    id,
    token,
  );
  if (!row) return false;
  tx.emitJob(q, id, row.name, "completed");
  if (row.parent_id !== null) childDone(tx, row.parent_queue as string, row.parent_id, id);
  const opts = JSON.parse(row.opts) as StoredJobOptions;
  keep(tx, row, "completed", opts.removeOnComplete);
  return true;
}

/** Fail a leased attempt: retry at once, retry after a delay, or fail for good. */
export function failJob(
  tx: Tx,
  q: string,
  id: string,
  token: string,
  reason: string,
  stacktrace: string | null,
  retryDelay: number | null,
): boolean {
  const row = tx.db.get<Brief>(
    `UPDATE {jobs} SET attempts_made = attempts_made + 1,
       stacktrace = CASE WHEN ?1 IS NULL THEN stacktrace ELSE json_insert(stacktrace, '$[#]', ?1) END
     WHERE queue = ?2 AND id = ?3 AND state = 'active' AND lock_token = ?4 RETURNING ${BRIEF}`,
    stacktrace,
    q,
    id,
    token,
  );
  if (!row) return false;
  if (retryDelay === null) {
    failFinal(tx, row, reason);
    return true;
  }
  const state = retryDelay > 0 ? "delayed" : "waiting";
  const delayUntil = retryDelay > 0 ? tx.now + retryDelay : null;
  tx.db.run(
    `UPDATE {jobs} SET state = ?, delay_until = ?, failed_reason = ?, ${UNLOCK} WHERE seq = ?`,
    state,
    delayUntil,
    reason,
    row.seq,
  );
  emitState(tx, { queue: q, id, name: row.name, state, delayUntil });
  return true;
}

/** Fail a job for good: state, key release, event, parent policy, `removeOnFail`. */
export function failFinal(tx: Tx, row: Brief, reason: string): void {
  tx.db.run(
    `UPDATE {jobs} SET state = 'failed', failed_reason = ?, finished_at = ?, delay_until = NULL,
       ${UNLOCK}, ${RELEASE_KEY} WHERE seq = ?`,
    reason,
    tx.now,
    row.seq,
  );
  if (row.state === "waiting-children") forgetCounted(tx, row.queue, row.id);
  tx.emitJob(row.queue, row.id, row.name, "failed", { failedReason: reason });
  if (row.parent_id !== null) {
    childFailed(tx, row.parent_queue as string, row.parent_id, row.id, reason);
  }
  const opts = JSON.parse(row.opts) as StoredJobOptions;
  keep(tx, row, "failed", opts.removeOnFail);
}

/** Drop the counted-children marks of a parent that no longer waits for children. */
export function forgetCounted(tx: Tx, queue: string, id: string): void {
  tx.db.run("DELETE FROM {counted} WHERE parent_queue = ? AND parent_id = ?", queue, id);
}

/** Apply `removeOnComplete`/`removeOnFail` after `row` finished in `state`. */
function keep(
  tx: Tx,
  row: Brief,
  state: "completed" | "failed",
  policy: boolean | number | KeepJobs | undefined,
): void {
  if (policy === undefined || policy === false) return;
  if (policy === true) {
    remove(tx, { ...row, state }, false, false);
    return;
  }
  const count = typeof policy === "number" ? policy : policy.count;
  const age = typeof policy === "number" ? undefined : policy.age;
  if (age !== undefined) {
    const old = tx.db.all<Brief>(
      `SELECT ${BRIEF} FROM {jobs} WHERE queue = ? AND state = ? AND finished_at IS NOT NULL
         AND finished_at <= ? ORDER BY finished_at, seq`,
      row.queue,
      state,
      tx.now - age,
    );
    for (const r of old) remove(tx, r, false, false);
  }
  if (count !== undefined) {
    const extra = tx.db.all<Brief>(
      `SELECT ${BRIEF} FROM {jobs} WHERE queue = ? AND state = ? AND finished_at IS NOT NULL
         ORDER BY finished_at DESC, seq DESC LIMIT -1 OFFSET ?`,
      row.queue,
      state,
      count,
    );
    for (const r of extra) remove(tx, r, false, false);
  }
}

/**
 * Remove a job that is not active, with its unfinished descendants that are not active. With
 * `countForParent`, an unfinished flow child counts as done for its parent.
 */
export function remove(tx: Tx, row: Brief, countForParent: boolean, publish: boolean): void {
  const kids = tx.db.all<Brief>(
    `SELECT ${BRIEF} FROM {jobs} WHERE parent_queue = ? AND parent_id = ?`,
    row.queue,
    row.id,
  );
  for (const k of kids) {
    if (k.state === "waiting" || k.state === "delayed" || k.state === "waiting-children") {
      remove(tx, k, false, publish);
    }
  }
  tx.db.run("DELETE FROM {jobs} WHERE seq = ?", row.seq);
  forgetCounted(tx, row.queue, row.id);
  const unfinished = row.state !== "completed" && row.state !== "failed";
  if (row.parent_id !== null && countForParent && unfinished) {
    childDone(tx, row.parent_queue as string, row.parent_id, row.id);
  }
  if (publish) tx.emitJob(row.queue, row.id, row.name, "removed");
}
