/**
 * The store's view of its database: table names with the store's prefix, a statement cache,
 * and the per-transaction context (`Tx`) every operation runs in.
 *
 * @module
 */

import type { StoreEvent, StoreEventType } from "@conveyor/shared";
import type { SqliteDriver, SqliteStatement, SqlRow, SqlValue } from "./driver.ts";

/** Whether an error is SQLite's "database is locked" (SQLITE_BUSY) or "table locked". */
export function isBusy(err: unknown): boolean {
  if (typeof err !== "object" || err === null) return false;
  const e = err as { code?: unknown; errcode?: unknown; errno?: unknown; message?: unknown };
  const primary = (n: unknown) => typeof n === "number" && ((n & 0xff) === 5 || (n & 0xff) === 6);
  if (primary(e.errcode) || primary(e.errno)) return true;
  if (e.code === "SQLITE_BUSY" || e.code === "SQLITE_LOCKED") return true;
  return typeof e.message === "string" && /database (table )?is locked/i.test(e.message);
}

/** The database of one store: prefixed table names and cached statements. */
export class Db {
  /** The driver. */
  readonly driver: SqliteDriver;
  /** Prefix of every table and index name. */
  readonly prefix: string;
  #cache: Map<string, SqliteStatement> = new Map();

  /**
   * Wrap an open driver.
   * @param driver the open database
   * @param prefix table name prefix
   */
  constructor(driver: SqliteDriver, prefix: string) {
    this.driver = driver;
    this.prefix = prefix;
  }

  /** SQL with `{name}` replaced by the prefixed table or index name. */
  sql(text: string): string {
    return text.replace(/\{(\w+)\}/g, (_, name) => this.prefix + name);
  }

  /** Run statements without parameters (prefix applied). */
  exec(text: string): void {
    this.driver.exec(this.sql(text));
  }

  /** The cached prepared statement for `text` (prefix applied). */
  stmt(text: string): SqliteStatement {
    let s = this.#cache.get(text);
    if (!s) this.#cache.set(text, s = this.driver.prepare(this.sql(text)));
    return s;
  }

  /** Run a writing statement; returns the number of changed rows. */
  run(text: string, ...params: SqlValue[]): number {
    return Number(this.stmt(text).run(...params).changes);
  }

  /** The first row, or `undefined`. */
  get<T = SqlRow>(text: string, ...params: SqlValue[]): T | undefined {
    return (this.stmt(text).get(...params) ?? undefined) as T | undefined;
  }

  /** Every row. */
  all<T = SqlRow>(text: string, ...params: SqlValue[]): T[] {
    return this.stmt(text).all(...params) as T[];
  }

  /** Drop cached statements and close the driver. */
  close(): void {
    this.#cache.clear();
    this.driver.close();
  }
}

/** One transaction of one operation: the database, the time it runs at, events it publishes. */
export class Tx {
  /** The database. */
  readonly db: Db;
  /** The store's clock, read once per operation. */
  readonly now: number;
  /** Events to deliver in-process once the transaction commits. */
  readonly events: StoreEvent[] = [];
  #origin: string;
  #crossProcess: boolean;

  /**
   * Start a context.
   * @param db the database
   * @param now the time of the operation
   * @param origin id of the store instance (its own events are not polled back)
   * @param crossProcess whether events are written for other processes
   */
  constructor(db: Db, now: number, origin: string, crossProcess: boolean) {
    this.db = db;
    this.now = now;
    this.#origin = origin;
    this.#crossProcess = crossProcess;
  }

  /** Publish an event: delivered in-process after commit, and written for other processes. */
  emit(event: StoreEvent): void {
    this.events.push(event);
    if (this.#crossProcess) {
      this.db.run(
        "INSERT INTO {events} (origin, queue, at, event) VALUES (?, ?, ?, ?)",
        this.#origin,
        event.queueName,
        this.now,
        JSON.stringify(event),
      );
    }
  }

  /** Publish an event about one job. */
  emitJob(
    queueName: string,
    jobId: string,
    jobName: string,
    type: StoreEventType,
    detail?: StoreEvent["detail"],
  ): void {
    const event: StoreEvent = { type, queueName, jobId, jobName };
    if (detail) event.detail = detail;
    this.emit(event);
  }
}
