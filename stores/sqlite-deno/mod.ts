/**
 * `@conveyor/store-sqlite-deno`: Conveyor's SQLite store on Deno, through the `node:sqlite`
 * module built into Deno (no native download). All SQL and logic live in
 * `@conveyor/store-sqlite-core`; this package only wraps `DatabaseSync` in its driver port.
 *
 * @example
 * ```ts
 * import { SqliteDenoStore } from "@conveyor/store-sqlite-deno";
 *
 * const store = new SqliteDenoStore({ filename: ":memory:" });
 * await store.connect();
 * await store.saveJob("emails", { id: "1", name: "send", data: {}, opts: {} });
 * await store.disconnect();
 * ```
 *
 * @module
 */

export {
  openDenoSqlite,
  SqliteDenoStore,
  type SqliteDenoStoreOptions,
} from "./sqlite_deno_store.ts";
export type {
  RunResult,
  SqliteDriver,
  SqliteStatement,
  SqliteStoreOptions,
  SqlRow,
  SqlValue,
} from "@conveyor/store-sqlite-core";
export { SqliteStore } from "@conveyor/store-sqlite-core";
// The contract types the store's methods take and return, for documentation and convenience.
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
