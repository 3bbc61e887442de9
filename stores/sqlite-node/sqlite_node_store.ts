/**
 * `SqliteNodeStore`: the SQLite store on Node's built-in `node:sqlite` (Node >= 22.5).
 *
 * @module
 */

import { DatabaseSync } from "node:sqlite";
import {
  type SqliteDriver,
  SqliteStore,
  type SqliteStoreOptions,
  type SqlRow,
} from "@conveyor/store-sqlite-core";

/** Options of {@linkcode SqliteNodeStore}. */
export interface SqliteNodeStoreOptions extends SqliteStoreOptions {
  /** Path of the database file (created when missing), or `":memory:"`. */
  filename: string;
}

/**
 * Open `filename` with `node:sqlite` and wrap it in the driver port.
 * @param filename path of the database file, or `":memory:"`
 * @returns the open database as a {@linkcode SqliteDriver}
 */
export function openNodeSqlite(filename: string): SqliteDriver {
  const db = new DatabaseSync(filename);
  return {
    exec: (sql) => db.exec(sql),
    prepare(sql) {
      const s = db.prepare(sql);
      return {
        run: (...params) => s.run(...params),
        get: (...params) => s.get(...params) as SqlRow | undefined,
        all: (...params) => s.all(...params) as SqlRow[],
      };
    },
    close: () => db.close(),
  };
}

/**
 * Conveyor's SQLite store on Node (`node:sqlite`): one file shared by any number of processes
 * on one host. See `SqliteStore` of `@conveyor/store-sqlite-core` for the guarantees.
 *
 * @example
 * ```ts
 * import { SqliteNodeStore } from "@conveyor/store-sqlite-node";
 *
 * const store = new SqliteNodeStore({ filename: ":memory:" });
 * await store.connect();
 * await store.saveJob("emails", { id: "1", name: "send", data: {}, opts: {} });
 * console.log(await store.countJobs("emails")); // 1
 * await store.disconnect();
 * ```
 */
export class SqliteNodeStore extends SqliteStore {
  /** Path of the database file. */
  readonly filename: string;

  /**
   * Create the store; the file opens on `connect()`.
   * @param options the file name and store settings
   */
  constructor(options: SqliteNodeStoreOptions) {
    const filename = options?.filename;
    if (typeof filename !== "string" || filename === "") {
      throw new TypeError(`SqliteNodeStore needs options.filename, got ${String(filename)}`);
    }
    super({ ...options, name: "SqliteNodeStore", open: () => openNodeSqlite(filename) });
    this.filename = filename;
  }
}
