/**
 * The postgres.js shapes `PgStore` accepts, described structurally so that any postgres.js
 * `sql` (whatever its custom types) fits.
 *
 * @module
 */

/** A query of postgres.js: awaitable for rows, or `.values()` for rows as arrays. */
export interface PgQuery extends PromiseLike<unknown> {
  /** Rows as arrays of values, in select-list order. */
  values(): PromiseLike<unknown>;
  /** Send the query now (postgres.js sends queries in the order they are first started). */
  execute?(): unknown;
}

/**
 * A postgres.js transaction `sql` (the argument of `sql.begin((tx) => ...)`), a reserved
 * connection, or any postgres.js `sql`: what the store needs is `unsafe`.
 */
export interface PgTransactionSql {
  /** Run `query` with positional parameters (`$1`, `$2`, ...): postgres.js `sql.unsafe`. */
  unsafe(
    query: string,
    // deno-lint-ignore no-explicit-any
    parameters?: any[],
    options?: { prepare?: boolean },
  ): PgQuery;
}

/** A postgres.js `sql` instance (`postgres(url)`), shared with the store. */
export interface PgSql extends PgTransactionSql {
  /** postgres.js `sql.begin`. */
  // deno-lint-ignore no-explicit-any
  begin(fn: (tx: any) => any): Promise<any>;
  /** postgres.js `sql.reserve`. */
  // deno-lint-ignore no-explicit-any
  reserve(): Promise<any>;
  /** postgres.js `sql.end`. */
  end(options?: { timeout?: number }): Promise<void>;
  /** The parsed options of the instance. */
  readonly options: object;
}

/**
 * postgres.js connection options: anything `postgres(options)` accepts. The common ones are
 * listed; see the postgres.js documentation for the rest.
 */
export interface PgConnectionOptions {
  /** Host name(s). @default "localhost" (or PGHOST) */
  host?: string | string[];
  /** Port(s). @default 5432 (or PGPORT) */
  port?: number | number[];
  /** Database name. @default the user name (or PGDATABASE) */
  database?: string;
  /** User name. @default the OS user (or PGUSER) */
  username?: string;
  /** Password, or a function returning it. @default none (or PGPASSWORD) */
  password?: string | (() => string | Promise<string>);
  /** TLS: `true`, `"require"`, `"prefer"`, or Node TLS options. @default false */
  ssl?: unknown;
  /** Pool size. @default 10 */
  max?: number;
  /** Seconds before an idle connection closes. @default never */
  idle_timeout?: number;
  /** Seconds to wait for a connection. @default 10 in PgStore (30 in postgres.js) */
  connect_timeout?: number;
  /** Named prepared statements (turn off behind PgBouncer in transaction mode). @default true */
  prepare?: boolean;
  /** Any other postgres.js option. */
  [option: string]: unknown;
}
