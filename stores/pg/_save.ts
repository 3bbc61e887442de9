/**
 * Adding jobs: one `insert ... on conflict do nothing` for one job or a whole bulk, with the
 * wake-up NOTIFY in the same statement. Duplicates (a held job id or deduplication key) are found
 * by the unique indexes themselves, so two processes adding the same key at once cannot both win.
 *
 * @module
 */

import type { SaveResult } from "@conveyor/shared";
import type { Db } from "./_db.ts";
import { type InsertRecord, jobColumns } from "./_rows.ts";

/** The columns a full insert sets (the rest keep their defaults). */
const INSERT_COLUMNS = `queue, id, name, data, opts, state, priority, lifo, created_at,
    delay_until, group_id, dedup_key, dedup_held, dedup_until, parent_queue, parent_id,
    pending_children, parent_policy, complete_keep, complete_age, fail_keep, fail_age`;

/**
 * Insert jobs read from a JSON array ($1), publishing with origin $2; the clock is read once
 * (`(select now_ms())`), not per job. With `dedup` (some job has a deduplication key), a key
 * whose ttl ran out stops holding first (`expired`), so a new job may take it. Returns one row: how many jobs were inserted (`n`), the payloads published, and, only
 * when some job was not inserted, which ones were (`[queue, id]` pairs): sending a row back per
 * job would cost the client more than the rest of the statement.
 */
const insertStatement = (dedup: boolean, early: boolean) => (s: string) => `
with input as (
  select queue, id, name, data, opts, coalesce(priority, 0) as priority,
    coalesce(lifo, false) as lifo, coalesce(delay, 0) as delay, group_id, dedup_key, dedup_ttl,
    parent_queue, parent_id, coalesce(pending_children, 0) as pending_children,
    coalesce(parent_policy, 'fail') as parent_policy, complete_keep, complete_age, fail_keep,
    fail_age
  from json_to_recordset($1::text::json) as x(
    queue text, id text, name text, data json, opts json, priority integer, lifo boolean,
    delay bigint, group_id text, dedup_key text, dedup_ttl bigint, parent_queue text,
    parent_id text, pending_children integer, parent_policy text,
    complete_keep integer, complete_age bigint, fail_keep integer, fail_age bigint)
),${
  dedup
    ? `
expired as (
  update ${s}.jobs j set dedup_held = false
  from input
  where j.queue = input.queue and j.dedup_key = input.dedup_key
    and j.dedup_held and j.dedup_until <= ${s}.now_ms()
  returning j.id
),`
    : ""
}
inserted as (
  insert into ${s}.jobs (${INSERT_COLUMNS})
  select queue, id, name, coalesce(data, 'null'), opts,
    case when pending_children > 0 then 'waiting-children'
         when delay > 0 then 'delayed'
         else 'waiting' end,
    priority, lifo, (select ${s}.now_ms()),
    case when delay > 0 then (select ${s}.now_ms()) + delay end,
    group_id, dedup_key, dedup_key is not null, (select ${s}.now_ms()) + dedup_ttl, parent_queue,
    parent_id, pending_children, parent_policy, complete_keep, complete_age, fail_keep, fail_age
  from input${
  dedup
    ? `
  where (select count(*) from expired) >= 0  -- release expired keys before inserting`
    : ""
}
  on conflict do nothing
  returning queue, id, state, seq
),
${INSERT_RESULT(s, early)}`;

/**
 * Insert plain jobs (no option but the stored `opts`: see {@linkcode isPlain}) read from a JSON
 * array ($1), publishing with origin $2: {@linkcode insertStatement} reading only the fields
 * they have (each field the records are read for costs the server time per job) and leaving
 * the other columns to their defaults.
 *
 * `fresh`: without `on conflict do nothing`, for records expected to be new (a plain job can
 * only collide on its id). An insert that must be ready for a conflict checks the unique index
 * before each row and confirms each row after it, which cost a quarter of the statement; a
 * fresh insert that meets a held id fails as a whole (unique_violation, nothing inserted nor
 * published) and is run again with the conflict handling.
 */
const plainStatement = (early: boolean, fresh = false) => (s: string) => `
with input as (
  select queue, id, name, data, opts
  from json_to_recordset($1::text::json) as x(queue text, id text, name text, data json, opts json)
),
inserted as (
  insert into ${s}.jobs (queue, id, name, data, opts, state, created_at)
  select queue, id, name, coalesce(data, 'null'), opts, 'waiting', (select ${s}.now_ms())
  from input${fresh ? "" : "\n  on conflict do nothing"}
  returning queue, id, state, seq
),
${INSERT_RESULT(s, early)}`;

/**
 * The end of an insert of records (`input`, `inserted`): its one result row, and with `early`
 * a commit that does not wait for the WAL flush.
 */
const INSERT_RESULT = (s: string, early: boolean) =>
  `notice as (
  select ${s}.emit($2, queue, state, array_agg(id order by seq)) as payload
  from inserted group by queue, state
),
counted as (select count(*)::int as n from inserted)
select n,
  case when n < (select count(*) from input) then
    (select json_agg(json_build_array(queue, id)) from inserted) end as inserted,
  array(select payload from notice) as events
from counted${
    early ? `, (select set_config('synchronous_commit', 'off', true)) as async_commit` : ""
  }`;

const INSERT = insertStatement(false, false);
const INSERT_DEDUP = insertStatement(true, false);
const INSERT_EARLY = insertStatement(false, true);
const INSERT_DEDUP_EARLY = insertStatement(true, true);
const PLAIN = plainStatement(false);
const PLAIN_EARLY = plainStatement(true);
const PLAIN_FRESH = plainStatement(false, true);
const PLAIN_FRESH_EARLY = plainStatement(true, true);

/** SQLSTATE unique_violation. */
const UNIQUE_VIOLATION = "23505";

/** Whether `r` has nothing to store beyond the fields {@linkcode plainStatement} reads. */
function isPlain(r: InsertRecord): boolean {
  return r.priority === 0 && !r.lifo && r.delay === 0 && r.group_id === null &&
    r.dedup_key === null && r.parent_queue === null && r.parent_id === null &&
    r.pending_children === 0 && r.parent_policy === "fail" && r.complete_keep === null &&
    r.complete_age === null && r.fail_keep === null && r.fail_age === null;
}

/**
 * The values of `INSERT_COLUMNS` for one job given as parameters (see
 * {@linkcode singleStatement}); `ready` is its state when it neither waits for children nor is
 * delayed.
 */
const singleValues = (s: string, ready = "'waiting'") =>
  `$1::text, $2::text, $3::text, $4::text::json, $5::text::json,
    case when $14::text::int > 0 then 'waiting-children'
         when $8::text::bigint > 0 then 'delayed'
         else ${ready} end,
    $6::text::int, $7::text::boolean, ${s}.now_ms(),
    case when $8::text::bigint > 0 then ${s}.now_ms() + $8::text::bigint end,
    $9::text, $10::text, $10::text is not null, ${s}.now_ms() + $11::text::bigint, $12::text,
    $13::text, $14::text::int, $15::text, $16::text::int, $17::text::bigint, $18::text::int,
    $19::text::bigint`;

/**
 * Insert one job given as parameters: $1 queue, $2 id, $3 name, $4 data, $5 opts (JSON text),
 * $6 priority, $7 lifo, $8 delay, $9 group id, $10 deduplication key, $11 its ttl, $12 parent
 * queue, $13 parent id, $14 pending children, $15 parent policy, $16-$19 removeOnComplete and
 * removeOnFail (keep, age), $20 origin; every value as text or null (typed text, so that the
 * driver sends it as given). The same insert as {@linkcode insertStatement} for one job, without
 * reading JSON records or gathering rows (a lone `add` waits on it), and with the same result.
 */
const singleStatement = (dedup: boolean, early: boolean) => (s: string) => `
with${
  dedup
    ? `
expired as (
  update ${s}.jobs set dedup_held = false
  where queue = $1::text and dedup_key = $10::text and dedup_held
    and dedup_until <= ${s}.now_ms()
  returning id
),`
    : ""
}
inserted as (
  insert into ${s}.jobs (${INSERT_COLUMNS})
  select ${singleValues(s)}${
  dedup
    ? `
  where (select count(*) from expired) >= 0  -- release an expired key before inserting`
    : ""
}
  on conflict do nothing
  returning queue, id, state
)
select (select count(*) from inserted)::int as n, null::json as inserted,
  array(select ${s}.emit($20::text, queue, state, array[id]) from inserted) as events${
  early
    ? `
from (select set_config('synchronous_commit', 'off', true)) as async_commit`
    : ""
}`;

/**
 * Whether a single add of `r` may be handed off (the statement checks the rest): the jobs a
 * claim would take right away, without a deduplication key (whose expiry the plain insert
 * handles).
 */
function mayHandOff(r: InsertRecord): boolean {
  return r.delay === 0 && r.pending_children === 0 && r.dedup_key === null;
}

/**
 * The early single insert ({@linkcode singleStatement}: same parameters, same result, the same
 * commit without waiting for the WAL flush) taking an offer (see `_handoff.ts`). The job is
 * leased to the offering worker as `CLAIM_ONE` leases (state, lock, `processed_at`,
 * `attempts_started`), and its `waiting` payload gains `"h": {"to": the offering store, "job":
 * the job's row}`. That payload is sent with `notify()` on the offering store's own channel
 * (the schema's channel for an offer of a version 3 store), so no other process wakes for a job
 * it could not claim; the offering store passes the `waiting` event on to the others (see
 * `Connection`). The size test keeps the payload under NOTIFY's 8000 bytes: JSON values go in
 * as they are, strings take at worst six bytes a character once escaped.
 */
const HANDOFF_INSERT = (s: string) => `
with taker as (
  delete from ${s}.offers o
  where o.ctid = (
      select c.ctid from ${s}.offers c
      where c.queue = $1::text and c.until > ${s}.now_ms()
        and not pg_try_advisory_xact_lock_shared(c.session)
      limit 1
      for update skip locked)
    and octet_length($4::text) + octet_length($5::text) + 6 * (octet_length($1::text)
      + octet_length($2::text) + octet_length($3::text) + coalesce(octet_length($9::text), 0)
      + coalesce(octet_length($12::text), 0) + coalesce(octet_length($13::text), 0)
      + octet_length(o.worker) + octet_length(o.origin) + octet_length($20::text)) <= 6500
    and $8::text::bigint = 0 and $14::text::int = 0 and $10::text is null and $11::text is null
    and not exists (select from ${s}.jobs w where w.queue = $1::text and w.state = 'waiting')
    and not exists (select from ${s}.paused p where p.queue = $1::text and p.job_name in ('*', $3::text))
  returning o.worker, o.origin, o.lease, o.channel
),
inserted as (
  insert into ${s}.jobs (${INSERT_COLUMNS},
    locked_by, lock_token, lock_until, processed_at, attempts_started)
  select ${singleValues(s, "case when t.worker is null then 'waiting' else 'active' end")},
    t.worker, case when t.worker is not null then gen_random_uuid()::text end,
    ${s}.now_ms() + t.lease, case when t.worker is not null then ${s}.now_ms() end,
    case when t.worker is not null then 1 else 0 end
  from (select) as one left join taker t on true
  on conflict do nothing
  returning ${jobColumns()}
)
select (select count(*) from inserted)::int as n, null::json as inserted,
  array(
    select ${s}.emit($20::text, i.queue, i.state, array[i.id]) from inserted i
    where i.locked_by is null
    union all
    select ${s}.notify(t.channel, json_build_object('o', $20::text, 'q', i.queue, 't', 'waiting',
      'n', 1, 'i', array[i.id], 'h', json_build_object('to', t.origin, 'job', row_to_json(i)))::text)
    from inserted i, taker t
    where i.locked_by is not null
  ) as events
from (select set_config('synchronous_commit', 'off', true)) as async_commit`;

const SINGLE = singleStatement(false, false);
const SINGLE_DEDUP = singleStatement(true, false);
const SINGLE_EARLY = singleStatement(false, true);
const SINGLE_DEDUP_EARLY = singleStatement(true, true);

/** The parameters of {@linkcode singleStatement} for `r`, published with `origin`. */
function singleParams(r: InsertRecord, origin: string): (string | null)[] {
  const text = (v: number | null) => v === null ? null : String(v);
  return [
    r.queue,
    r.id,
    r.name,
    JSON.stringify(r.data) ?? "null",
    JSON.stringify(r.opts),
    String(r.priority),
    r.lifo ? "true" : "false",
    String(r.delay),
    r.group_id,
    r.dedup_key,
    text(r.dedup_ttl),
    r.parent_queue,
    r.parent_id,
    String(r.pending_children),
    r.parent_policy,
    text(r.complete_keep),
    text(r.complete_age),
    text(r.fail_keep),
    text(r.fail_age),
    origin,
  ];
}

/**
 * A transaction with a synchronous commit: it returns once the WAL is flushed up to its own
 * commit, and so past every commit made before it started (the early insert's included).
 */
const FLUSH = () => "select txid_current()";

/** For jobs that were not inserted: the id of the job holding their id or key. */
const HOLDERS = (s: string) => `
select x.i, h.id
from json_to_recordset($1::text::json) as x(i integer, queue text, id text, dedup_key text)
left join lateral (
  select j.id from ${s}.jobs j
  where j.queue = x.queue and (j.id = x.id or (j.dedup_key = x.dedup_key and j.dedup_held))
  order by j.id = x.id desc
  limit 1
) h on true`;

/**
 * A record as the insert reads it: null and default fields are left out (the statement fills
 * them in), which halves the JSON the server parses for a plain job.
 */
function wire(r: InsertRecord): Record<string, unknown> {
  const w: Record<string, unknown> = { queue: r.queue, id: r.id, name: r.name, data: r.data };
  w.opts = r.opts;
  if (r.priority !== 0) w.priority = r.priority;
  if (r.lifo) w.lifo = true;
  if (r.delay !== 0) w.delay = r.delay;
  if (r.group_id !== null) w.group_id = r.group_id;
  if (r.dedup_key !== null) w.dedup_key = r.dedup_key;
  if (r.dedup_ttl !== null) w.dedup_ttl = r.dedup_ttl;
  if (r.parent_queue !== null) w.parent_queue = r.parent_queue;
  if (r.parent_id !== null) w.parent_id = r.parent_id;
  if (r.pending_children !== 0) w.pending_children = r.pending_children;
  if (r.parent_policy !== "fail") w.parent_policy = r.parent_policy;
  if (r.complete_keep !== null) w.complete_keep = r.complete_keep;
  if (r.complete_age !== null) w.complete_age = r.complete_age;
  if (r.fail_keep !== null) w.fail_keep = r.fail_keep;
  if (r.fail_age !== null) w.fail_age = r.fail_age;
  return w;
}

/** What an insert did: results in input order, and the payloads it published. */
export interface Inserted {
  results: SaveResult[];
  /** For each input: whether this call inserted it. */
  inserted: boolean[];
  events: string[];
}

/** Send a statement at once (rows as arrays), without waiting for earlier ones to answer. */
function start(db: Db, statement: (s: string) => string, params: unknown[]): Promise<unknown[][]> {
  const query = db.sql.unsafe(db.text(statement), params as never[], { prepare: db.prepare })
    .values();
  (query as { execute?: () => unknown }).execute?.();
  return Promise.resolve(query as PromiseLike<unknown[][]>);
}

/** Run an insert statement; with `early`, followed by the flush (see `insertJobs`). */
async function run(
  db: Db,
  statement: (s: string) => string,
  params: unknown[],
  early: boolean,
): Promise<unknown[][]> {
  if (!early) return await db.values(statement, params);
  // Sent back to back on one connection: the insert, then the flush.
  const insert = start(db, statement, params);
  const flush = start(db, FLUSH, []);
  const [inserted, flushed] = await Promise.allSettled([insert, flush]);
  if (inserted.status === "rejected") throw inserted.reason;
  if (flushed.status === "rejected") throw flushed.reason;
  return inserted.value;
}

/**
 * Insert `records` in one statement. Results are in input order; a record whose id or key is
 * already held (in the database, or earlier in the same list) is a duplicate carrying the id of
 * the job that holds it.
 *
 * Every record is sent, duplicates within the list included: the insert takes them in order,
 * so the first of a list's records with one id or key wins and the others conflict with it, as
 * with one held in the database. Only when some record was not inserted does the client work
 * out which (the first record of each inserted id is the inserted one) and ask for the holders.
 *
 * With `early` (for `db` on one connection of its own, outside any transaction), the insert
 * commits without waiting for the WAL flush, so its wake-up NOTIFY leaves at once and a worker
 * elsewhere may claim the jobs while the disk is still writing; a synchronous transaction sent
 * right behind it on the same connection waits for the flush, and only then does this resolve.
 * The caller learns of its jobs only once they are durable, as without `early`; a server crash
 * in between loses jobs whose save was never acknowledged (the save rejects), which a worker
 * may already have started: the same at-least-once case as a save retried after a lost reply.
 */
export async function insertJobs(
  db: Db,
  records: InsertRecord[],
  early = false,
): Promise<Inserted> {
  const n = records.length;
  const results: SaveResult[] = new Array(n);
  const inserted: boolean[] = new Array(n);
  const events: string[] = [];
  if (n === 0) return { results, inserted, events };
  let statement;
  let params;
  let fresh = false;
  if (n === 1) {
    const dedup = records[0].dedup_key !== null;
    statement = early && mayHandOff(records[0])
      ? HANDOFF_INSERT
      : dedup
      ? (early ? SINGLE_DEDUP_EARLY : SINGLE_DEDUP)
      : early
      ? SINGLE_EARLY
      : SINGLE;
    params = singleParams(records[0], db.origin);
  } else {
    let dedup = false;
    let plain = true;
    let json = "[";
    for (let i = 0; i < n; i++) {
      const r = records[i];
      if (r.dedup_key !== null) dedup = true;
      if (plain && !isPlain(r)) plain = false;
      json += (i === 0 ? "" : ",") + JSON.stringify(wire(r));
    }
    json += "]";
    // A fresh insert only where its failure ends no one's transaction (see plainStatement).
    fresh = plain && (early || !db.inTransaction);
    statement = plain
      ? (early ? (fresh ? PLAIN_FRESH_EARLY : PLAIN_EARLY) : fresh ? PLAIN_FRESH : PLAIN)
      : dedup
      ? (early ? INSERT_DEDUP_EARLY : INSERT_DEDUP)
      : early
      ? INSERT_EARLY
      : INSERT;
    params = [json, db.origin];
  }
  let rows: unknown[][];
  try {
    rows = await run(db, statement, params, early);
  } catch (error) {
    if (!fresh || (error as { code?: unknown }).code !== UNIQUE_VIOLATION) throw error;
    rows = await run(db, early ? PLAIN_EARLY : PLAIN, params, early);
  }
  const [[count, pairs, payloads]] = rows;
  if (Array.isArray(payloads)) events.push(...payloads as string[]);
  if (count === n) {
    for (let i = 0; i < n; i++) {
      results[i] = { id: records[i].id, duplicate: false };
      inserted[i] = true;
    }
    return { results, inserted, events };
  }
  // Inserted ids not yet matched to a record: the first record with that id took it.
  const unmatched = new Set<string>();
  for (const [queue, id] of (pairs ?? []) as [string, string][]) {
    unmatched.add(`${queue}\u0000${id}`);
  }
  const missing: number[] = [];
  for (let i = 0; i < n; i++) {
    const r = records[i];
    if (unmatched.delete(`${r.queue}\u0000${r.id}`)) {
      results[i] = { id: r.id, duplicate: false };
      inserted[i] = true;
    } else {
      inserted[i] = false;
      missing.push(i);
    }
  }
  const holders = await db.values(HOLDERS, [
    JSON.stringify(
      missing.map((i) => ({
        i,
        queue: records[i].queue,
        id: records[i].id,
        dedup_key: records[i].dedup_key,
      })),
    ),
  ]);
  for (const [i, holder] of holders) {
    const index = Number(i);
    results[index] = { id: (holder as string | null) ?? records[index].id, duplicate: true };
  }
  return { results, inserted, events };
}
