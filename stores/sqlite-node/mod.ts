/**
 * `@conveyor/store-sqlite-node`: Conveyor's SQLite store on Node's built-in `node:sqlite`
 * (Node >= 22.5). All SQL and logic live in `@conveyor/store-sqlite-core`; this package only
 * wraps `DatabaseSync` in its driver port.
 *
 * @example
 * ```ts
 * import { SqliteNodeStore } from "@conveyor/store-sqlite-node";
 *
 * const store = new SqliteNodeStore({ filename: ":memory:" });
 * await store.connect();
 * await store.saveJob("emails", { id: "1", name: "send", data: {}, opts: {} });
 * await store.disconnect();
 * ```
 *
 * @module
 */

export {
  openNodeSqlite,
  SqliteNodeStore,
  type SqliteNodeStoreOptions,
} from "./sqlite_node_store.ts";
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
