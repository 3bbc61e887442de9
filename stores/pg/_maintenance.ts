/**
 * Housekeeping: stalled-lease recovery, clean, drain, promotion of delayed jobs, and pauses.
 * Each is one statement with its NOTIFY.
 *
 * @module
 */

import type { Db } from "./_db.ts";
import { RELEASE_PARENTS, RELEASED_NOTICE, trim } from "./_finish.ts";
import type { Transact } from "./_claim.ts";
import { applyChildFailure } from "./_flows.ts";
import { perState } from "./_queries.ts";

/**
 * Handle the expired leases of queue $1: each stall is counted; jobs that stalled at most $2
 * times go back to waiting, the others fail. Skips rows another recoverer holds. Origin $3.
 */
const RECOVER = (s: string) => `
with stalled as (
  select queue, id from ${s}.jobs
  where queue = $1 and state = 'active' and lock_until < ${s}.now_ms()
  for update skip locked
),
recovered as (
  update ${s}.jobs j set
    state = 'waiting', stalled_count = j.stalled_count + 1,
    locked_by = null, lock_token = null, lock_until = null
  from stalled
  where j.queue = stalled.queue and j.id = stalled.id and j.stalled_count + 1 <= $2::int
  returning j.id, j.seq
),
dead as (
  update ${s}.jobs j set
    state = 'failed', stalled_count = j.stalled_count + 1, attempts_made = j.attempts_made + 1,
    failed_reason = 'job stalled more than the allowable limit (maxStalledCount ' || $2::int || ')',
    finished_at = ${s}.now_ms(), locked_by = null, lock_token = null, lock_until = null,
    dedup_held = j.dedup_held and j.dedup_until is not null
  from stalled
  where j.queue = stalled.queue and j.id = stalled.id and j.stalled_count + 1 > $2::int
  returning j.id, j.seq, j.failed_reason, j.parent_queue, j.parent_id, j.parent_notified,
    j.fail_keep, j.fail_age
),
notice as (
  select ${s}.emit($3, $1, 'stalled',
    array(select id from recovered union all select id from dead)) as payload
  union all
  select ${s}.emit($3, $1, 'waiting', array(select id from recovered order by seq))
  union all
  select ${s}.emit($3, $1, 'failed', array(select id from dead order by seq),
    (select json_build_object('failedReason', failed_reason) from dead limit 1))
)
select array(select id from recovered order by seq) as recovered,
  coalesce((select json_agg(dead order by seq) from dead), '[]') as dead,
  array(select payload from notice) as events`;

/** Remove failed jobs $2 (queue $1) whose removeOnFail is `true`. */
const REMOVE_FAILED = (s: string) => `
delete from ${s}.jobs where queue = $1 and id = any($2::text[]) and fail_keep = 0`;

interface DeadRow {
  id: string;
  failed_reason: string;
  parent_queue: string | null;
  parent_id: string | null;
  parent_notified: boolean;
  fail_keep: number | null;
  fail_age: number | null;
}

/** Recover or fail the queue's stalled jobs, applying flow policies, in one transaction. */
export async function recoverStalled(
  transact: Transact,
  queue: string,
  maxStalledCount: number,
): Promise<{ recovered: string[]; failed: string[]; events: string[] }> {
  return await transact(async (tx) => {
    const [row] = await tx.query(RECOVER, [queue, maxStalledCount, tx.origin]);
    const events = [...row.events as string[]];
    const dead = row.dead as DeadRow[];
    for (const d of dead) {
      if (d.parent_id === null || d.parent_notified) continue;
      events.push(
        ...await applyChildFailure(
          tx,
          { queue, id: d.id },
          { queue: d.parent_queue ?? queue, id: d.parent_id },
          d.failed_reason,
        ),
      );
    }
    const removeNow = dead.filter((d) => d.fail_keep === 0).map((d) => d.id);
    if (removeNow.length > 0) await tx.query(REMOVE_FAILED, [queue, removeNow]);
    const keep = dead.find((d) => (d.fail_keep ?? 0) > 0 || d.fail_age !== null);
    if (keep) await trim(tx, queue, "failed", keep.fail_keep, keep.fail_age);
    return { recovered: row.recovered as string[], failed: dead.map((d) => d.id), events };
  });
}

/**
 * Remove up to $4 (null: all) jobs of queue $1 in state $2 (also named in the statement: see
 * `stateFilter`) that finished (completed/failed) or were added (other states) more than $3 ms
 * ago; never active ones. Origin $5.
 */
const CLEAN = perState((s, filter) => `
with doomed as (
  select queue, id from ${s}.jobs
  where queue = $1 and ${filter} and state <> 'active'
    and (case when state in ('completed', 'failed') then finished_at else created_at end)
        < ${s}.now_ms() - $3::bigint
  order by seq
  limit $4::int
  for update skip locked
),
removed as (
  delete from ${s}.jobs j using doomed
  where j.queue = doomed.queue and j.id = doomed.id
  returning j.id, j.seq, j.parent_queue, j.parent_id, j.parent_notified
),
${RELEASE_PARENTS(s, "removed")},
notice as (
  select ${s}.emit($5, $1, 'cleaned', array(select id from removed),
    json_build_object('state', $2::text)) as payload
  union all ${RELEASED_NOTICE(s, "$5")}
)
select array(select id from removed order by seq) as ids, array(select payload from notice) as events`);

/** Clean finished or old jobs. */
export async function clean(
  db: Db,
  queue: string,
  state: string,
  grace: number,
  limit: number | null,
): Promise<{ ids: string[]; events: string[] }> {
  const [row] = await db.query(CLEAN(state), [queue, state, Math.round(grace), limit, db.origin]);
  return { ids: row.ids as string[], events: row.events as string[] };
}

/**
 * Remove the queue's ($1) jobs in `states`; origin $2. Reports whether a removed flow child
 * released a parent into this queue (drain again).
 */
const drainStatement = (states: string) => (s: string) => `
with removed as (
  delete from ${s}.jobs
  where queue = $1 and state in (${states})
  returning id, parent_queue, parent_id, parent_notified
),
${RELEASE_PARENTS(s, "removed")},
notice as (
  select ${s}.emit($2, $1, 'drained', array(select id from removed)) as payload
  union all ${RELEASED_NOTICE(s, "$2")}
)
select (select count(*) from removed)::int as n,
  exists (select from parents where queue = $1 and state <> 'waiting-children') as again,
  array(select payload from notice) as events`;

/** Drain the waiting jobs (jobs_waiting), or the waiting and delayed ones (and jobs_delayed). */
const DRAIN_WAITING = drainStatement("'waiting'");
const DRAIN_ALL = drainStatement("'waiting', 'delayed'");

/** Drain a queue; repeats while removed flow children release parents into it. */
export async function drain(
  db: Db,
  queue: string,
  withDelayed: boolean,
): Promise<{ removed: number; events: string[] }> {
  let removed = 0;
  const events: string[] = [];
  for (let round = 0; round < 100; round++) {
    const [row] = await db.query(withDelayed ? DRAIN_ALL : DRAIN_WAITING, [queue, db.origin]);
    removed += row.n as number;
    events.push(...row.events as string[]);
    if (!row.again) break;
  }
  return { removed, events };
}

/** Move delayed jobs of queue $1 due by $2 (null: now) to waiting; origin $3. */
const PROMOTE = (s: string) => `
with promoted as (
  update ${s}.jobs set state = 'waiting', delay_until = null
  where queue = $1 and state = 'delayed' and delay_until <= coalesce($2::bigint, ${s}.now_ms())
  returning id, seq
)
select (select count(*) from promoted)::int as n,
  array(select ${s}.emit($3, $1, 'waiting', array(select id from promoted order by seq))) as events`;

/** Promote due delayed jobs. */
export async function promote(
  db: Db,
  queue: string,
  timestamp: number | null,
): Promise<{ count: number; events: string[] }> {
  const ts = timestamp === null ? null : Math.floor(timestamp);
  const [row] = await db.query(PROMOTE, [queue, ts, db.origin]);
  return { count: row.n as number, events: row.events as string[] };
}

/** Pause job name $2 of queue $1 (`*`: the queue); origin $3. */
const PAUSE = (s: string) => `
with paused as (
  insert into ${s}.paused (queue, job_name) values ($1, $2) on conflict do nothing
)
select array[${s}.emit($3, $1, 'paused', null, null, $2)] as events`;

/** Resume job name $2 of queue $1; origin $3. */
const RESUME = (s: string) => `
with resumed as (
  delete from ${s}.paused where queue = $1 and job_name = $2
)
select array[${s}.emit($3, $1, 'resumed', null, null, $2)] as events`;

/** Pause or resume a job name. */
export async function setPaused(
  db: Db,
  queue: string,
  jobName: string,
  paused: boolean,
): Promise<string[]> {
  const [row] = await db.query(paused ? PAUSE : RESUME, [queue, jobName, db.origin]);
  return row.events as string[];
}
