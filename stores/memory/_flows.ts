/**
 * Flows in the memory store: `saveFlow` checks a whole tree, then saves all of it or nothing;
 * the parent steps count each child once and apply failure policies up the tree.
 *
 * @module
 */

import { checkFlowShape, FlowError, type FlowNode, type SaveResult } from "@conveyor/shared";
import { jobKey, type StoreCore } from "./_core.ts";
import type { QueueState, Rec } from "./_queue.ts";
import { type CheckedJob, checkNewJob } from "./_validate.ts";

type Node = FlowNode<CheckedJob>;

/**
 * Save one flow tree all-or-nothing. Every check runs before the first write, and the writes
 * run synchronously, so no other store operation sees part of the tree.
 */
export function saveFlow(core: StoreCore, records: unknown): SaveResult[] {
  const { nodes, root } = checkFlowShape(records, checkNewJob);

  // The root may be a duplicate add: then nothing is saved.
  const now = core.now();
  const rootQueue = core.queues.get(root.queueName);
  let existing: Rec | null | undefined = rootQueue?.jobs.get(root.job.id);
  if (!existing && rootQueue && root.job.deduplicationKey !== null) {
    existing = core.dedupHolder(rootQueue, root.job.deduplicationKey, now);
  }
  if (existing) {
    return nodes.map((n) => ({
      id: n === root ? (existing as Rec).job.id : n.job.id,
      duplicate: true,
    }));
  }

  // Every other job must be new, with a key nobody holds.
  const keys = new Set<string>();
  for (const n of nodes) {
    const q = core.queues.get(n.queueName);
    if (n !== root && q?.jobs.has(n.job.id)) {
      throw new FlowError(`Job "${n.job.id}" already exists in queue "${n.queueName}"`);
    }
    const dk = n.job.deduplicationKey;
    if (dk === null) continue;
    const qk = jobKey(n.queueName, dk);
    if (keys.has(qk) || (n !== root && q && core.dedupHolder(q, dk, now))) {
      throw new FlowError(
        `Deduplication key "${dk}" of job "${n.job.id}" is already held in queue "${n.queueName}"`,
      );
    }
    keys.add(qk);
  }
  let outsideParent: Rec | undefined;
  if (root.job.parentId !== null) {
    const pq = root.job.parentQueueName ?? root.queueName;
    outsideParent = core.find(pq, root.job.parentId);
    if (!outsideParent) {
      throw new FlowError(
        `Parent job "${root.job.parentId}" of flow root "${root.job.id}" does not exist in queue "${pq}"`,
      );
    }
  }

  // Write: nothing below can throw.
  const saved: Rec[] = [];
  for (const n of nodes) {
    const q = core.queue(n.queueName);
    saved.push(core.insert(q, n.job, now));
  }
  if (outsideParent && outsideParent.job.state === "waiting-children") {
    outsideParent.job.pendingChildrenCount++;
  }
  core.emitMoved(saved);
  return nodes.map((n) => ({ id: n.job.id, duplicate: false }));
}

// ── Parent steps: each child is counted once, and failure policies climb the tree ────────────

/** Count `childId` for its parent if the parent is still waiting for it; else `null`. */
function countChild(core: StoreCore, parentQueueName: string, parentId: string, childId: string) {
  const q = core.queues.get(parentQueueName);
  const p = q?.jobs.get(parentId);
  if (!q || !p || p.job.state !== "waiting-children") return null;
  p.counted ??= new Set();
  if (p.counted.has(childId)) return null;
  p.counted.add(childId);
  p.job.pendingChildrenCount = Math.max(0, p.job.pendingChildrenCount - 1);
  return { q, p };
}

/** A parent whose children are all accounted for: waiting, or delayed when it has a delay. */
function releaseParent(core: StoreCore, q: QueueState, p: Rec, now: number): void {
  const delay = p.job.opts.delay ?? 0;
  if (delay > 0) core.toDelayed(q, p, now + delay);
  else core.toWaiting(q, p);
  core.emitState(p);
}

/** Count child `childId` as done for its parent, once. Returns whether the parent was released. */
export function childDone(
  core: StoreCore,
  parentQueueName: string,
  parentId: string,
  childId: string,
  now: number,
): boolean {
  const found = countChild(core, parentQueueName, parentId, childId);
  if (!found || found.p.job.pendingChildrenCount > 0) return false;
  releaseParent(core, found.q, found.p, now);
  return true;
}

/**
 * Apply the parent's `failParentOnChildFailure` policy for a failed child, once. A parent that
 * fails or is removed is in turn a failed child for its own parent.
 */
export function childFailed(
  core: StoreCore,
  parentQueueName: string,
  parentId: string,
  childId: string,
  failedReason: string,
  now: number,
): void {
  const found = countChild(core, parentQueueName, parentId, childId);
  if (!found) return;
  const { q, p } = found;
  const policy = p.job.opts.failParentOnChildFailure ?? "fail";
  if (policy === "ignore") {
    if (p.job.pendingChildrenCount === 0) releaseParent(core, q, p, now);
    return;
  }
  const reason = `child job "${childId}" failed: ${failedReason}`;
  if (policy === "fail") {
    // failFinal applies the grandparent's policy in turn.
    core.failFinal(q, p, reason, now);
    return;
  }
  const { parentId: gpId, parentQueueName: gpQueue } = p.job;
  core.remove(q, p, false, true);
  if (gpId !== null) childFailed(core, gpQueue as string, gpId, parentId, reason, now);
}
