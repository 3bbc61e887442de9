/**
 * Numbered, forward-only migrations of the store's schema, applied in one transaction under an
 * advisory lock, so many processes may start at once. A database whose schema is newer than the
 * migrations known here is refused with `SchemaVersionError`.
 *
 * The schema, and the index that serves each hot query:
 *
 * | query | index |
 * |---|---|
 * | claim (`fetchNextJob(s)`) | `jobs_waiting (queue, priority, order_key) where state = 'waiting'` |
 * | promotion, next delayed time | `jobs_delayed (queue, delay_until) where state = 'delayed'` |
 * | stalled leases, active and group counts | `jobs_active (queue, lock_until) where state = 'active'` |
 * | flow parents waiting for children | `jobs_waiting_children (queue, seq) where state = 'waiting-children'` |
 * | `clean`, `removeOnComplete/Fail` trims | `jobs_finished (queue, state, finished_at)` |
 * | flow children | `jobs_parent (parent_queue, parent_id)` |
 * | deduplication | unique `jobs_dedup (queue, dedup_key) where dedup_held` |
 * | hand-off offers of idle workers (versions 3, 4) | `offers` primary key `(queue, worker)` |
 *
 * `listJobs`, `countJobs`, `clean` and the group counts of one state use that state's partial
 * index (completed and failed jobs always have a `finished_at`: `jobs_finished`); the statements
 * name the state as a literal so the planner can. Version 1 also had a full index `jobs_state
 * (queue, state, seq)`; version 2 drops it: it took a new entry on every insert, claim and
 * completion (a state change is never a HOT update) only to save the sort by `seq` of a listing.
 *
 * @module
 */

import { SchemaVersionError } from "@conveyor/shared";
import { channelOf, quoteIdent, type SqlLike } from "./_db.ts";

/** One migration: SQL for the quoted schema `s` and its NOTIFY channel. */
interface Migration {
  version: number;
  name: string;
  up: (s: string, channel: string) => string;
}

const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "jobs, pauses, rate limit log, event helper",
    up: (s, channel) => `
-- Milliseconds since the epoch on the database's clock: the one clock every host agrees on.
create function ${s}.now_ms() returns bigint language sql stable parallel safe
  as $$ select (extract(epoch from statement_timestamp()) * 1000)::bigint $$;

create table ${s}.jobs (
  queue            text    not null,
  id               text    not null,
  name             text    not null,
  data             json    not null,            -- json, not jsonb: the payload's text as given
  opts             json    not null,
  state            text    not null check (state in
                     ('waiting', 'waiting-children', 'delayed', 'active', 'completed', 'failed')),
  priority         integer not null default 0,
  lifo             boolean not null default false,
  seq              bigint  generated always as identity,
  -- claim order within a priority: LIFO jobs newest first, then FIFO jobs oldest first
  order_key        bigint  generated always as (case when lifo then -seq else seq end) stored,
  attempts_made    integer not null default 0,
  attempts_started integer not null default 0,
  stalled_count    integer not null default 0,
  progress         json    not null default '0',
  return_value     json,
  failed_reason    text,
  stacktrace       jsonb   not null default '[]',
  logs             jsonb   not null default '[]',
  created_at       bigint  not null,
  delay_until      bigint,
  processed_at     bigint,
  finished_at      bigint,
  locked_by        text,
  lock_token       text,
  lock_until       bigint,
  group_id         text,
  parent_queue     text,
  parent_id        text,
  parent_notified  boolean not null default false,  -- counted (once) in the parent's pending count
  pending_children integer not null default 0,
  parent_policy    text    not null default 'fail', -- opts.failParentOnChildFailure
  dedup_key        text,
  dedup_held       boolean not null default false,  -- the key still blocks duplicates
  dedup_until      bigint,                          -- with a ttl: the key holds until then
  complete_keep    integer,  -- removeOnComplete: null keeps all, 0 removes at once, n keeps n
  complete_age     bigint,
  fail_keep        integer,  -- removeOnFail, likewise
  fail_age         bigint,
  primary key (queue, id)
) with (fillfactor = 90);

create index jobs_waiting on ${s}.jobs (queue, priority, order_key) where state = 'waiting';
create index jobs_delayed on ${s}.jobs (queue, delay_until) where state = 'delayed';
create index jobs_active on ${s}.jobs (queue, lock_until) where state = 'active';
create index jobs_state on ${s}.jobs (queue, state, seq);
create index jobs_finished on ${s}.jobs (queue, state, finished_at) where finished_at is not null;
create index jobs_parent on ${s}.jobs (parent_queue, parent_id) where parent_id is not null;
create unique index jobs_dedup on ${s}.jobs (queue, dedup_key) where dedup_held;

create table ${s}.paused (
  queue    text not null,
  job_name text not null,
  primary key (queue, job_name)
);

-- Claims made with a rate limit, for the sliding window. Unlogged: a crash only resets windows.
create unlogged table ${s}.rate_log (
  queue      text        not null,
  claimed_at timestamptz not null  -- microseconds: a window boundary is not rounded
);
create index rate_log_window on ${s}.rate_log (queue, claimed_at);

-- Publish one coalesced event (one NOTIFY for many jobs) and return its payload, or null when
-- ids is empty. ids null means a queue-wide event. The payload stays under NOTIFY's 8000 bytes:
-- when ids and detail do not fit, only their count is sent. An origin starting with '~' is a
-- store's own statement: it NOTIFYs wake-ups only, and sends the other (lifecycle) events
-- itself, batched, after the commit. Any other origin (a caller's transaction) NOTIFYs all.
create function ${s}.emit(origin text, queue text, type text, ids text[],
                          detail json default null, job_name text default null)
returns text language plpgsql volatile as $$
declare
  payload text;
begin
  if cardinality(ids) = 0 then
    return null;
  end if;
  payload := json_build_object('o', origin, 'q', queue, 't', type, 'n', cardinality(ids),
                               'i', ids, 'd', detail, 'j', job_name)::text;
  if octet_length(payload) > 7900 then
    payload := json_build_object('o', origin, 'q', queue, 't', type, 'n', cardinality(ids),
                                 'j', left(job_name, 255))::text;
  end if;
  if left(origin, 1) <> '~' or type in ('waiting', 'delayed', 'paused', 'resumed') then
    perform pg_notify('${channel}', payload);
  end if;
  return payload;
end $$;
`,
  },
  {
    version: 2,
    name: "partial index per state instead of jobs_state (one index entry less per change)",
    up: (s) => `
create index jobs_waiting_children on ${s}.jobs (queue, seq) where state = 'waiting-children';
drop index ${s}.jobs_state;
`,
  },
  {
    version: 3,
    name: "offers of idle workers, for hand-off",
    up: (s, channel) => `
-- A worker whose claim found nothing offers to take the queue's next job (see _handoff.ts):
-- one offer per queue and worker, good for one job, until 'until' (now_ms()), and only while
-- the session that listens for its store lives: that session holds advisory lock 'session'.
-- Unlogged: after a crash there is no worker left to offer anything.
create unlogged table ${s}.offers (
  queue   text   not null,
  worker  text   not null,
  origin  text   not null,  -- the store that made it: the hand-off NOTIFY names it
  lease   bigint not null,  -- ms
  session bigint not null,
  until   bigint not null,
  primary key (queue, worker)
);

-- NOTIFY a payload built by the statement (a hand-off) and return it.
create function ${s}.notify(payload text) returns text language plpgsql volatile as $$
begin
  perform pg_notify('${channel}', payload);
  return payload;
end $$;
`,
  },
  {
    version: 4,
    name: "hand-off on the offering store's own channel",
    up: (s, channel) => `
-- The channel the offering store alone listens on: a hand-off NOTIFY there wakes no other
-- process. Null for an offer made by a store of schema version 3, which listens only on the
-- schema's channel.
alter table ${s}.offers add column channel text;

-- NOTIFY a payload built by the statement (a hand-off) on 'channel', or on the schema's channel
-- when null, and return it.
create function ${s}.notify(channel text, payload text) returns text language plpgsql volatile
as $$
begin
  perform pg_notify(coalesce(channel, '${channel}'), payload);
  return payload;
end $$;
`,
  },
];

/** The newest schema version this store knows. */
export const SCHEMA_VERSION: number = MIGRATIONS[MIGRATIONS.length - 1].version;

const MIGRATIONS_TABLE = (s: string) => `
create table ${s}.migrations (
  version    integer primary key,
  name       text not null,
  applied_at timestamptz not null default now()
)`;

/** The schema's version: 0 when it has no migrations table yet. */
export async function schemaVersion(sql: SqlLike, schema: string): Promise<number> {
  const s = quoteIdent(schema);
  const [exists] = await sql.unsafe("select to_regclass($1) is not null as ok", [
    `${s}.migrations`,
  ]) as unknown as { ok: boolean }[];
  if (!exists.ok) return 0;
  const [row] = await sql.unsafe(
    `select coalesce(max(version), 0) as version from ${s}.migrations`,
  ) as unknown as { version: number }[];
  return row.version;
}

/** Refuse a schema newer than this store knows. */
export function assertNotTooNew(schema: string, version: number): void {
  if (version > SCHEMA_VERSION) {
    throw new SchemaVersionError(
      `Schema "${schema}" is at version ${version}, but this @conveyor/store-pg knows versions ` +
        `up to ${SCHEMA_VERSION}: upgrade @conveyor/store-pg (or use another schema)`,
    );
  }
}

/** A transaction runner: postgres.js `sql.begin`. */
export type Begin = <T>(fn: (tx: SqlLike) => Promise<T>) => Promise<T>;

/**
 * Bring `schema` to {@linkcode SCHEMA_VERSION} (or to version `to`, for tests of upgrades):
 * creates the schema when missing and applies the missing migrations in order, in one
 * transaction holding an advisory lock on the schema name.
 *
 * @returns the version before and after
 * @throws {SchemaVersionError} when the schema is newer than this store knows
 */
export async function migrate(
  sql: SqlLike,
  begin: Begin,
  schema: string,
  to: number = SCHEMA_VERSION,
): Promise<{ from: number; to: number }> {
  const current = await schemaVersion(sql, schema);
  assertNotTooNew(schema, current);
  if (current >= to) return { from: current, to: current };
  const s = quoteIdent(schema);
  return await begin(async (tx) => {
    await tx.unsafe("select pg_advisory_xact_lock(hashtext('conveyor:migrate'), hashtext($1))", [
      schema,
    ]);
    const [ns] = await tx.unsafe("select count(*)::int as n from pg_namespace where nspname = $1", [
      schema,
    ]) as unknown as { n: number }[];
    if (ns.n === 0) await tx.unsafe(`create schema ${s}`);
    const before = await schemaVersion(tx, schema);
    assertNotTooNew(schema, before);
    if (before === 0) await tx.unsafe(MIGRATIONS_TABLE(s));
    for (const m of MIGRATIONS) {
      if (m.version <= before || m.version > to) continue;
      await tx.unsafe(m.up(s, channelOf(schema)));
      await tx.unsafe(`insert into ${s}.migrations (version, name) values ($1, $2)`, [
        m.version,
        m.name,
      ]);
    }
    return { from: before, to: Math.max(before, to) };
  });
}
