/**
 * `@conveyor/store-sqlite-core`: every SQL statement and all the logic of Conveyor's SQLite
 * store, over a small synchronous driver port ({@linkcode SqliteDriver}). The runtime packages
 * `@conveyor/store-sqlite-node`, `@conveyor/store-sqlite-deno` and `@conveyor/store-sqlite-bun`
 * only wrap their driver in that port.
 *
 * - One database file per store (`:memory:` allowed), WAL, `synchronous=NORMAL`, busy timeout.
 * - Claims of many jobs in one `BEGIN IMMEDIATE` transaction; order from the AUTOINCREMENT key.
 * - Numbered migrations in `<prefix>migrations`; a newer schema is refused.
 * - A table prefix, so several stores share one file.
 * - Events in-process at once; across processes by polling (`pollInterval`).
 *
 * @example
 * ```ts
 * import { DatabaseSync } from "node:sqlite";
 * import { SqliteStore } from "@conveyor/store-sqlite-core";
 *
 * const store = new SqliteStore({
 *   open() {
 *     const db = new DatabaseSync(":memory:");
 *     return {
 *       exec: (sql) => db.exec(sql),
 *       prepare: (sql) => {
 *         const s = db.prepare(sql);
 *         return {
 *           run: (...p) => s.run(...p),
 *           get: (...p) => s.get(...p) as never,
 *           all: (...p) => s.all(...p) as never,
 *         };
 *       },
 *       close: () => db.close(),
 *     };
 *   },
 * });
 * await store.connect();
 * await store.saveJob("emails", { id: "1", name: "send", data: {}, opts: {} });
 * console.log(await store.countJobs("emails", "waiting")); // 1
 * await store.disconnect();
 * ```
 *
 * @module
 */

export type { RunResult, SqliteDriver, SqliteStatement, SqlRow, SqlValue } from "./driver.ts";
export { SqliteStore } from "./sqlite_store.ts";
export type { SqliteCoreOptions, SqliteStoreOptions } from "./options.ts";
export { SCHEMA_VERSION } from "./_schema.ts";
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
