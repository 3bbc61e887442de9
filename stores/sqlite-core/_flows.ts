/**
 * Flows: `saveFlow` checks a whole tree, then writes it in the caller's transaction (all or
 * nothing); the parent steps count each child once (a row in `{counted}`) and apply failure
 * policies up the tree.
 *
 * @module
 */

import {
  checkFlowShape,
  FlowError,
  type FlowNode,
  type FlowShape,
  type SaveResult,
  type StoredJobOptions,
} from "@conveyor/shared";
import type { Tx } from "./_db.ts";
import { BRIEF, type Brief, failFinal, forgetCounted, remove } from "./_finish.ts";
import { dedupHolder, emitMoved, emitState, insertJob, type Moved } from "./_jobs.ts";
import { type CheckedJob, checkNewJob } from "./_validate.ts";

type Node = FlowNode<CheckedJob>;

const keyOf = (queue: string, id: string) => `${queue}\u0000${id}`;

/** Check a flow's records and shape (no database access): its nodes, and its root. */
export function checkFlow(records: unknown): FlowShape<CheckedJob> {
  return checkFlowShape(records, checkNewJob);
}

/** Save a checked flow inside the caller's transaction; see `StoreInterface.saveFlow`. */
export function saveFlow(tx: Tx, nodes: Node[], root: Node): SaveResult[] {
  const db = tx.db;
  const exists = (queue: string, id: string) =>
    db.get("SELECT 1 FROM {jobs} WHERE queue = ? AND id = ?", queue, id) !== undefined;
  let existing: string | null = exists(root.queueName, root.job.id) ? root.job.id : null;
  if (existing === null && root.job.deduplicationKey !== null) {
    existing = dedupHolder(tx, root.queueName, root.job.deduplicationKey, true);
  }
  if (existing !== null) {
    return nodes.map((n) => ({ id: n === root ? existing : n.job.id, duplicate: true }));
  }
  const keys = new Set<string>();
  for (const n of nodes) {
    if (n !== root && exists(n.queueName, n.job.id)) {
      throw new FlowError(`Job "${n.job.id}" already exists in queue "${n.queueName}"`);
    }
    const dk = n.job.deduplicationKey;
    if (dk === null) continue;
    const qk = keyOf(n.queueName, dk);
    if (keys.has(qk) || (n !== root && dedupHolder(tx, n.queueName, dk, true) !== null)) {
      throw new FlowError(
        `Deduplication key "${dk}" of job "${n.job.id}" is already held in queue "${n.queueName}"`,
      );
    }
    keys.add(qk);
  }
  let outside: { seq: number; state: string } | undefined;
  if (root.job.parentId !== null) {
    const pq = root.job.parentQueueName ?? root.queueName;
    outside = db.get(
      "SELECT seq, state FROM {jobs} WHERE queue = ? AND id = ?",
      pq,
      root.job.parentId,
    );
    if (!outside) {
      throw new FlowError(
        `Parent job "${root.job.parentId}" of flow root "${root.job.id}" does not exist in queue "${pq}"`,
      );
    }
  }
  const moved: Moved[] = nodes.map((n) => insertJob(tx, n.queueName, n.job));
  if (outside?.state === "waiting-children") {
    db.run("UPDATE {jobs} SET pending_children = pending_children + 1 WHERE seq = ?", outside.seq);
  }
  emitMoved(tx, moved);
  return nodes.map((n) => ({ id: n.job.id, duplicate: false }));
}

interface Parent extends Brief {
  pending_children: number;
}

/** Count `childId` for its parent if the parent still waits for it; else `null`. */
function countChild(tx: Tx, pq: string, pid: string, childId: string): Parent | null {
  const p = tx.db.get<Parent>(
    `SELECT ${BRIEF}, pending_children FROM {jobs} WHERE queue = ? AND id = ?`,
    pq,
    pid,
  );
  if (!p || p.state !== "waiting-children") return null;
  const counted = tx.db.run(
    "INSERT OR IGNORE INTO {counted} (parent_queue, parent_id, child_id) VALUES (?, ?, ?)",
    pq,
    pid,
    childId,
  );
  if (counted === 0) return null;
  p.pending_children = Math.max(0, Number(p.pending_children) - 1);
  tx.db.run("UPDATE {jobs} SET pending_children = ? WHERE seq = ?", p.pending_children, p.seq);
  return p;
}

/** A parent whose children are all accounted for: waiting, or delayed when it has a delay. */
function release(tx: Tx, p: Parent): void {
  const delay = (JSON.parse(p.opts) as StoredJobOptions).delay ?? 0;
  const state = delay > 0 ? "delayed" : "waiting";
  const delayUntil = delay > 0 ? tx.now + delay : null;
  tx.db.run("UPDATE {jobs} SET state = ?, delay_until = ? WHERE seq = ?", state, delayUntil, p.seq);
  forgetCounted(tx, p.queue, p.id);
  emitState(tx, { queue: p.queue, id: p.id, name: p.name, state, delayUntil });
}

/** Count child `childId` as done for its parent, once; `true` when that released the parent. */
export function childDone(tx: Tx, pq: string, pid: string, childId: string): boolean {
  const p = countChild(tx, pq, pid, childId);
  if (!p || p.pending_children > 0) return false;
  release(tx, p);
  return true;
}

/**
 * Apply the parent's `failParentOnChildFailure` policy for a failed child, once. A parent that
 * fails or is removed is in turn a failed child for its own parent.
 */
export function childFailed(tx: Tx, pq: string, pid: string, childId: string, reason: string) {
  const p = countChild(tx, pq, pid, childId);
  if (!p) return;
  const policy = (JSON.parse(p.opts) as StoredJobOptions).failParentOnChildFailure ?? "fail";
  if (policy === "ignore") {
    if (p.pending_children === 0) release(tx, p);
    return;
  }
  const why = `child job "${childId}" failed: ${reason}`;
  if (policy === "fail") {
    failFinal(tx, p, why); // applies the grandparent's policy in turn
    return;
  }
  remove(tx, p, false, true);
  if (p.parent_id !== null) childFailed(tx, p.parent_queue as string, p.parent_id, pid, why);
}
