/**
 * The shape check of a flow handed to `StoreInterface.saveFlow`, shared by the stores: one
 * root, every other job's parent inside the list, `pendingChildrenCount` equal to the number of
 * direct children, distinct child ids per parent, and no cycle. No storage access.
 *
 * @module
 */

import { FlowError } from "./errors.ts";
import { validateQueueName } from "./validation.ts";

/** What the shape check reads of a checked flow record. */
export interface FlowShapeJob {
  /** Job id. */
  id: string;
  /** Parent id, or `null` for a job without a parent. */
  parentId: string | null;
  /** Parent queue (`null`: the job's own queue). */
  parentQueueName: string | null;
  /** Declared number of direct children. */
  pendingChildrenCount: number;
}

/** One job of a checked flow, linked to its direct children. */
export interface FlowNode<J extends FlowShapeJob> {
  /** Queue of the job. */
  queueName: string;
  /** The job as the store's own record check returned it. */
  job: J;
  /** Direct children inside the flow. */
  children: FlowNode<J>[];
}

/** A checked flow: every node in input order, and the root. */
export interface FlowShape<J extends FlowShapeJob> {
  /** Every node, in input order. */
  nodes: FlowNode<J>[];
  /** The one node whose parent is not in the flow. */
  root: FlowNode<J>;
}

const keyOf = (queueName: string, id: string) => `${queueName}\u0000${id}`;

/**
 * Check the records of a `saveFlow` call and link them into a tree.
 *
 * @param records what the caller passed to `saveFlow`
 * @param checkJob the store's own check of one record (it may copy or convert the payload);
 *   `where` names the record (`saveFlow: jobs[3]`) for its messages
 * @returns the nodes in input order and the root
 * @throws {TypeError | RangeError} for a malformed list or record
 * @throws {FlowError} for a flow that is not one tree with matching counts
 */
export function checkFlowShape<J extends FlowShapeJob>(
  records: unknown,
  checkJob: (record: object, where: string) => J,
): FlowShape<J> {
  if (!Array.isArray(records)) {
    throw new TypeError(`saveFlow: jobs must be an array, got ${typeof records}`);
  }
  if (records.length === 0) throw new RangeError("saveFlow: jobs must not be empty");
  const nodes: FlowNode<J>[] = [];
  const parentKeys: (string | null)[] = [];
  const byKey = new Map<string, FlowNode<J>>();
  records.forEach((r, i) => {
    const where = `saveFlow: jobs[${i}]`;
    if (typeof r !== "object" || r === null) {
      throw new TypeError(`${where} must be an object, got ${r === null ? "null" : typeof r}`);
    }
    const queueName = validateQueueName((r as { queueName?: unknown }).queueName);
    const job = checkJob(r, where);
    const key = keyOf(queueName, job.id);
    if (byKey.has(key)) {
      throw new FlowError(`Job "${job.id}" appears twice in the flow (queue "${queueName}")`);
    }
    const node: FlowNode<J> = { queueName, job, children: [] };
    nodes.push(node);
    parentKeys.push(
      job.parentId === null ? null : keyOf(job.parentQueueName ?? queueName, job.parentId),
    );
    byKey.set(key, node);
  });

  const roots: FlowNode<J>[] = [];
  nodes.forEach((n, i) => {
    const parentKey = parentKeys[i];
    const parent = parentKey === null ? undefined : byKey.get(parentKey);
    if (parent) parent.children.push(n);
    else roots.push(n);
  });
  if (roots.length !== 1) {
    const ids = roots.map((n) => `"${n.job.id}"`).join(", ");
    throw new FlowError(
      roots.length === 0
        ? "The flow has no root: every job names a parent inside the flow (a cycle)"
        : `The flow must have exactly one root (one job whose parent is not in the flow), got ${roots.length}: ${ids}; is a parent missing?`,
    );
  }
  for (const n of nodes) {
    if (n.job.pendingChildrenCount !== n.children.length) {
      throw new FlowError(
        `Job "${n.job.id}" has ${n.children.length} direct children in the flow but pendingChildrenCount ${n.job.pendingChildrenCount}`,
      );
    }
    const ids = new Set<string>();
    for (const c of n.children) {
      if (ids.has(c.job.id)) {
        throw new FlowError(
          `Job "${n.job.id}" has two children with id "${c.job.id}" (in different queues); children of one parent need distinct ids`,
        );
      }
      ids.add(c.job.id);
    }
  }
  let reached = 0;
  const stack = [roots[0]];
  while (stack.length > 0) {
    const n = stack.pop() as FlowNode<J>;
    reached++;
    stack.push(...n.children);
  }
  if (reached !== nodes.length) {
    throw new FlowError("The flow is not one tree: some jobs form a cycle apart from the root");
  }
  return { nodes, root: roots[0] };
}
