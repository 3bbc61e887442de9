/**
 * The store's handle on PostgreSQL: a postgres.js `sql` (the pool, or a transaction), the
 * quoted schema every statement names, and the origin stamped on the events it publishes.
 *
 * Statements are module-level functions of the quoted schema (`(s) => "select ... from " + s
 * + ".jobs"`); {@linkcode Db.query} renders each once per schema and runs it as a prepared
 * statement with its parameters. Queue names, job names and ids are always parameters.
 *
 * @module
 */

import type { PgTransactionSql } from "./pg_sql.ts";

/** A statement: SQL text for the (already quoted) schema `s`. */
export type Statement = (s: string) => string;

/** One row as postgres.js returns it. */
export type Row = Record<string, unknown>;

/** What the store needs from postgres.js: see `pg_sql.ts`. */
export type SqlLike = PgTransactionSql;

/** SQLSTATEs after which a statement run outside a caller's transaction is simply retried. */
const RETRYABLE = new Set(["40P01", "40001"]); // deadlock_detected, serialization_failure

/** Quote a validated schema name as an SQL identifier. */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** Bound to a pool or a transaction; cheap to derive (shares the rendered statements). */
export class Db {
  /** The pool, a transaction or a reserved connection. */
  readonly sql: SqlLike;
  /** The schema name as given (unquoted). */
  readonly schema: string;
  /** The quoted schema, for statement text. */
  readonly s: string;
  /** NOTIFY channel of this schema. */
  readonly channel: string;
  /** Stamped on published events; `""` inside a caller's transaction (delivered after commit). */
  readonly origin: string;
  /** Whether statements run as named prepared statements. */
  readonly prepare: boolean;
  /** `true` inside a transaction: no automatic retries. */
  readonly inTransaction: boolean;
  readonly #texts: Map<Statement, string>;

  constructor(
    sql: SqlLike,
    schema: string,
    origin: string,
    prepare: boolean,
    inTransaction = false,
    texts: Map<Statement, string> = new Map(),
  ) {
    this.sql = sql;
    this.schema = schema;
    this.s = quoteIdent(schema);
    this.channel = channelOf(schema);
    this.origin = origin;
    this.prepare = prepare;
    this.inTransaction = inTransaction;
    this.#texts = texts;
  }

  /** The same store bound to `sql` (a transaction), publishing with `origin`. */
  bind(sql: SqlLike, origin: string): Db {
    return new Db(sql, this.schema, origin, this.prepare, true, this.#texts);
  }

  /** Render a statement for this schema (once). */
  text(statement: Statement): string {
    let text = this.#texts.get(statement);
    if (text === undefined) {
      text = statement(this.s);
      this.#texts.set(statement, text);
    }
    return text;
  }

  /** Run a statement; rows as objects. */
  query(statement: Statement, params: unknown[] = []): Promise<Row[]> {
    return this.#retry(() =>
      this.sql.unsafe(this.text(statement), params, { prepare: this.prepare })
    )
      .then((rows) => rows as Row[]);
  }

  /**
   * Send a statement at once, without retries: statements started one after another on one
   * connection are sent (and run) in that order, which `Connection.pipeline` relies on.
   */
  start(statement: Statement, params: unknown[] = []): PromiseLike<Row[]> {
    const query = this.sql.unsafe(this.text(statement), params, { prepare: this.prepare });
    query.execute?.();
    return query as PromiseLike<Row[]>;
  }

  /** Run a statement; rows as arrays (immune to a caller's column-name transforms). */
  values(statement: Statement, params: unknown[] = []): Promise<unknown[][]> {
    return this.#retry(() =>
      this.sql.unsafe(this.text(statement), params, { prepare: this.prepare }).values()
    ).then((rows) => rows as unknown[][]);
  }

  async #retry(run: () => PromiseLike<unknown>): Promise<unknown> {
    for (let attempt = 1;; attempt++) {
      try {
        return await run();
      } catch (error) {
        const code = (error as { code?: unknown }).code;
        if (this.inTransaction || attempt >= 5 || !RETRYABLE.has(String(code))) throw error;
      }
    }
  }
}

/** The NOTIFY channel of a schema. */
export function channelOf(schema: string): string {
  return `${schema}:events`;
}

/** A bigint column (postgres.js returns text, or a BigInt with custom types) as a number. */
export function num(value: unknown): number {
  return typeof value === "number" ? value : Number(value);
}

/** A nullable bigint column as a number or `null`. */
export function numOrNull(value: unknown): number | null {
  return value === null || value === undefined ? null : num(value);
}
