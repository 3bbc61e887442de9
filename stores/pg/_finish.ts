/**
 * Finishing and touching leased jobs. Every change a worker makes is fenced: it applies only
 * where `lock_token` still matches (only a running attempt has one), in the same statement.
 *
 * Completions are coalesced into batches. A batch of jobs with no flow parent is one lean
 * statement; a flow child completes in the full statement, where its parent's count drops
 * exactly once per child (`parent_notified`, read under the child's row lock), with the parent
 * released when the count reaches 0, and the NOTIFYs sent. See {@linkcode completeJobs}.
 *
 * @module
 */

import { type Db, numOrNull, type Row } from "./_db.ts";
import { encodePayload } from "./_events.ts";

/**
 * A `parents` CTE: counts the rows of CTE `source` (columns parent_queue, parent_id,
 * parent_notified) that were not yet counted as done for their parents, and releases each
 * parent whose count reaches 0 (to `delayed` when its own delay is still running).
 */
export const RELEASE_PARENTS = (s: string, source: string) => `
parents as (
  update ${s}.jobs p set
    pending_children = p.pending_children - d.n,
    state = case when p.pending_children > d.n then p.state
                 when p.delay_until > ${s}.now_ms() then 'delayed'
                 else 'waiting' end,
    delay_until = case when p.pending_children > d.n or p.delay_until > ${s}.now_ms()
                       then p.delay_until end
  from (select parent_queue, parent_id, count(*)::int as n from ${source}
        where parent_id is not null and not parent_notified
        group by parent_queue, parent_id) d
  where p.queue = d.parent_queue and p.id = d.parent_id and p.state = 'waiting-children'
  returning p.queue, p.id, p.state
)`;

/** Payloads for the parents released by {@linkcode RELEASE_PARENTS}; origin `origin`. */
export const RELEASED_NOTICE = (s: string, origin: string) => `
  select ${s}.emit(${origin}, queue, state, array_agg(id)) from parents
  where state <> 'waiting-children' group by queue, state`;

/**
 * Complete leased jobs with no flow parent, given as parallel arrays ($1 `i`, $2 queue, $3 id,
 * $4 token, $5 value as JSON text): the common case, without {@linkcode COMPLETE}'s row locks,
 * parent counting or SQL-built events. Returns a single row: `done`, the `i` of each job
 * completed (or removed, with `removeOnComplete: true`) as comma-separated text, and `keeps`,
 * the keep policies to apply (a JSON array, null when none): one row of two fields costs the
 * client less than a row per job. A job not in `done` (a lost lease, a flow child, a
 * repeat within the input, a job changed meanwhile) is left to `COMPLETE`.
 *
 * Each job is looked up once, by primary key (`offset 0` keeps the other conditions out of the
 * probe, so the plan never scans the active index, full of dead entries during a burst, or the
 * table), and changed through the row version that lookup found (a TID scan, not a second
 * probe). The fence is `lock_token`, which only a running attempt has: should another
 * transaction change the job between the lookup and the change, the change waits for it and
 * re-checks the token on the newest version, so a lost lease is never overwritten.
 */
const COMPLETE_PLAIN = (s: string) => `
with input as (
  select x.i, x.token, x.value, t.tid, t.complete_keep
  from unnest($1::int[], $2::text[], $3::text[], $4::text[], $5::text[]) as x(i, queue, id, token, value)
  cross join lateral (
    select ctid as tid, lock_token, state, parent_id, complete_keep
    from ${s}.jobs where queue = x.queue and id = x.id
    offset 0
  ) t
  where t.lock_token = x.token and t.state = 'active' and t.parent_id is null
),
completed as (
  update ${s}.jobs j set
    state = 'completed', return_value = coalesce(input.value::json, 'null'),
    attempts_made = j.attempts_made + 1, finished_at = (select ${s}.now_ms()),
    locked_by = null, lock_token = null, lock_until = null,
    dedup_held = j.dedup_held and j.dedup_until is not null
  from input
  where j.ctid = input.tid and j.lock_token = input.token
    and input.complete_keep is distinct from 0
  returning input.i, j.queue, j.complete_keep, j.complete_age
),
removed as (
  delete from ${s}.jobs j using input
  where j.ctid = input.tid and j.lock_token = input.token and input.complete_keep = 0
  returning input.i, j.queue, j.complete_keep, j.complete_age
),
done as (select * from completed union all select * from removed)
select (select string_agg(i::text, ',') from done) as done,
  (select json_agg(k)::text from (
     select distinct queue, complete_keep, complete_age from done
     where complete_keep <> 0 or complete_age is not null) k) as keeps`;

/**
 * Complete leased jobs given as parallel arrays ($1 `i`, $2 queue, $3 id, $4 token, $5 value as
 * JSON text); origin $6. Returns one row per job whose lease held (`i` names the input), with its
 * keep policy; the first row carries the payloads published.
 *
 * Arrays (estimated at a few rows) and a primary-key lookup per job keep the plan a nested loop
 * whatever the table's statistics say: never a scan of the active index (full of dead entries
 * during a burst) nor of the table.
 */
const COMPLETE = (s: string) => `
with input as (
  select distinct on (queue, id) i, queue, id, token, value
  from unnest($1::int[], $2::text[], $3::text[], $4::text[], $5::text[]) as x(i, queue, id, token, value)
  order by queue, id, i
),
job as (
  select j.queue, j.id, j.parent_queue, j.parent_id, j.parent_notified, j.complete_keep,
    j.complete_age, input.i, input.value::json as value
  from input cross join lateral (
    select queue, id, parent_queue, parent_id, parent_notified, complete_keep, complete_age,
      lock_token, state
    from ${s}.jobs where queue = input.queue and id = input.id
    offset 0 -- keeps the lease check below out of this lookup (no other index qualifies)
    for update
  ) j
  where j.lock_token = input.token and j.state = 'active'
),
completed as (
  update ${s}.jobs j set
    state = 'completed', return_value = coalesce(job.value, 'null'),
    attempts_made = j.attempts_made + 1, finished_at = ${s}.now_ms(),
    locked_by = null, lock_token = null, lock_until = null,
    parent_notified = j.parent_id is not null,
    dedup_held = j.dedup_held and j.dedup_until is not null
  from job
  where j.queue = job.queue and j.id = job.id and job.complete_keep is distinct from 0
),
removed as (
  delete from ${s}.jobs j using job
  where j.queue = job.queue and j.id = job.id and job.complete_keep = 0
),
${RELEASE_PARENTS(s, "job")},
notice as (
  select ${s}.emit($6, queue, 'completed', array_agg(id order by i)) as payload
  from job group by queue
  union all ${RELEASED_NOTICE(s, "$6")}
)
select i, queue, complete_keep, complete_age,
  case when row_number() over () = 1 then array(select payload from notice) end as events
from job`;

/**
 * Fail the attempt of job $2 (queue $1, token $3): reason $4, stack trace $5, retry after $6 ms
 * (null: for good); origin $7. A final failure of a flow child is refused here unless $8: it
 * needs its parent's policy applied in the same transaction (see `_flows.ts`).
 */
const FAIL = (s: string) => `
with job as (
  select queue, id, parent_queue, parent_id, parent_notified, fail_keep, fail_age
  from ${s}.jobs
  where queue = $1 and id = $2 and lock_token = $3 and state = 'active'
    and ($6::bigint is not null or parent_id is null or $8::boolean)
  for update
),
failed as (
  update ${s}.jobs j set
    state = case when $6::bigint is null then 'failed'
                 when $6::bigint > 0 then 'delayed'
                 else 'waiting' end,
    attempts_made = j.attempts_made + 1, failed_reason = $4,
    stacktrace = case when $5::text is null then j.stacktrace
                      else j.stacktrace || to_jsonb($5::text) end,
    delay_until = case when $6::bigint > 0 then ${s}.now_ms() + $6::bigint end,
    finished_at = case when $6::bigint is null then ${s}.now_ms() end,
    locked_by = null, lock_token = null, lock_until = null,
    dedup_held = j.dedup_held and ($6::bigint is not null or j.dedup_until is not null)
  from job
  where j.queue = job.queue and j.id = job.id
    and ($6::bigint is not null or job.fail_keep is distinct from 0)
),
removed as (
  delete from ${s}.jobs j using job
  where j.queue = job.queue and j.id = job.id and $6::bigint is null and job.fail_keep = 0
),
notice as (
  select ${s}.emit($7, $1,
    case when $6::bigint is null then 'failed' when $6::bigint > 0 then 'delayed' else 'waiting' end,
    array(select id from job),
    case when $6::bigint is null then json_build_object('failedReason', left($4, 1000)) end)
    as payload
)
select queue, id, parent_queue, parent_id, parent_notified, fail_keep, fail_age,
  array(select payload from notice) as events
from job`;

/**
 * Trim finished jobs of queue $1 in state $2: keep the newest $3 (null: all) and remove those
 * finished more than $4 ms ago (null: none), at most 1000 per call.
 */
const TRIM = (s: string) => `
with doomed as (
  (select queue, id from ${s}.jobs
   where $3::int is not null and queue = $1 and state = $2 and finished_at is not null
   order by finished_at desc, seq desc offset $3::int limit 1000)
  union
  (select queue, id from ${s}.jobs
   where $4::bigint is not null and queue = $1 and state = $2 and finished_at is not null
     and finished_at < ${s}.now_ms() - $4::bigint
   limit 1000)
)
delete from ${s}.jobs j using doomed where j.queue = doomed.queue and j.id = doomed.id`;

/** Extend the lease of job $2 (queue $1, token $3) to now + $4 ms. */
const EXTEND = (s: string) => `
update ${s}.jobs set lock_until = ${s}.now_ms() + $4::bigint
where queue = $1 and id = $2 and lock_token = $3 and state = 'active'
returning id`;

/** Give leased job $2 (queue $1, token $3) back to waiting; origin $4. */
const RELEASE = (s: string) => `
with released as (
  update ${s}.jobs set state = 'waiting', locked_by = null, lock_token = null, lock_until = null
  where queue = $1 and id = $2 and lock_token = $3 and state = 'active'
  returning id
)
select (select count(*) from released)::int as n,
  array(select ${s}.emit($4, $1, 'waiting', array(select id from released))) as events`;

/**
 * Replace the payload ($3, JSON text, null: keep) and/or progress ($4) of job $2 (queue $1),
 * fenced by token $5 when not null; origin $6. Publishes `progress` when $4 is set.
 */
const UPDATE = (s: string) => `
with updated as (
  update ${s}.jobs set
    data = coalesce($3::text::json, data), progress = coalesce($4::text::json, progress)
  where queue = $1 and id = $2
    and ($5::text is null or (lock_token = $5 and state = 'active'))
  returning id, name
)
select (select count(*) from updated)::int as n,
  array(select ${s}.emit($6, $1, 'progress', array(select id from updated where $4::text is not null),
    json_build_object('progress', $4::text::json))) as events`;

/** Append log line $3 to job $2 (queue $1), fenced by token $4 when not null. */
const ADD_LOG = (s: string) => `
update ${s}.jobs set logs = logs || jsonb_build_array($3::text)
where queue = $1 and id = $2 and ($4::text is null or (lock_token = $4 and state = 'active'))
returning id`;

/** What a finishing statement did. */
export interface Finished {
  /** `false` when the lease was lost. */
  ok: boolean;
  events: string[];
}

/** One job to complete. */
export interface Completion {
  queue: string;
  id: string;
  token: string;
  /** The return value as JSON text. */
  json: string;
  /** Known to be a flow child (see {@linkcode LeaseHints}); `false` when unknown. */
  child?: boolean;
}

/** At most this many hints are kept; past that they are dropped (they are only hints). */
const MAX_HINTS = 100_000;

/**
 * Lock tokens of leases this store handed out for flow children and has not finished yet. Only a
 * hint: a completion whose token is not here (a lease lost, a job claimed through another store)
 * still completes correctly, through the lean statement's fallback.
 */
export class LeaseHints {
  readonly #tokens = new Set<string>();

  add(token: string): void {
    if (this.#tokens.size >= MAX_HINTS) this.#tokens.clear();
    this.#tokens.add(token);
  }

  /** Forget `token`; whether it was there. */
  delete(token: string): boolean {
    return this.#tokens.size > 0 && this.#tokens.delete(token);
  }
}

/** Parallel arrays ($1-$5) of the completions that `index` names, for the COMPLETE statements. */
function completionArrays(jobs: readonly Completion[], index: readonly number[]): unknown[] {
  const n = index.length;
  const queues = new Array<string>(n);
  const ids = new Array<string>(n);
  const tokens = new Array<string>(n);
  const values = new Array<string>(n);
  for (let k = 0; k < n; k++) {
    const j = jobs[index[k]];
    queues[k] = j.queue;
    ids[k] = j.id;
    tokens[k] = j.token;
    values[k] = j.json;
  }
  return [index, queues, ids, tokens, values];
}

/**
 * Complete leased jobs, then trim completed jobs where a `removeOnComplete` keeps some. Jobs
 * with no flow parent complete in one lean statement ({@linkcode COMPLETE_PLAIN}); the rest
 * (flow children, lost leases, repeats) go through {@linkcode COMPLETE} after it. A batch known
 * to hold a flow child goes to `COMPLETE` alone: one statement, not two. Returns, in input
 * order, whether each lease held, and the payloads published.
 */
export async function completeJobs(
  db: Db,
  jobs: readonly Completion[],
): Promise<{ ok: boolean[]; events: string[] }> {
  const n = jobs.length;
  const all = new Array<number>(n);
  for (let i = 0; i < n; i++) all[i] = i;
  const ok = new Array<boolean>(n).fill(false);
  const events: string[] = [];
  const trims = new Map<string, [string, unknown, unknown]>();
  const noteKeep = (row: Row) => {
    if (row.complete_keep !== null || row.complete_age !== null) {
      // As numbers: a bigint arrives as text from a column and as a number from JSON, and one
      // policy of one queue is trimmed once.
      const keep = numOrNull(row.complete_keep);
      const age = numOrNull(row.complete_age);
      trims.set(JSON.stringify([row.queue, keep, age]), [row.queue as string, keep, age]);
    }
  };
  let completed = 0;
  if (!jobs.some((j) => j.child)) {
    const [row] = await db.query(COMPLETE_PLAIN, completionArrays(jobs, all));
    if (typeof row.done === "string") {
      const done = row.done.split(",");
      completed = done.length;
      for (const i of done) ok[Number(i)] = true;
      // Completed ids per queue, in input order, as COMPLETE's events list them.
      const byQueue = new Map<string, string[]>();
      for (let i = 0; i < n; i++) {
        if (!ok[i]) continue;
        const queue = jobs[i].queue;
        const ids = byQueue.get(queue);
        if (ids) ids.push(jobs[i].id);
        else byQueue.set(queue, [jobs[i].id]);
      }
      for (const [queue, ids] of byQueue) {
        events.push(encodePayload(db.origin, queue, "completed", ids));
      }
    }
    if (typeof row.keeps === "string") { for (const keep of JSON.parse(row.keeps)) noteKeep(keep); }
  }
  if (completed < n) {
    const rest = all.filter((i) => !ok[i]);
    const rows = await db.query(COMPLETE, [...completionArrays(jobs, rest), db.origin]);
    for (const row of rows) {
      ok[row.i as number] = true;
      if (Array.isArray(row.events)) events.push(...row.events as string[]);
      noteKeep(row);
    }
  }
  for (const [queue, keep, age] of trims.values()) await trim(db, queue, "completed", keep, age);
  return { ok, events };
}

/** A failed attempt as `FAIL` returned it. */
export interface FailedRow {
  queue: string;
  id: string;
  parent_queue: string | null;
  parent_id: string | null;
  parent_notified: boolean;
  fail_keep: number | null;
  fail_age: unknown;
  events: string[];
}

/**
 * Fail a leased attempt in one statement. Returns `null` when nothing changed: the lease is
 * gone, or (unless `withParent`) the job failed for good and has a flow parent.
 */
export async function failAttempt(
  db: Db,
  queue: string,
  id: string,
  token: string,
  reason: string,
  stacktrace: string | null,
  retryDelay: number | null,
  withParent: boolean,
): Promise<FailedRow | null> {
  const delay = retryDelay === null ? null : Math.max(0, Math.round(retryDelay));
  const [row] = await db.query(FAIL, [
    queue,
    id,
    token,
    reason,
    stacktrace,
    delay,
    db.origin,
    withParent,
  ]);
  if (!row) return null;
  if (delay === null) await trim(db, queue, "failed", row.fail_keep, row.fail_age);
  return row as unknown as FailedRow;
}

/** Apply a keep policy (`removeOnComplete`/`removeOnFail` with a count or an age). */
export async function trim(
  db: Db,
  queue: string,
  state: "completed" | "failed",
  keep: unknown,
  age: unknown,
): Promise<void> {
  const count = keep === null || keep === undefined ? null : Number(keep);
  const maxAge = age === null || age === undefined ? null : Number(age);
  if ((count === null || count === 0) && maxAge === null) return;
  await db.query(TRIM, [queue, state, count, maxAge]);
}

/** Extend a lease; `false` when it was lost. */
export async function extendLock(
  db: Db,
  queue: string,
  id: string,
  token: string,
  duration: number,
): Promise<boolean> {
  const rows = await db.query(EXTEND, [queue, id, token, Math.max(1, Math.round(duration))]);
  return rows.length > 0;
}

/** Give a leased job back to waiting. */
export async function releaseLock(
  db: Db,
  queue: string,
  id: string,
  token: string,
): Promise<Finished> {
  const [row] = await db.query(RELEASE, [queue, id, token, db.origin]);
  return { ok: row.n === 1, events: row.events as string[] };
}

/** Change payload and/or progress. */
export async function updateJob(
  db: Db,
  queue: string,
  id: string,
  data: string | null,
  progress: string | null,
  token: string | null,
): Promise<Finished> {
  const [row] = await db.query(UPDATE, [queue, id, data, progress, token, db.origin]);
  return { ok: (row.n as number) > 0, events: row.events as string[] };
}

/** Append a log line. */
export async function addLog(
  db: Db,
  queue: string,
  id: string,
  line: string,
  token: string | null,
): Promise<boolean> {
  return (await db.query(ADD_LOG, [queue, id, line, token])).length > 0;
}
