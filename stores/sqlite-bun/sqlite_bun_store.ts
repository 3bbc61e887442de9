/**
 * `SqliteBunStore`: the SQLite store on Bun's built-in `bun:sqlite`.
 *
 * `bun:sqlite` is imported by `connect()`, not at load time, and only the part of its
 * `Database` the store uses is typed here: the module loads (and type-checks) on every runtime
 * without Bun's type declarations, and only `connect()` needs Bun.
 *
 * @module
 */

import {
  type RunResult,
  type SqliteDriver,
  SqliteStore,
  type SqliteStoreOptions,
  type SqlRow,
  type SqlValue,
} from "@conveyor/store-sqlite-core";

/** The part of a `bun:sqlite` `Database` the store uses. */
export interface BunDatabase {
  /** Run statements without results. */
  exec(sql: string): unknown;
  /** Compile a statement. */
  prepare(sql: string): {
    run(...params: SqlValue[]): RunResult;
    get(...params: SqlValue[]): unknown;
    all(...params: SqlValue[]): unknown[];
  };
  /** Close the database. */
  close(): void;
}

/**
 * Wrap an open `bun:sqlite` database in the driver port.
 * @param db the database (closed by the driver's `close()`)
 * @returns the database as a {@linkcode SqliteDriver}
 */
export function bunDriver(db: BunDatabase): SqliteDriver {
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

/** Options of {@linkcode SqliteBunStore}. */
export interface SqliteBunStoreOptions extends SqliteStoreOptions {
  /** Path of the database file (created when missing), or `":memory:"`. */
  filename: string;
}

type BunSqlite = { Database: new (filename: string, options?: object) => BunDatabase };

// A computed specifier: no tool resolves `bun:sqlite` before run time, on Bun.
const BUN_SQLITE = ["bun", "sqlite"].join(":");

/**
 * Conveyor's SQLite store on Bun (`bun:sqlite`): one file shared by any number of processes on
 * one host. See `SqliteStore` of `@conveyor/store-sqlite-core` for the guarantees.
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
  #sqlite: BunSqlite | undefined;

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
        if (!this.#sqlite) throw new Error("SqliteBunStore: bun:sqlite is not loaded");
        return bunDriver(new this.#sqlite.Database(filename, { create: true }));
      },
    });
    this.filename = filename;
  }

  /**
   * Load `bun:sqlite`, open the file and apply missing migrations. Idempotent.
   * @throws {Error} when not running on Bun
   */
  override async connect(): Promise<void> {
    this.#sqlite ??= await import(BUN_SQLITE) as BunSqlite;
    await super.connect();
  }
}
