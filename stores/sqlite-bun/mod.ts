/**
 * `@conveyor/store-sqlite-bun`: Conveyor's SQLite store on Bun's built-in `bun:sqlite`. All SQL
 * and logic live in `@conveyor/store-sqlite-core`; this package only wraps `Database` in its
 * driver port. (On Bun, `@conveyor/store-sqlite-node` also works, through Bun's `node:sqlite`.)
 *
 * @example
 * ```ts ignore
 * import { SqliteBunStore } from "@conveyor/store-sqlite-bun";
 *
 * const store = new SqliteBunStore({ filename: "jobs.db" });
 * await store.connect();
 * await store.saveJob("emails", { id: "1", name: "send", data: {}, opts: {} });
 * await store.disconnect();
 * ```
 *
 * @module
 */

export {
  type BunDatabase,
  bunDriver,
  SqliteBunStore,
  type SqliteBunStoreOptions,
} from "./sqlite_bun_store.ts";
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
