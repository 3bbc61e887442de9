/**
 * The driver port: the small surface of a synchronous SQLite binding that `SqliteStore` needs.
 * `node:sqlite` (Node, Deno) and `bun:sqlite` (Bun) both fit it with a few lines of glue.
 *
 * @module
 */

/** A value SQLite binds or returns. */
export type SqlValue = null | number | bigint | string | Uint8Array;

/** What running a writing statement reports. */
export interface RunResult {
  /** Rows changed by the statement. */
  changes: number | bigint;
  /** Rowid of the last inserted row. */
  lastInsertRowid: number | bigint;
}

/** A row as the driver returns it: column name → value. */
export type SqlRow = Record<string, SqlValue>;

/** A prepared statement with positional (`?`) parameters. */
export interface SqliteStatement {
  /** Run the statement; report changes and the last rowid. */
  run(...params: SqlValue[]): RunResult;
  /** The first row, or `undefined` (adapters turn a driver's `null` into `undefined`). */
  get(...params: SqlValue[]): SqlRow | undefined;
  /** Every row. */
  all(...params: SqlValue[]): SqlRow[];
}

/**
 * An open SQLite database. Every call is synchronous and runs on one connection; the store
 * opens one driver per store instance.
 *
 * @example A port over `node:sqlite`
 * ```ts
 * import { DatabaseSync } from "node:sqlite";
 * import type { SqliteDriver } from "@conveyor/store-sqlite-core";
 *
 * function open(filename: string): SqliteDriver {
 *   const db = new DatabaseSync(filename);
 *   return {
 *     exec: (sql) => db.exec(sql),
 *     prepare: (sql) => {
 *       const s = db.prepare(sql);
 *       return {
 *         run: (...p) => s.run(...p),
 *         get: (...p) => s.get(...p) as never,
 *         all: (...p) => s.all(...p) as never,
 *       };
 *     },
 *     close: () => db.close(),
 *   };
 * }
 * open(":memory:").close();
 * ```
 */
export interface SqliteDriver {
  /** Run one or more statements without parameters or results. */
  exec(sql: string): void;
  /** Compile a statement (the store caches what it prepares). */
  prepare(sql: string): SqliteStatement;
  /** Close the database. */
  close(): void;
}
