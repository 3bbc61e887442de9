/**
 * The schema: numbered, forward-only migrations, applied in one `BEGIN IMMEDIATE` transaction
 * (so concurrent `connect()` calls from several processes apply each migration once). A
 * database whose schema is newer than this store knows is refused.
 *
 * Every table and index name gets the store's prefix (`{jobs}` → `conveyor_jobs`).
 *
 * @module
 */

import { SchemaVersionError } from "@conveyor/shared";
import type { Db } from "./_db.ts";

/** Migrations by version; version `i + 1` is `MIGRATIONS[i]`. */
const MIGRATIONS: readonly string[] = [
  // 1: jobs, pauses, flow bookkeeping, rate-limit window, cross-process events.
  `
  CREATE TABLE {jobs} (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    queue TEXT NOT NULL,
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    state TEXT NOT NULL,
    data TEXT NOT NULL,
    opts TEXT NOT NULL,
    priority INTEGER NOT NULL DEFAULT 0,
    lifo INTEGER NOT NULL DEFAULT 0,
    -- claim order within a priority: LIFO jobs newest first, then FIFO jobs oldest first
    ord INTEGER GENERATED ALWAYS AS (CASE WHEN lifo = 1 THEN -seq ELSE seq END) VIRTUAL,
    attempts_made INTEGER NOT NULL DEFAULT 0,
    attempts_started INTEGER NOT NULL DEFAULT 0,
    stalled_count INTEGER NOT NULL DEFAULT 0,
    progress TEXT NOT NULL DEFAULT '0',
    return_value TEXT NOT NULL DEFAULT 'null',
    failed_reason TEXT,
    stacktrace TEXT NOT NULL DEFAULT '[]',
    logs TEXT NOT NULL DEFAULT '[]',
    created_at INTEGER NOT NULL,
    delay_until INTEGER,
    processed_at INTEGER,
    finished_at INTEGER,
    locked_by TEXT,
    lock_token TEXT,
    lock_until INTEGER,
    parent_id TEXT,
    parent_queue TEXT,
    pending_children INTEGER NOT NULL DEFAULT 0,
    dedup_key TEXT,
    -- the key while the job holds it (NULL once released); unique per queue
    dedup_hold TEXT,
    -- end of the key's ttl, when it has one
    dedup_until INTEGER,
    group_id TEXT
  );
  -- job ids are unique per queue (getJob, fenced updates, duplicate adds)
  CREATE UNIQUE INDEX {jobs_id} ON {jobs} (queue, id);
  -- deduplication is race-free: one holder per key and queue
  CREATE UNIQUE INDEX {jobs_dedup} ON {jobs} (queue, dedup_hold) WHERE dedup_hold IS NOT NULL;
  -- claims: next waiting job by priority, then order
  CREATE INDEX {jobs_claim} ON {jobs} (queue, priority, ord) WHERE state = 'waiting';
  -- promotion and the next delayed timestamp
  CREATE INDEX {jobs_delayed} ON {jobs} (queue, delay_until) WHERE state = 'delayed';
  -- stalled detection
  CREATE INDEX {jobs_active} ON {jobs} (queue, lock_until) WHERE state = 'active';
  -- listJobs/countJobs by state, and listJobs of a whole queue
  CREATE INDEX {jobs_state} ON {jobs} (queue, state, seq);
  CREATE INDEX {jobs_queue} ON {jobs} (queue, seq);
  -- group counts (groupConcurrency, getGroupActiveCount, getWaitingGroupCount)
  CREATE INDEX {jobs_group} ON {jobs} (queue, group_id, state) WHERE group_id IS NOT NULL;
  -- flow children of a parent
  CREATE INDEX {jobs_parent} ON {jobs} (parent_queue, parent_id) WHERE parent_id IS NOT NULL;
  -- removeOnComplete/removeOnFail and clean of finished jobs, oldest first
  CREATE INDEX {jobs_finished} ON {jobs} (queue, state, finished_at) WHERE finished_at IS NOT NULL;

  CREATE TABLE {paused} (
    queue TEXT NOT NULL,
    name TEXT NOT NULL,
    PRIMARY KEY (queue, name)
  ) WITHOUT ROWID;

  -- children already counted for a parent that waits for its children (each counted once)
  CREATE TABLE {counted} (
    parent_queue TEXT NOT NULL,
    parent_id TEXT NOT NULL,
    child_id TEXT NOT NULL,
    PRIMARY KEY (parent_queue, parent_id, child_id)
  ) WITHOUT ROWID;

  -- claim times, for sliding-window rate limits
  CREATE TABLE {claims} (queue TEXT NOT NULL, at INTEGER NOT NULL);
  CREATE INDEX {claims_at} ON {claims} (queue, at);

  -- recent events, polled by stores in other processes
  CREATE TABLE {events} (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    origin TEXT NOT NULL,
    queue TEXT NOT NULL,
    at INTEGER NOT NULL,
    event TEXT NOT NULL
  );
  CREATE INDEX {events_at} ON {events} (at);
  `,
];

/** The schema version this store creates and understands. */
export const SCHEMA_VERSION: number = MIGRATIONS.length;

/** Set the connection's pragmas: WAL, synchronous=NORMAL, busy timeout, foreign keys off. */
export function configure(db: Db, busyTimeout: number): void {
  db.driver.exec(`PRAGMA busy_timeout = ${Math.floor(busyTimeout)}`);
  // journal_mode needs the write lock on a new file: the busy timeout above covers it
  db.driver.exec("PRAGMA journal_mode = WAL");
  db.driver.exec("PRAGMA synchronous = NORMAL");
}

/** The version recorded in the database (0 for a fresh one). Runs inside a transaction. */
export function schemaVersion(db: Db): number {
  db.exec(
    "CREATE TABLE IF NOT EXISTS {migrations} (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)",
  );
  const row = db.get<{ v: number | null }>("SELECT MAX(version) AS v FROM {migrations}");
  return Number(row?.v ?? 0);
}

/**
 * Apply the missing migrations, inside the caller's `BEGIN IMMEDIATE` transaction.
 * @returns the versions applied
 * @throws {SchemaVersionError} when the database's schema is newer than {@linkcode SCHEMA_VERSION}
 */
export function migrate(db: Db, now: number): number[] {
  const current = schemaVersion(db);
  if (current > SCHEMA_VERSION) {
    throw new SchemaVersionError(
      `SQLite schema "${db.prefix}" is at version ${current}, newer than version ${SCHEMA_VERSION} this store knows; upgrade @conveyor/store-sqlite-core`,
    );
  }
  const applied: number[] = [];
  for (let v = current + 1; v <= SCHEMA_VERSION; v++) {
    db.exec(MIGRATIONS[v - 1]);
    db.run("INSERT INTO {migrations} (version, applied_at) VALUES (?, ?)", v, now);
    applied.push(v);
  }
  return applied;
}
