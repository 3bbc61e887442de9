/**
 * Options of the SQLite stores, and their checks.
 *
 * @module
 */

import type { SqliteDriver } from "./driver.ts";
import type { ConnectionSettings } from "./_connection.ts";

/** Options every SQLite store takes (the runtime adapters add the file name). */
export interface SqliteStoreOptions {
  /**
   * Prefix of every table and index name, so several stores can share one database file.
   * Letters, digits and `_`, starting with a letter or `_`.
   * @default "conveyor_"
   */
  tablePrefix?: string;
  /**
   * How often (ms) a store with subscribers looks for events that other processes committed
   * (e.g. `waiting`, so idle workers there wake up). In-process listeners get events at once.
   * @default 200
   */
  pollInterval?: number;
  /**
   * How long (ms) SQLite waits for another connection's write lock before reporting
   * SQLITE_BUSY (the store then retries the whole operation).
   * @default 5000
   */
  busyTimeout?: number;
  /**
   * How long (ms) event rows stay in the events table for other processes to poll.
   * @default 60000
   */
  eventRetention?: number;
  /**
   * Receives errors that belong to no call (a failed event poll).
   * @default nothing
   */
  onError?: (error: unknown) => void;
}

/** Options of {@linkcode SqliteStore} itself: the common options plus the driver. */
export interface SqliteCoreOptions extends SqliteStoreOptions {
  /** Opens the database (called once, by `connect()`). */
  open: () => SqliteDriver;
  /**
   * Name of the store in error messages.
   * @default "SqliteStore"
   */
  name?: string;
}

function positive(value: number | undefined, what: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
    throw new RangeError(`${what} must be a positive number of ms, got ${String(value)}`);
  }
  return value;
}

/** Check the options and resolve their defaults. */
export function resolveOptions(options: SqliteCoreOptions): ConnectionSettings {
  if (typeof options?.open !== "function") {
    throw new TypeError("SqliteStore needs options.open: a function that opens the database");
  }
  const prefix = options.tablePrefix ?? "conveyor_";
  if (typeof prefix !== "string" || !/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(prefix)) {
    throw new RangeError(
      `tablePrefix must be letters, digits and "_", starting with a letter or "_", got ${
        JSON.stringify(prefix)
      }`,
    );
  }
  return {
    name: options.name ?? "SqliteStore",
    open: options.open,
    prefix,
    pollInterval: positive(options.pollInterval, "pollInterval", 200),
    busyTimeout: positive(options.busyTimeout, "busyTimeout", 5000),
    eventRetention: positive(options.eventRetention, "eventRetention", 60_000),
    onError: options.onError ?? (() => {}),
  };
}
