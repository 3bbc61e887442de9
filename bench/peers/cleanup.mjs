// Makes the bench database exist and removes what crashed or killed runs left behind: schemas,
// Redis keys and SQLite files named cvb_<base-36 start time>_… (only the harness uses that
// prefix). Only names older than any run can live are dropped, so two harnesses running at once
// leave each other alone. Prints one `INFO {json}` line with the servers' versions and settings
// for RESULTS.md. Run by bench/run.ts.
import { readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import pg from "pg";
import Redis from "ioredis";
import { PG_URL, REDIS_URL } from "../lib/child.ts";

/** Longer than any child may run (10 min timeout + kill grace), with a margin. */
const STALE_MS = 20 * 60_000;

/** True for a harness name whose run started long enough ago (or that has no start time). */
function stale(name) {
  const m = /^cvb_([0-9a-z]{8})/.exec(name); // Date.now() in base 36 has 8 digits until 2059
  return !m || Date.now() - parseInt(m[1], 36) > STALE_MS;
}

async function ensureDatabase() {
  const url = new URL(PG_URL);
  const name = decodeURIComponent(url.pathname.slice(1));
  url.pathname = "/postgres";
  const admin = new pg.Client({ connectionString: url.toString() });
  await admin.connect();
  try {
    const { rowCount } = await admin.query("select 1 from pg_database where datname = $1", [name]);
    if (!rowCount) await admin.query(`create database "${name.replaceAll('"', '""')}"`);
  } finally {
    await admin.end();
  }
}

async function dropLeftoverSchemas(info) {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    const settings = await client.query(
      "select name, current_setting(name) as value from unnest($1::text[]) as name",
      [["server_version", "synchronous_commit", "fsync", "shared_buffers", "max_connections"]],
    );
    for (const r of settings.rows) info[`postgres ${r.name}`] = r.value;
    const { rows } = await client.query(
      "select nspname from pg_namespace where nspname like 'cvb\\_%'",
    );
    const old = rows.map((r) => r.nspname).filter(stale);
    for (const name of old) await client.query(`drop schema if exists ${name} cascade`);
    return old.length;
  } finally {
    await client.end();
  }
}

async function dropLeftoverKeys(info) {
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  let dropped = 0;
  try {
    const server = await redis.info("server");
    info["redis version"] = /redis_version:(\S+)/.exec(server)?.[1] ?? "?";
    info["redis appendonly"] = (await redis.config("GET", "appendonly"))[1];
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", "cvb_*", "COUNT", 1000);
      cursor = next;
      const old = keys.filter(stale);
      if (old.length) dropped += await redis.unlink(...old);
    } while (cursor !== "0");
  } finally {
    redis.disconnect();
  }
  return dropped;
}

const timer = setTimeout(() => {
  console.error("cleanup: timed out");
  process.exit(3);
}, 60_000);
function dropLeftoverFiles() {
  const files = readdirSync(tmpdir()).filter((f) => f.startsWith("cvb_") && stale(f));
  for (const f of files) rmSync(`${tmpdir()}/${f}`, { force: true, recursive: true });
  return files.length;
}

const info = { node: process.versions.node };
await ensureDatabase();
const schemas = await dropLeftoverSchemas(info);
const keys = await dropLeftoverKeys(info);
const files = dropLeftoverFiles();
if (schemas || keys || files) {
  console.error(`cleanup: dropped ${schemas} schemas, ${keys} Redis keys, ${files} SQLite files`);
}
console.log("INFO " + JSON.stringify(info));
clearTimeout(timer);
