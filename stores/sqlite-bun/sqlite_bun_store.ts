/**
 * `SqliteBunStore`: the SQLite store on Bun's built-in `bun:sqlite`.
 *
 * @module
 */

/// <reference types="@types/bun" />
import type { Database } from "bun:sqlite";
import {
  type SqliteDriver,
  SqliteStore,
  type SqliteStoreOptions,
  type SqlRow,
} from "@conveyor/store-sqlite-core";

/** Options of {@linkcode SqliteBunStore}. */
export interface SqliteBunStoreOptions extends SqliteStoreOptions {
  /** Path of the database file (created when missing), or `":memory:"`. */
  filename: string;
}

/**
 * Wrap an open `bun:sqlite` database in the driver port.
 * @param db the database (closed by the driver's `close()`)
 * @returns the database as a {@linkcode SqliteDriver}
 */
export function bunDriver(db: Database): SqliteDriver {
  return {
    exec: (sql) => void db.exec(sql),
    prepare(sql) {
      const s = db.prepare(sql);
      return {
        run: (...params) => s.run(...params),
        // bun:sqlite answers null for "no row"; the port says undefined
        get: (...params) => (s.get(...params) ?? undefined) as SqlRow | undefined,
        all: (...params) => s.all(...params) as SqlRow[],
      };
    },
    close: () => db.close(),
  };
}

/**
 * Conveyor's SQLite store on Bun (`bun:sqlite`): one file shared by any number of processes on
 * one host. `bun:sqlite` is loaded by `connect()`, so this module also loads (but cannot
 * connect) on other runtimes. See `SqliteStore` of `@conveyor/store-sqlite-core` for the
 * guarantees.
 *
 * @example
 * ```ts ignore
 * import { SqliteBunStore } from "@conveyor/store-sqlite-bun";
 *
 * const store = new SqliteBunStore({ filename: ":memory:" });
 * await store.connect();
 * await store.saveJob("emails", { id: "1", name: "send", data: {}, opts: {} });
 * console.log(await store.countJobs("emails")); // 1
 * await store.disconnect();
 * ```
 */
export class SqliteBunStore extends SqliteStore {
  /** Path of the database file. */
  readonly filename: string;
  #module: typeof import("bun:sqlite") | undefined;

  /**
   * Create the store; the file opens on `connect()`.
   * @param options the file name and store settings
   */
  constructor(options: SqliteBunStoreOptions) {
    const filename = options?.filename;
    if (typeof filename !== "string" || filename === "") {
      throw new TypeError(`SqliteBunStore needs options.filename, got ${String(filename)}`);
    }
    super({
      ...options,
      name: "SqliteBunStore",
      open: () => {
        if (!this.#module) throw new Error("SqliteBunStore: bun:sqlite is not loaded");
        return bunDriver(new this.#module.Database(filename, { create: true }));
      },
    });
    this.filename = filename;
  }

  /** Load `bun:sqlite` (Bun only), then open the file and apply migrations. Idempotent. */
  override async connect(): Promise<void> {
    this.#module ??= await import("bun:sqlite");
    await super.connect();
  }
}
