/**
 * `@conveyor/store-pg`: Conveyor's PostgreSQL store, on postgres.js. For production queues
 * shared by many processes on many hosts.
 *
 * - Claims with `FOR UPDATE SKIP LOCKED`, many jobs per statement; limits (groups, global
 *   concurrency, rate) serialised per queue by an advisory lock only when set.
 * - Leases judged by the database clock and fenced by a fresh token per claim.
 * - Events over LISTEN/NOTIFY, sent in the statement that made the change, one per statement.
 * - Numbered migrations under an advisory lock, in a schema of your choice.
 * - Enqueue inside your own transaction with {@linkcode PgStore.withTransaction}.
 *
 * @example
 * ```ts ignore
 * import { PgStore } from "@conveyor/store-pg";
 * import { createNewJob } from "@conveyor/shared";
 *
 * const store = new PgStore({ connection: "postgres://postgres@127.0.0.1:5432/test" });
 * await store.connect();
 * await store.saveJob("emails", await createNewJob("send", { to: "a@example.com" }));
 * await store.disconnect();
 * ```
 *
 * @module
 */

export { PgStore, type PgStoreOptions } from "./pg_store.ts";
export { PgStoreTransaction } from "./pg_store_transaction.ts";
export type { PgConnectionOptions, PgQuery, PgSql, PgTransactionSql } from "./pg_sql.ts";
export { SCHEMA_VERSION } from "./_migrations.ts";
// The contract types the store's API mentions, for documentation and convenience.
export type {
  BackoffOptions,
  DeduplicationOptions,
  FailParentPolicy,
  FetchOptions,
  FlowJobRecord,
  JobData,
  JobFailure,
  JobOptions,
  JobProgress,
  JobState,
  JobUpdate,
  JsonValue,
  KeepJobs,
  ListOptions,
  NewJob,
  RepeatInfo,
  SaveResult,
  StalledRecovery,
  StoredJobOptions,
  StoreEvent,
  StoreEventListener,
  StoreEventType,
  StoreInterface,
} from "@conveyor/shared";
