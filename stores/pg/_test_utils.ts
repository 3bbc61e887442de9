/**
 * Test helpers: the server to test against, a fresh schema per test, and `pgTest`, which skips
 * when PostgreSQL is unreachable, except under CI (env `CI` set), where the test then fails.
 *
 * @module
 */

import postgres from "postgres";
import { PgStore, type PgStoreOptions } from "./pg_store.ts";
import type { PgConnectionOptions } from "./pg_sql.ts";

/** Connection string of the test server: env `CONVEYOR_PG_URL`, else the local default. */
export const PG_URL: string = Deno.env.get("CONVEYOR_PG_URL") ??
  "postgres://postgres@127.0.0.1:5432/test";

const CI = (Deno.env.get("CI") ?? "") !== "";

async function probe(): Promise<boolean> {
  const sql = postgres(PG_URL, { max: 1, connect_timeout: 3, onnotice: () => {} });
  try {
    await sql`select 1`;
    return true;
  } catch {
    return false;
  } finally {
    await sql.end({ timeout: 1 });
  }
}

/** Whether the test server answered. */
export const reachable: boolean = await probe();

if (!reachable) {
  console.warn(
    `PostgreSQL at ${PG_URL} is unreachable: ${
      CI ? "the PgStore tests will FAIL (CI is set)" : "skipping the PgStore tests (set CI to fail)"
    }`,
  );
}

/** Register a test that needs the server (ignored when unreachable outside CI). */
export function pgTest(name: string, fn: (t: Deno.TestContext) => Promise<void>): void {
  Deno.test({ name, ignore: !reachable && !CI, fn });
}

/** A fresh schema name, unique to this run. */
export function freshSchema(prefix = "conveyor_test"): string {
  return `${prefix}_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
}

/** Run `fn` with a short-lived admin connection. */
export async function admin<T>(fn: (sql: postgres.Sql) => Promise<T>): Promise<T> {
  const sql = postgres(PG_URL, { max: 2, onnotice: () => {} });
  try {
    return await fn(sql);
  } finally {
    await sql.end({ timeout: 1 });
  }
}

/** Drop a test schema and everything in it. */
export async function dropSchema(schema: string): Promise<void> {
  await admin((sql) => sql.unsafe(`drop schema if exists "${schema}" cascade`));
}

/** A connected store on a fresh schema; `fn` gets it; disconnected and dropped afterwards. */
export async function withStore(
  fn: (store: PgStore, schema: string) => Promise<void>,
  options: Partial<PgStoreOptions> = {},
): Promise<void> {
  const schema = options.schema ?? freshSchema();
  const store = new PgStore({ connection: PG_URL, ...options, schema });
  try {
    await store.connect();
    await fn(store, schema);
  } finally {
    await store.disconnect();
    await dropSchema(schema);
  }
}

/** Sleep `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Poll `check` every 5 ms until it returns true, or fail after `timeout` ms. */
export async function eventually(
  check: () => boolean | Promise<boolean>,
  what: string,
  timeout = 2000,
): Promise<void> {
  const deadline = Date.now() + timeout;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
    await sleep(5);
  }
}

/**
 * postgres.js options for the test server whose sessions carry `applicationName`, so that
 * {@linkcode terminate} can kill them; `extra` options are added.
 */
export function namedConnection(
  applicationName: string,
  extra: Partial<PgConnectionOptions> = {},
): PgConnectionOptions {
  const url = new URL(PG_URL);
  return {
    host: url.hostname,
    port: Number(url.port || 5432),
    username: decodeURIComponent(url.username),
    password: decodeURIComponent(url.password) || undefined,
    database: url.pathname.slice(1),
    ...extra,
    connection: { application_name: applicationName },
  };
}

/** Kill every session named `applicationName` (pg_terminate_backend); returns how many. */
export function terminate(applicationName: string): Promise<number> {
  return admin(async (sql) => {
    const rows = await sql.unsafe(
      `select pg_terminate_backend(pid) from pg_stat_activity where application_name = $1`,
      [applicationName],
    );
    return rows.length;
  });
}
