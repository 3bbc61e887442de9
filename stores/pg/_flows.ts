/**
 * Flows: saving a tree all-or-nothing, counting each child once for its parent, applying a
 * parent's failure policy (`fail`, `ignore`, `remove`) up the tree in one transaction, and
 * removing a job with its unfinished descendants.
 *
 * A child is counted for its parent at most once: `parent_notified` on the child row, set under
 * the child's row lock by whichever comes first (completion, removal, `ignore`d failure, or
 * `notifyChildCompleted`).
 *
 * @module
 */

import { FlowError, type FlowJobRecord, type SaveResult } from "@conveyor/shared";
import type { Db } from "./_db.ts";
import { RELEASE_PARENTS, RELEASED_NOTICE } from "./_finish.ts";
import { toInsertRecord } from "./_rows.ts";
import { insertJobs } from "./_save.ts";

/** Count child $3 of parent $2 (queue $1) as done, once; origin $4. */
const NOTIFY_CHILD = (s: string) => `
with child as (
  update ${s}.jobs set parent_notified = true
  where parent_queue = $1 and parent_id = $2 and id = $3 and not parent_notified
  returning id
),
parent as (
  update ${s}.jobs p set
    pending_children = p.pending_children - c.n,
    state = case when p.pending_children > c.n then p.state
                 when p.delay_until > ${s}.now_ms() then 'delayed'
                 else 'waiting' end,
    delay_until = case when p.pending_children > c.n or p.delay_until > ${s}.now_ms()
                       then p.delay_until end
  from (select count(*)::int as n from child) c
  where c.n > 0 and p.queue = $1 and p.id = $2 and p.state = 'waiting-children'
  returning p.queue, p.id, p.state
)
select (select count(*) from parent where state <> 'waiting-children')::int as released,
  array(select ${s}.emit($4, queue, state, array[id]) from parent
        where state <> 'waiting-children') as events`;

/** Lock parent $2 (queue $1) and read what its policy needs. */
const LOCK_PARENT = (s: string) => `
select state, parent_policy, parent_queue, parent_id, parent_notified
from ${s}.jobs where queue = $1 and id = $2
for update`;

/** Mark child $2 (queue $1) as counted for its parent. */
const MARK_CHILD = (s: string) => `
update ${s}.jobs set parent_notified = true where queue = $1 and id = $2`;

/** Fail parent $2 (queue $1) for reason $3 (removed when removeOnFail is true); origin $4. */
const FAIL_PARENT = (s: string) => `
with target as (
  select queue, id, fail_keep from ${s}.jobs
  where queue = $1 and id = $2 and state not in ('completed', 'failed')
),
failed as (
  update ${s}.jobs j set
    state = 'failed', failed_reason = $3, finished_at = ${s}.now_ms(),
    locked_by = null, lock_token = null, lock_until = null, delay_until = null,
    dedup_held = j.dedup_held and j.dedup_until is not null
  from target
  where j.queue = target.queue and j.id = target.id and target.fail_keep is distinct from 0
),
removed as (
  delete from ${s}.jobs j using target
  where j.queue = target.queue and j.id = target.id and target.fail_keep = 0
)
select (select count(*) from target)::int as n,
  array(select ${s}.emit($4, $1, 'failed', array(select id from target),
    json_build_object('failedReason', left($3, 1000)))) as events`;

/** Count one (ignored) child of parent $2 (queue $1) as done; origin $3. */
const COUNT_ONE = (s: string) => `
with parent as (
  update ${s}.jobs p set
    pending_children = p.pending_children - 1,
    state = case when p.pending_children > 1 then p.state
                 when p.delay_until > ${s}.now_ms() then 'delayed'
                 else 'waiting' end,
    delay_until = case when p.pending_children > 1 or p.delay_until > ${s}.now_ms()
                       then p.delay_until end
  where p.queue = $1 and p.id = $2 and p.state = 'waiting-children'
  returning p.queue, p.id, p.state
)
select array(select ${s}.emit($3, queue, state, array[id]) from parent
             where state <> 'waiting-children') as events`;

/** Add one expected child to existing parent $2 (queue $1). */
const ADD_CHILD = (s: string) => `
update ${s}.jobs set pending_children = pending_children + 1
where queue = $1 and id = $2 returning state`;

/**
 * Remove job $2 of queue $1 unless it is active, with its unfinished descendants that are not
 * active; origin $3. With $4, a flow child not yet counted counts as done for its parent.
 * Returns how many were removed (0 or 1 for the job itself) and the job's state before.
 */
const REMOVE = (s: string) => `
with recursive tree(queue, id) as (
  select queue, id from ${s}.jobs where parent_queue = $1 and parent_id = $2
  union
  select c.queue, c.id from ${s}.jobs c join tree t on c.parent_queue = t.queue and c.parent_id = t.id
),
target as (
  delete from ${s}.jobs where queue = $1 and id = $2 and state <> 'active'
  returning queue, id, parent_queue, parent_id, parent_notified
),
swept as (
  delete from ${s}.jobs j using tree
  where j.queue = tree.queue and j.id = tree.id and exists (select from target)
    and j.state in ('waiting', 'waiting-children', 'delayed')
  returning j.queue, j.id
),
counted as (select * from target where $4::boolean),
${RELEASE_PARENTS(s, "counted")},
notice as (
  select ${s}.emit($3, queue, 'removed', array_agg(id)) as payload
  from (select queue, id from target union all select queue, id from swept) r group by queue
  union all ${RELEASED_NOTICE(s, "$3")}
)
select (select count(*) from target)::int as removed,
  (select state from ${s}.jobs where queue = $1 and id = $2) as state,
  array(select payload from notice) as events`;

/** Remove a job (see `REMOVE`). */
export async function removeJobs(
  db: Db,
  queue: string,
  id: string,
  countForParent: boolean,
): Promise<{ removed: boolean; state: string | null; events: string[] }> {
  const [row] = await db.query(REMOVE, [queue, id, db.origin, countForParent]);
  return {
    removed: row.removed === 1,
    state: (row.state as string | null) ?? null,
    events: row.events as string[],
  };
}

/** Count child `childId` of a parent as done, once. */
export async function notifyChildCompleted(
  db: Db,
  parentQueue: string,
  parentId: string,
  childId: string,
): Promise<{ released: boolean; events: string[] }> {
  const [row] = await db.query(NOTIFY_CHILD, [parentQueue, parentId, childId, db.origin]);
  return { released: row.released === 1, events: row.events as string[] };
}

/** Find child `childId` of a parent, lock it, and report whether it is not yet counted. */
const LOCK_CHILD = (s: string) => `
select queue, id from ${s}.jobs
where parent_queue = $1 and parent_id = $2 and id = $3 and not parent_notified
limit 1
for update`;

/** `failParentOnChildFailure`: apply the policy for a child not yet counted (else nothing). */
export async function failParentOnChildFailure(
  tx: Db,
  parentQueue: string,
  parentId: string,
  childId: string,
  failedReason: string,
): Promise<string[]> {
  const [child] = await tx.query(LOCK_CHILD, [parentQueue, parentId, childId]);
  if (!child) return [];
  return await applyChildFailure(
    tx,
    { queue: child.queue as string, id: child.id as string },
    { queue: parentQueue, id: parentId },
    failedReason,
  );
}

interface Ref {
  queue: string;
  id: string;
}

/**
 * A child failed for good (or was removed by its parent's policy): apply its parent's policy,
 * and up the tree while parents fail or are removed. Runs inside a transaction; the caller holds
 * the child's row lock and knows it was not yet counted. Returns the payloads published.
 */
export async function applyChildFailure(
  tx: Db,
  failedChild: Ref,
  parentRef: Ref,
  failedReason: string,
): Promise<string[]> {
  const events: string[] = [];
  let child = failedChild;
  let parent = parentRef;
  let reason = failedReason;
  for (let depth = 0; depth < 10_000; depth++) {
    await tx.query(MARK_CHILD, [child.queue, child.id]);
    const [p] = await tx.query(LOCK_PARENT, [parent.queue, parent.id]);
    if (!p) break;
    const policy = p.parent_policy as string;
    if (policy === "ignore") {
      const [row] = await tx.query(COUNT_ONE, [parent.queue, parent.id, tx.origin]);
      events.push(...row.events as string[]);
      break;
    }
    const next = p.parent_id !== null && !p.parent_notified
      ? { queue: p.parent_queue as string, id: p.parent_id as string }
      : null;
    if (policy === "remove") {
      const removed = await removeJobs(tx, parent.queue, parent.id, false);
      events.push(...removed.events);
      if (!removed.removed) break;
      reason =
        `child "${child.id}" of queue "${child.queue}" failed, so its parent was removed: ${reason}`;
    } else {
      if (p.state === "completed" || p.state === "failed") break;
      reason = `child "${child.id}" of queue "${child.queue}" failed: ${reason}`.slice(0, 4000);
      const [row] = await tx.query(FAIL_PARENT, [parent.queue, parent.id, reason, tx.origin]);
      events.push(...row.events as string[]);
    }
    if (next === null) break;
    child = parent;
    parent = next;
  }
  return events;
}

/** Check the shape of a flow: ids unique, one root, parents in the list, counts right. */
function checkTree(records: FlowJobRecord[]): number {
  const key = (queue: string, id: string) => `${queue}\u0000${id}`;
  const index = new Map<string, number>();
  records.forEach((r, i) => {
    const k = key(r.queueName, r.id);
    if (index.has(k)) {
      throw new FlowError(`Job "${r.id}" appears twice in queue "${r.queueName}" of the flow`);
    }
    index.set(k, i);
  });
  const children = new Array<number>(records.length).fill(0);
  const roots: number[] = [];
  records.forEach((r, i) => {
    const parent = r.parentId
      ? index.get(key(r.parentQueueName ?? r.queueName, r.parentId))
      : undefined;
    if (parent === undefined) roots.push(i);
    else children[parent]++;
  });
  if (roots.length !== 1) {
    throw new FlowError(
      `A flow needs exactly one root (a job whose parent is not in the flow), got ${roots.length}: ${
        roots.map((i) => `"${records[i].id}"`).join(", ")
      }`,
    );
  }
  records.forEach((r, i) => {
    const expected = r.pendingChildrenCount ?? 0;
    if (expected !== children[i]) {
      throw new FlowError(
        `Job "${r.id}" of the flow has pendingChildrenCount ${expected} but ${
          children[i]
        } children`,
      );
    }
  });
  return roots[0];
}

/** Thrown inside the transaction to roll it back when the root is a duplicate. */
class RootDuplicate extends Error {
  readonly rootId: string;
  constructor(rootId: string) {
    super("flow root is a duplicate");
    this.rootId = rootId;
  }
}

/**
 * Save a flow all-or-nothing. `atomic` runs its callback in a transaction (or a savepoint of
 * the caller's) and rolls it back when the callback throws.
 */
export async function saveFlow(
  atomic: <T>(fn: (tx: Db) => Promise<T>) => Promise<T>,
  records: FlowJobRecord[],
): Promise<{ results: SaveResult[]; events: string[] }> {
  if (records.length === 0) return { results: [], events: [] };
  const root = checkTree(records);
  try {
    return await atomic(async (tx) => {
      const r = records[root];
      if (r.parentId) {
        const parentQueue = r.parentQueueName ?? r.queueName;
        const rows = await tx.query(ADD_CHILD, [parentQueue, r.parentId]);
        if (rows.length === 0) {
          throw new FlowError(
            `The flow's root "${r.id}" names parent "${r.parentId}" of queue "${parentQueue}", which does not exist`,
          );
        }
      }
      const saved = await insertJobs(tx, records.map((j) => toInsertRecord(j.queueName, j)));
      if (!saved.inserted[root]) {
        const holder = saved.results[root].id;
        const inFlow = records.findIndex((j, i) =>
          i !== root && j.id === holder && saved.inserted[i]
        );
        if (inFlow === -1) throw new RootDuplicate(holder);
        throw new FlowError(
          `The flow's root "${r.id}" has the deduplication key of its own job "${holder}"`,
        );
      }
      const lost = records.findIndex((_, i) => !saved.inserted[i]);
      if (lost !== -1) {
        throw new FlowError(
          `Job "${records[lost].id}" of the flow (queue "${records[lost].queueName}") duplicates ` +
            `job "${
              saved.results[lost].id
            }" (its id or deduplication key is held); nothing was saved`,
        );
      }
      return { results: saved.results, events: saved.events };
    });
  } catch (error) {
    if (!(error instanceof RootDuplicate)) throw error;
    return {
      results: records.map((j, i) => ({ id: i === root ? error.rootId : j.id, duplicate: true })),
      events: [],
    };
  }
}
