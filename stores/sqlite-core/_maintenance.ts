/**
 * Maintenance: delayed-job promotion, stalled-job recovery, `clean` and `drain`.
 *
 * @module
 */

import type { JobState, StalledRecovery } from "@conveyor/shared";
import type { Tx } from "./_db.ts";
import { BRIEF, type Brief, failFinal, remove } from "./_finish.ts";
import { emitMoved, type Moved } from "./_jobs.ts";

/** Move delayed jobs due at or before `at` to waiting; returns how many. Publishes `waiting`. */
export function promote(tx: Tx, queue: string, at: number): number {
  const rows = tx.db.all<{ id: string; name: string }>(
    `UPDATE {jobs} SET state = 'waiting', delay_until = NULL
     WHERE queue = ? AND state = 'delayed' AND delay_until <= ? RETURNING id, name`,
    queue,
    at,
  );
  emitMoved(
    tx,
    rows.map((r) => ({ queue, id: r.id, name: r.name, state: "waiting", delayUntil: null })),
  );
  return rows.length;
}

interface Stalled extends Brief {
  stalled_count: number;
}

/** Put every stalled job back to waiting, or fail it for good past `maxStalledCount`. */
export function recoverStalled(tx: Tx, queue: string, maxStalledCount: number): StalledRecovery {
  const result: StalledRecovery = { recovered: [], failed: [] };
  const rows = tx.db.all<Stalled>(
    `UPDATE {jobs} SET stalled_count = stalled_count + 1
     WHERE queue = ? AND state = 'active' AND lock_until < ?
     RETURNING ${BRIEF}, stalled_count`,
    queue,
    tx.now,
  ).sort((a, b) => Number(a.seq) - Number(b.seq));
  const back: Moved[] = [];
  for (const row of rows) {
    const stalledCount = Number(row.stalled_count);
    tx.emitJob(queue, row.id, row.name, "stalled", { stalledCount });
    if (stalledCount > maxStalledCount) {
      result.failed.push(row.id);
      const reason = `Job "${row.id}" stalled ${stalledCount} times, more than the allowed ` +
        `${maxStalledCount} (its lease expired while it was active)`;
      failFinal(tx, row, reason);
    } else {
      result.recovered.push(row.id);
      tx.db.run(
        `UPDATE {jobs} SET state = 'waiting', locked_by = NULL, lock_token = NULL,
           lock_until = NULL WHERE seq = ?`,
        row.seq,
      );
      back.push({ queue, id: row.id, name: row.name, state: "waiting", delayUntil: null });
    }
  }
  emitMoved(tx, back);
  return result;
}

/** Remove up to `max` (-1: any number of) jobs in `state` finished (or added) by `cutoff`. */
export function clean(
  tx: Tx,
  queue: string,
  state: JobState,
  cutoff: number,
  max: number,
): string[] {
  const ids: string[] = [];
  if (state === "active" || max === 0) return ids; // max -1: no limit
  const finished = state === "completed" || state === "failed";
  const rows = finished
    ? tx.db.all<Brief>(
      `SELECT ${BRIEF} FROM {jobs} WHERE queue = ? AND state = ? AND finished_at IS NOT NULL
         AND finished_at <= ? ORDER BY finished_at, seq LIMIT ?`,
      queue,
      state,
      cutoff,
      max,
    )
    : tx.db.all<Brief>(
      `SELECT ${BRIEF} FROM {jobs} WHERE queue = ? AND state = ? AND created_at <= ?
         ORDER BY seq LIMIT ?`,
      queue,
      state,
      cutoff,
      max,
    );
  for (const row of rows) {
    // An earlier removal may have taken this job with its parent, or released it.
    const now = tx.db.get<{ state: string }>("SELECT state FROM {jobs} WHERE seq = ?", row.seq);
    if (now?.state !== state) continue;
    ids.push(row.id);
    remove(tx, row, !finished, false);
  }
  if (ids.length > 0) {
    tx.emit({ type: "cleaned", queueName: queue, count: ids.length, detail: { state } });
  }
  return ids;
}

/** Remove every waiting job, and every delayed one when `withDelayed`; returns how many. */
export function drain(tx: Tx, queue: string, withDelayed: boolean): number {
  let removed = 0;
  const sql = `SELECT ${BRIEF} FROM {jobs} WHERE queue = ? AND state IN (${
    withDelayed ? "'waiting', 'delayed'" : "'waiting'"
  }) ORDER BY seq`;
  // Removing a flow child may release its parent into this queue: repeat until none is left.
  for (;;) {
    const rows = tx.db.all<Brief>(sql, queue);
    let done = 0;
    for (const row of rows) {
      const now = tx.db.get<{ state: string }>("SELECT state FROM {jobs} WHERE seq = ?", row.seq);
      if (now?.state !== row.state) continue;
      remove(tx, row, true, false);
      done++;
    }
    removed += done;
    if (done === 0) break;
  }
  tx.emit({ type: "drained", queueName: queue, count: removed });
  return removed;
}
