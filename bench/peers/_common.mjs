// Helpers shared by the peer adapters (Node 22).
import { readFileSync } from "node:fs";
import pg from "pg";
import { PG_URL } from "../lib/child.ts";

/** The installed version of an npm package in bench/node_modules. */
export function versionOf(name) {
  const url = new URL(`../node_modules/${name}/package.json`, import.meta.url);
  return JSON.parse(readFileSync(url, "utf8")).version;
}

/** Versions of the runtime and the given packages, for RESULTS.md. */
export function versions(...names) {
  return {
    node: process.versions.node,
    ...Object.fromEntries(names.map((n) => [n, versionOf(n)])),
  };
}

/** Runs one SQL statement on a short-lived connection to the bench database. */
export async function sql(text, params = []) {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    return (await client.query(text, params)).rows;
  } finally {
    await client.end();
  }
}

/** Drops a schema the run created (names come from runName(): bare identifiers). */
export function dropSchema(schema) {
  return sql(`drop schema if exists ${schema} cascade`);
}

/** A small pool for the harness's own counting queries, separate from the system's pool. */
export function countPool() {
  return new pg.Pool({ connectionString: PG_URL, max: 1 });
}

/** The `n` of a `select count(*)::int as n ...` query. */
export async function countRows(pool, text, params = []) {
  const { rows } = await pool.query(text, params);
  return rows[0].n;
}
