/**
 * The store's life cycle: the pool (owned or the caller's), schema checks and migrations, the
 * LISTEN connection, local event delivery and transactions.
 *
 * @module
 */

import {
  ConveyorError,
  type SaveResult,
  SchemaVersionError,
  StoreClosedError,
  type StoreEvent,
  StoreNotConnectedError,
} from "@conveyor/shared";
import postgres from "postgres";
import { Coalescer } from "./_batch.ts";
import { Claimer, type Offerer, type Pipeline, type Transact } from "./_claim.ts";
import { completeJobs, type Completion, LeaseHints } from "./_finish.ts";
import { Db, type Row, type SqlLike } from "./_db.ts";
import {
  decodeParsed,
  encodePublished,
  EventHub,
  Listener,
  Outbox,
  type Payload,
} from "./_events.ts";
import { assertNotTooNew, migrate, SCHEMA_VERSION, schemaVersion } from "./_migrations.ts";
import type { InsertRecord } from "./_rows.ts";
import { insertJobs } from "./_save.ts";
import { Handoffs, unhand, withdrawAll } from "./_handoff.ts";
import type { PgStoreOptions } from "./pg_store.ts";
import type { SaveContext } from "./pg_store_transaction.ts";

/** SQLSTATEs after which a whole transaction is simply run again. */
const RETRYABLE = new Set(["40P01", "40001"]);

/** Passed-on hand-off events awaited back at most; past that the list starts over. */
const MAX_RELAYED = 1000;

function redact(text: string): string {
  return text.replace(/\/\/([^:@/\s]*):[^@/\s]*@/g, "//$1:***@");
}

/** Any thrown value as an `Error`. */
export function toError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/** What one save call got from a (coalesced) insert: its results, or its own error. */
export type Saved = { results: SaveResult[]; error?: undefined } | { error: unknown };

/** Owns the pool, the listener and the subscribers of one `PgStore`. */
export class Connection {
  readonly schema: string;
  readonly hub: EventHub;
  readonly onError: (error: Error) => void;
  /** Coalesces this store's concurrent claims. */
  readonly claimer: Claimer = new Claimer();
  /**
   * Lock tokens of flow children this store claimed and has not finished: a hint that sends a
   * batch of completions holding one straight to the full statement (see `completeJobs`).
   */
  readonly flowLeases: LeaseHints = new LeaseHints();
  /** Coalesces this store's concurrent completions into one statement. */
  readonly completions: Coalescer<Completion, boolean> = new Coalescer(async (jobs) => {
    const result = await completeJobs(this.ready(), jobs);
    this.deliver(result.events);
    return result.ok;
  }, { gather: true });
  /**
   * Coalesces this store's concurrent saves (`saveJob`, `saveBulk`) into one insert: one
   * commit and one wake-up NOTIFY for all of them. NOTIFYing commits are serialised by the
   * server, so one statement per save would cap concurrent adds at one commit at a time.
   */
  readonly saves: Coalescer<InsertRecord[], Saved> = new Coalescer(
    (calls) => this.#save(calls),
    { max: 1000, weight: (records) => records.length },
  );
  /** Jobs handed off to this store's workers, held for their next fetch. */
  readonly handoffs: Handoffs;
  readonly #options: PgStoreOptions;
  readonly #origin: string;
  /** How payloads of this store's own statements (`json_build_object`) and `publish()` begin. */
  readonly #echoSql: string;
  readonly #echoJs: string;
  #sql: postgres.Sql | undefined;
  #owned = false;
  #db: Db | undefined;
  #listener: Listener | undefined;
  #outbox: Outbox | undefined;
  #connecting: Promise<void> | undefined;
  #closed = false;
  /** Hand-off events this store passed on, dropped when they come back (see `#handedOff`). */
  readonly #relayed = new Set<string>();

  constructor(options: PgStoreOptions, schema: string) {
    this.#options = options;
    this.schema = schema;
    // A leading "~" asks the schema's emit() to NOTIFY wake-ups only (see _migrations.ts); the
    // other events are returned, and sent in batches by the outbox (unless publish is wakeups).
    this.#origin = `~${crypto.randomUUID()}`;
    this.#echoSql = `{"o" : "${this.#origin}"`;
    this.#echoJs = `{"o":"${this.#origin}"`;
    this.onError = options.onError ?? ((error) => console.error("[@conveyor/store-pg]", error));
    this.hub = new EventHub((error) => this.onError(toError(error)));
    this.handoffs = new Handoffs(this.#origin, async (job) => {
      const db = this.#db;
      if (!db) return;
      try {
        this.deliver(await unhand(db, job));
      } catch (error) {
        this.onError(
          new Error(`PgStore could not give back job "${job.id}" handed off to a worker`, {
            cause: error,
          }),
        );
      }
    });
  }

  /**
   * This store as the maker of an offer (see `_handoff.ts`): only while it listens, since the
   * job comes with the NOTIFY.
   */
  offerer(): Offerer | undefined {
    const session = this.#listener?.session;
    return session === undefined ? undefined : { origin: this.#origin, session };
  }

  /** Connect, check or migrate the schema, LISTEN. Idempotent. */
  async connect(): Promise<void> {
    if (this.#closed) throw new StoreClosedError("PgStore");
    this.#connecting ??= this.#open().catch((error) => {
      this.#connecting = undefined;
      throw error;
    });
    await this.#connecting;
  }

  async #open(): Promise<void> {
    const sql = this.#pool();
    try {
      await sql.unsafe("select 1");
    } catch (error) {
      throw this.#unreachable("connect to", error);
    }
    if (this.#options.autoMigrate === false) {
      const version = await schemaVersion(sql as unknown as SqlLike, this.schema);
      assertNotTooNew(this.schema, version);
      if (version < SCHEMA_VERSION) {
        throw new SchemaVersionError(
          `Schema "${this.schema}" is at version ${version}, this store needs ${SCHEMA_VERSION}: ` +
            `run store.migrate(), or create the store with autoMigrate: true`,
        );
      }
    } else await this.migrate();
    const prepare = (sql.options as { prepare?: boolean }).prepare !== false;
    const db = new Db(sql as unknown as SqlLike, this.schema, this.#origin, prepare);
    if (this.#options.publish !== "wakeups") {
      this.#outbox = new Outbox(
        (payloads) =>
          sql.unsafe(
            "select pg_notify($1, p) from unnest($2::text[]) as p",
            [db.channel, payloads],
            {
              prepare,
            },
          ),
        (error) => this.onError(new Error("PgStore could not publish events", { cause: error })),
      );
    }
    if (this.#options.listen !== false) {
      const listener = new Listener({
        connection: sql.options as unknown as Record<string, unknown>,
        channel: db.channel,
        onPayload: (payload) => this.#received(payload),
        handoffChannel: this.#origin,
        onHandoff: (payload) => this.#handedOff(payload),
        onResumed: () => this.#resync(),
        onError: (error) => this.onError(toError(error)),
      });
      try {
        await listener.start();
      } catch (error) {
        await listener.stop().catch(() => {});
        throw this.#unreachable("LISTEN on", error);
      }
      if (this.#closed) await listener.stop();
      else this.#listener = listener;
    }
    this.#db = db;
  }

  /** Bring the schema to the current version (works before `connect()`). */
  async migrate(): Promise<{ from: number; to: number }> {
    if (this.#closed) throw new StoreClosedError("PgStore");
    const sql = this.#pool();
    const begin = <T>(fn: (tx: SqlLike) => Promise<T>) =>
      sql.begin((tx) => fn(tx as unknown as SqlLike)) as Promise<T>;
    return await migrate(sql as unknown as SqlLike, begin, this.schema);
  }

  /** Stop listening, drop subscribers, close an owned pool. Idempotent. */
  async disconnect(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#connecting?.catch(() => {});
    // Calls already running finish (and publish); queued ones are refused by ready().
    await Promise.all([this.claimer.idle(), this.completions.idle(), this.saves.idle()]);
    if (this.#db && this.#listener) {
      // No offer is taken once this returns (a taker holds the offer's row lock until it
      // commits); the sync then brings every hand-off NOTIFY already sent, to be given back.
      await withdrawAll(this.#db).catch((error) => this.onError(toError(error)));
      await this.#listener.sync();
    }
    await this.handoffs.close();
    this.hub.clear();
    await this.#outbox?.drain();
    await this.#listener?.stop();
    this.#listener = undefined;
    this.#db = undefined;
    if (this.#owned) await this.#sql?.end({ timeout: 5 });
  }

  /** `true` after `disconnect()`. */
  get closed(): boolean {
    return this.#closed;
  }

  /** The connected handle; throws when closed or not yet connected. */
  ready(): Db {
    if (this.#closed) throw new StoreClosedError("PgStore");
    if (!this.#db) throw new StoreNotConnectedError("PgStore");
    return this.#db;
  }

  /** Run `fn` in a transaction of the pool; retried on deadlock or serialization failure. */
  readonly transact: Transact = async <T>(fn: (tx: Db) => Promise<T>): Promise<T> => {
    const db = this.ready();
    const sql = this.#sql as postgres.Sql;
    for (let attempt = 1;; attempt++) {
      try {
        return await sql.begin((tx) => fn(db.bind(tx as unknown as SqlLike, db.origin))) as T;
      } catch (error) {
        const code = String((error as { code?: unknown }).code);
        if (attempt >= 5 || !RETRYABLE.has(code)) throw error;
      }
    }
  };

  /** Run statements as one pipelined transaction on a reserved connection (see `Pipeline`). */
  readonly pipeline: Pipeline = async (steps) => {
    const db = this.ready();
    const pool = this.#sql as postgres.Sql;
    for (let attempt = 1;; attempt++) {
      const conn = await pool.reserve();
      try {
        const tx = db.bind(conn as unknown as SqlLike, db.origin);
        // Sent back to back without waiting: begin, the steps, commit. postgres.js sends a
        // query when it is first executed or awaited, so each is started in order here. After a
        // failed step the server refuses the rest and turns the commit into a rollback.
        const sent: PromiseLike<unknown>[] = [conn.unsafe("begin").execute()];
        for (const [statement, params] of steps) sent.push(tx.start(statement, params));
        sent.push(conn.unsafe("commit").execute());
        const settled = await Promise.allSettled(sent);
        const failed = settled.find((s) => s.status === "rejected");
        if (failed) throw (failed as PromiseRejectedResult).reason;
        return settled.slice(1, -1).map((s) => (s as PromiseFulfilledResult<Row[]>).value);
      } catch (error) {
        const code = String((error as { code?: unknown }).code);
        if (attempt >= 5 || !RETRYABLE.has(code)) throw error;
      } finally {
        conn.release();
      }
    }
  };

  /**
   * Insert with `early` visibility (see `insertJobs`) on a connection reserved for the insert
   * and its flush; a deadlock or serialization failure falls back to the plain insert, which
   * retries.
   */
  async #insert(records: InsertRecord[]) {
    const db = this.ready();
    const conn = await (this.#sql as postgres.Sql).reserve();
    try {
      return await insertJobs(db.bind(conn as unknown as SqlLike, db.origin), records, true);
    } catch (error) {
      if (!RETRYABLE.has(String((error as { code?: unknown }).code))) throw error;
    } finally {
      conn.release();
    }
    return await insertJobs(db, records);
  }

  /**
   * One insert for the records of several calls; each call gets its own results, as if the
   * calls had run one after another. When a merged insert fails, each call runs alone, so an
   * error reaches only the call that caused it.
   */
  async #save(calls: InsertRecord[][]): Promise<Saved[]> {
    if (calls.length > 1) {
      let saved;
      try {
        saved = await this.#insert(calls.flat());
      } catch {
        saved = undefined;
      }
      if (saved) {
        this.#deliverSaved(saved.events);
        const out: Saved[] = [];
        let from = 0;
        for (const records of calls) {
          out.push({ results: saved.results.slice(from, from + records.length) });
          from += records.length;
        }
        return out;
      }
    }
    return await Promise.all(calls.map(async (records): Promise<Saved> => {
      try {
        const saved = await this.#insert(records);
        this.#deliverSaved(saved.events);
        return { results: saved.results };
      } catch (error) {
        return { error };
      }
    }));
  }

  /** Deliver the payloads of this store's insert, one of which may hand a job to this store. */
  #deliverSaved(payloads: readonly unknown[]): void {
    for (const payload of payloads) this.handoffs.receive(payload);
    this.deliver(payloads);
  }

  /** How the store's own saves run and deliver their events. */
  saving(): SaveContext {
    return { db: this.ready(), atomic: this.transact, deliver: (p) => this.deliver(p) };
  }

  /**
   * Deliver payloads of this store's own committed statements: to local subscribers at once,
   * and (lifecycle events, batched) to other processes. Wake-ups were sent by the statement.
   */
  deliver(payloads: readonly unknown[]): void {
    const lifecycle = this.hub.dispatchPayloads(payloads);
    if (lifecycle.length > 0) this.#outbox?.push(lifecycle);
  }

  /** Publish an event: to local subscribers at once, and over NOTIFY to other processes. */
  async publish(event: StoreEvent): Promise<void> {
    const db = this.ready();
    this.hub.dispatch(event);
    await db.sql.unsafe("select pg_notify($1, $2)", [
      db.channel,
      encodePublished(this.#origin, event),
    ], { prepare: db.prepare });
  }

  #received(payload: string): void {
    // Echoes of this store's own payloads (delivered when their statement returned) are dropped
    // before parsing: their origin leads the payload (`emit()` and `encodePublished` both).
    const head = payload.slice(0, 64);
    if (head.startsWith(this.#echoSql) || head.startsWith(this.#echoJs)) return;
    if (this.#relayed.size > 0 && this.#relayed.delete(payload)) return;
    try {
      const parsed = JSON.parse(payload) as Payload;
      // A hand-off on this channel comes from a store of schema version 3 (see _migrations.ts).
      this.handoffs.hold(parsed.h);
      const { origin, events } = decodeParsed(parsed);
      if (origin === this.#origin) return; // delivered when the statement returned
      for (const event of events) this.hub.dispatch(event);
    } catch (error) {
      this.onError(new Error(`PgStore received a bad event payload: ${payload}`, { cause: error }));
    }
  }

  /**
   * A payload on this store's own channel: a job handed off to one of its workers, which no
   * other process was woken for. Its `waiting` event goes to this store's subscribers (the
   * worker wakes and takes the job) and, without the job, on to the other processes, ahead of
   * the `active` event of the worker's fetch.
   */
  #handedOff(payload: string): void {
    // This store's own add, delivered with the insert's result.
    if (payload.startsWith(this.#echoSql)) return;
    try {
      const parsed = JSON.parse(payload) as Payload;
      this.handoffs.hold(parsed.h);
      delete parsed.h;
      if (this.#outbox) {
        // Its origin is the adding store's, which drops it as its own echo; this store drops
        // it on its way back by its text.
        const relay = JSON.stringify(parsed);
        if (this.#relayed.size >= MAX_RELAYED) this.#relayed.clear();
        this.#relayed.add(relay);
        this.#outbox.push([relay]);
      }
      for (const event of decodeParsed(parsed).events) this.hub.dispatch(event);
    } catch (error) {
      this.onError(
        new Error(`PgStore received a bad hand-off payload: ${payload}`, { cause: error }),
      );
    }
  }

  /** LISTEN is back after a lost connection: wake every subscribed queue (events were missed). */
  #resync(): void {
    for (const queueName of this.hub.queues()) {
      this.hub.dispatch({ type: "waiting", queueName, detail: { resync: true } });
    }
  }

  #pool(): postgres.Sql {
    if (this.#sql) return this.#sql;
    const c = this.#options.connection;
    try {
      if (typeof c === "function") this.#sql = c as unknown as postgres.Sql;
      else {
        const defaults = { onnotice: () => {}, connect_timeout: 10 };
        this.#sql = typeof c === "string"
          ? postgres(c, defaults)
          : postgres({ ...defaults, ...c } as never);
        this.#owned = true;
      }
    } catch (error) {
      throw new ConveyorError(
        "STORE_ERROR",
        `PgStore cannot use connection ${
          typeof c === "string" ? JSON.stringify(redact(c)) : "options"
        }: ${redact(toError(error).message)}`,
        { cause: error },
      );
    }
    return this.#sql;
  }

  #unreachable(what: string, error: unknown): ConveyorError {
    const o = this.#sql?.options as
      | { host?: string[]; port?: number[]; user?: string; database?: string }
      | undefined;
    const hosts = (o?.host ?? []).map((h, i) => `${h}:${o?.port?.[i] ?? o?.port?.[0] ?? 5432}`);
    const target = `postgres://${o?.user ?? ""}@${hosts.join(",")}/${o?.database ?? ""}`;
    const e = toError(error);
    const code = (error as { code?: unknown }).code;
    return new ConveyorError(
      "STORE_ERROR",
      `PgStore cannot ${what} ${target}: ${redact(e.message)}${code ? ` (${code})` : ""}`,
      { cause: error },
    );
  }
}

/** Deliver the events of a statement's result (see `Connection.deliver`), and return it. */
export function deliver<T extends { events: readonly unknown[] }>(c: Connection, result: T): T {
  c.deliver(result.events);
  return result;
}
