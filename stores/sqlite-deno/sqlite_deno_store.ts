/**
 * `SqliteDenoStore`: the SQLite store on Deno, through the `node:sqlite` module built into Deno.
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

/** Options of {@linkcode SqliteDenoStore}. */
export interface SqliteDenoStoreOptions extends SqliteStoreOptions {
  /** Path of the database file (created when missing), or `":memory:"`. */
  filename: string;
}

/**
 * Open `filename` with Deno's `node:sqlite` and wrap it in the driver port.
 * @param filename path of the database file, or `":memory:"`
 * @returns the open database as a {@linkcode SqliteDriver}
 */
export function openDenoSqlite(filename: string): SqliteDriver {
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
 * Conveyor's SQLite store on Deno: one file shared by any number of processes on one host.
 * Needs `--allow-read` and `--allow-write` for the file. See `SqliteStore` of
 * `@conveyor/store-sqlite-core` for the guarantees.
 *
 * @example
 * ```ts
 * import { SqliteDenoStore } from "@conveyor/store-sqlite-deno";
 *
 * const store = new SqliteDenoStore({ filename: ":memory:" });
 * await store.connect();
 * await store.saveJob("emails", { id: "1", name: "send", data: {}, opts: {} });
 * console.log(await store.countJobs("emails")); // 1
 * await store.disconnect();
 * ```
 */
export class SqliteDenoStore extends SqliteStore {
  /** Path of the database file. */
  readonly filename: string;

  /**
   * Create the store; the file opens on `connect()`.
   * @param options the file name and store settings
   */
  constructor(options: SqliteDenoStoreOptions) {
    const filename = options?.filename;
    if (typeof filename !== "string" || filename === "") {
      throw new TypeError(`SqliteDenoStore needs options.filename, got ${String(filename)}`);
    }
    super({ ...options, name: "SqliteDenoStore", open: () => openDenoSqlite(filename) });
    this.filename = filename;
  }
}
