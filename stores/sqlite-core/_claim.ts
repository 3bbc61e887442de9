/**
 * Claims: lease the next waiting jobs in one `BEGIN IMMEDIATE` transaction (the caller's),
 * honouring pauses, group concurrency, global concurrency and the rate limit.
 *
 * The walk reads candidates from the partial index `{jobs_claim}` in claim order (priority,
 * then LIFO newest first, then FIFO oldest first), leaving out paused names and groups found
 * full; each candidate is leased with one `UPDATE … RETURNING`.
 *
 * @module
 */

import { ALL_JOB_NAMES, type FetchOptions } from "@conveyor/shared";
import type { Tx } from "./_db.ts";
import { JOB_COLUMNS, type JobRow } from "./_rows.ts";

interface Candidate {
  seq: number;
  group_id: string | null;
}

const CANDIDATES = `SELECT seq, group_id FROM {jobs}
  WHERE queue = ?1 AND state = 'waiting'
    AND name NOT IN (SELECT name FROM {paused} WHERE queue = ?1)
    AND (group_id IS NULL OR group_id NOT IN (SELECT value FROM json_each(?2)))
  ORDER BY priority, ord LIMIT ?3`;

const LEASE = `UPDATE {jobs} SET state = 'active', locked_by = ?, lock_token = ?, lock_until = ?,
    processed_at = ?, attempts_started = attempts_started + 1
  WHERE seq = ? AND state = 'waiting' RETURNING ${JOB_COLUMNS}`;

function count(tx: Tx, sql: string, ...params: (string | number)[]): number {
  return Number(tx.db.get<{ n: number }>(sql, ...params)?.n ?? 0);
}

/** Lease up to `max` jobs of the queue in claim order; publishes `active` (and `drained`). */
export function claim(
  tx: Tx,
  queue: string,
  workerId: string,
  lockDuration: number,
  max: number,
  opts: FetchOptions,
): JobRow[] {
  const db = tx.db;
  if (max <= 0) return [];
  if (db.get("SELECT 1 FROM {paused} WHERE queue = ? AND name = ?", queue, ALL_JOB_NAMES)) {
    return [];
  }
  let budget = max;
  if (opts.maxGlobalConcurrency !== undefined) {
    const active = count(
      tx,
      "SELECT COUNT(*) AS n FROM {jobs} WHERE queue = ? AND state = 'active'",
      queue,
    );
    budget = Math.min(budget, opts.maxGlobalConcurrency - active);
  }
  const rate = opts.rateLimit;
  if (rate) {
    const from = tx.now - rate.duration;
    db.run("DELETE FROM {claims} WHERE queue = ? AND at <= ?", queue, from);
    const used = count(tx, "SELECT COUNT(*) AS n FROM {claims} WHERE queue = ?", queue);
    budget = Math.min(budget, rate.max - used);
  }
  const out: JobRow[] = [];
  if (budget <= 0) return out;
  const limit = opts.groupConcurrency;
  const full: string[] = [];
  const active = new Map<string, number>();
  const token = crypto.randomUUID();
  while (out.length < budget) {
    const want = budget - out.length;
    const batch = db.all<Candidate>(CANDIDATES, queue, JSON.stringify(full), want);
    if (batch.length === 0) break;
    for (const c of batch) {
      const g = c.group_id;
      if (g !== null && limit !== undefined) {
        if (full.includes(g)) continue;
        const n = active.get(g) ?? count(
          tx,
          "SELECT COUNT(*) AS n FROM {jobs} WHERE queue = ? AND group_id = ? AND state = 'active'",
          queue,
          g,
        );
        if (n >= limit) {
          full.push(g);
          continue;
        }
        active.set(g, n + 1);
      }
      const row = db.get<JobRow>(
        LEASE,
        workerId,
        `${token}:${out.length}`,
        tx.now + lockDuration,
        tx.now,
        c.seq,
      );
      if (row) out.push(row);
      if (out.length >= budget) break;
    }
  }
  if (out.length === 0) return out;
  if (rate) {
    for (let i = 0; i < out.length; i++) {
      db.run("INSERT INTO {claims} (queue, at) VALUES (?, ?)", queue, tx.now);
    }
  }
  for (const r of out) tx.emitJob(queue, r.id, r.name, "active", { workerId });
  if (!db.get("SELECT 1 FROM {jobs} WHERE queue = ? AND state = 'waiting' LIMIT 1", queue)) {
    tx.emit({ type: "drained", queueName: queue });
  }
  return out;
}
