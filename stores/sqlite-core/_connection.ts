/**
 * The connection of one store: opening (pragmas, migrations), the `BEGIN IMMEDIATE`
 * transactions every change runs in (retried on SQLITE_BUSY), reads, events, and closing.
 *
 * @module
 */

import { StoreClosedError, type StoreEvent, StoreNotConnectedError } from "@conveyor/shared";
import { Db, isBusy, Tx } from "./_db.ts";
import { EventHub, EventPoller } from "./_events.ts";
import { configure, migrate } from "./_schema.ts";
import type { SqliteDriver } from "./driver.ts";

/** Resolved settings of a connection. */
export interface ConnectionSettings {
  /** Name of the store class, for error messages. */
  name: string;
  /** Opens the database. */
  open: () => SqliteDriver;
  /** Table name prefix. */
  prefix: string;
  /** Poll interval (ms) for other processes' events. */
  pollInterval: number;
  /** SQLite busy timeout (ms). */
  busyTimeout: number;
  /** How long (ms) event rows are kept for other processes. */
  eventRetention: number;
  /** Errors that belong to no call (a failed poll). */
  onError: (err: unknown) => void;
}

const MAX_RETRIES = 50;
const PRUNE_EVERY = 256;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Opens, runs transactions on, and closes one store's database. */
export class Connection {
  /** In-process listeners. */
  readonly hub: EventHub = new EventHub();
  /** This instance's id in the events table. */
  readonly origin: string = crypto.randomUUID();
  #s: ConnectionSettings;
  #db: Db | undefined;
  #poller: EventPoller | undefined;
  #opening: Promise<void> | undefined;
  #closed = false;
  #sincePrune = 0;

  /**
   * Create a connection; nothing opens before {@linkcode Connection.connect}.
   * @param settings resolved store options
   */
  constructor(settings: ConnectionSettings) {
    this.#s = settings;
  }

  /** Open the database and bring the schema up to date. Idempotent. */
  connect(): Promise<void> {
    if (this.#closed) return Promise.reject(new StoreClosedError(this.#s.name));
    this.#opening ??= this.#open();
    return this.#opening;
  }

  async #open(): Promise<void> {
    const db = new Db(this.#s.open(), this.#s.prefix);
    try {
      for (let attempt = 0;; attempt++) {
        try {
          // switching a new file to WAL needs its lock too: retried like the migrations
          configure(db, this.#s.busyTimeout);
          db.driver.exec("BEGIN IMMEDIATE");
          try {
            migrate(db, Date.now());
            db.driver.exec("COMMIT");
          } catch (err) {
            db.driver.exec("ROLLBACK");
            throw err;
          }
          break;
        } catch (err) {
          if (!isBusy(err) || attempt >= MAX_RETRIES) throw err;
          await sleep(backoff(attempt));
        }
      }
    } catch (err) {
      db.close();
      this.#opening = undefined;
      throw err;
    }
    if (this.#closed) {
      db.close();
      throw new StoreClosedError(this.#s.name);
    }
    this.#db = db;
    this.#poller = new EventPoller(
      db,
      this.hub,
      this.origin,
      this.#s.pollInterval,
      this.#s.onError,
    );
    this.#poller.update();
  }

  /** The open database; throws `StoreClosedError` or `StoreNotConnectedError`. */
  db(): Db {
    if (this.#closed) throw new StoreClosedError(this.#s.name);
    if (!this.#db) throw new StoreNotConnectedError(this.#s.name);
    return this.#db;
  }

  /** Whether `disconnect()` was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Run `body` in a `BEGIN IMMEDIATE` transaction, retrying the whole of it on SQLITE_BUSY.
   * Events it emitted are delivered in-process once it commits.
   */
  async write<T>(body: (tx: Tx) => T): Promise<T> {
    for (let attempt = 0;; attempt++) {
      const db = this.db();
      const tx = new Tx(db, Date.now(), this.origin, true);
      let began = false;
      try {
        db.driver.exec("BEGIN IMMEDIATE");
        began = true;
        if (++this.#sincePrune >= PRUNE_EVERY) {
          this.#sincePrune = 0;
          db.run("DELETE FROM {events} WHERE at < ?", tx.now - this.#s.eventRetention);
        }
        const out = body(tx);
        db.driver.exec("COMMIT");
        for (const event of tx.events) this.hub.publish(event);
        return out;
      } catch (err) {
        if (began) {
          try {
            db.driver.exec("ROLLBACK");
          } catch {
            // the transaction was already rolled back by SQLite
          }
        }
        if (!isBusy(err) || attempt >= MAX_RETRIES) throw err;
      }
      await sleep(backoff(attempt));
    }
  }

  /** Run a read (no transaction needed for one statement), retrying on SQLITE_BUSY. */
  async read<T>(body: (db: Db, now: number) => T): Promise<T> {
    for (let attempt = 0;; attempt++) {
      try {
        return body(this.db(), Date.now());
      } catch (err) {
        if (!isBusy(err) || attempt >= MAX_RETRIES) throw err;
      }
      await sleep(backoff(attempt));
    }
  }

  /** Publish an event: to this process's listeners and, through the table, to others. */
  publish(event: StoreEvent): Promise<void> {
    return this.write((tx) => tx.emit(event));
  }

  /** Start or stop polling after listeners changed. */
  listenersChanged(): void {
    this.#poller?.update();
  }

  /** Close the database and stop timers; later calls reject with `StoreClosedError`. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#poller?.stop();
    this.hub.close();
    if (this.#opening) await this.#opening.catch(() => {});
    this.#db?.close();
    this.#db = undefined;
  }
}

function backoff(attempt: number): number {
  return Math.min(2 + attempt * 5, 100) * (0.5 + Math.random());
}
