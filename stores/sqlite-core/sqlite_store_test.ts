import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { createNewJob, isConveyorError, type StoreEvent } from "@conveyor/shared";
import { SCHEMA_VERSION, type SqliteDriver, SqliteStore, type SqlRow } from "./mod.ts";

function nodeDriver(filename: string): SqliteDriver {
  const db = new DatabaseSync(filename);
  return {
    exec: (sql) => db.exec(sql),
    prepare(sql) {
      const s = db.prepare(sql);
      return {
        run: (...p) => s.run(...p),
        get: (...p) => s.get(...p) as SqlRow | undefined,
        all: (...p) => s.all(...p) as SqlRow[],
      };
    },
    close: () => db.close(),
  };
}

async function withFile(fn: (file: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "conveyor-sqlite-test-" });
  try {
    await fn(`${dir}/jobs.db`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function store(file: string, opts: { tablePrefix?: string; pollInterval?: number } = {}) {
  return new SqliteStore({ ...opts, open: () => nodeDriver(file) });
}

const job = (id: string, name = "task") => createNewJob(name, { id }, { jobId: id });

Deno.test("SqliteStore creates the schema once and records each migration", async () => {
  await withFile(async (file) => {
    const a = store(file);
    await a.connect();
    await a.connect();
    await a.saveJob("q", await job("1"));
    await a.disconnect();
    const b = store(file);
    await b.connect();
    assert.equal(await b.countJobs("q"), 1, "a second store sees the first one's jobs");
    await b.disconnect();
    const db = new DatabaseSync(file);
    const rows = db.prepare("SELECT version FROM conveyor_migrations ORDER BY version").all();
    assert.deepEqual(rows.map((r) => r.version), [...Array(SCHEMA_VERSION)].map((_, i) => i + 1));
    assert.equal(db.prepare("PRAGMA journal_mode").get()?.journal_mode, "wal");
    db.close();
  });
});

Deno.test("SqliteStore refuses a schema newer than it knows with SchemaVersionError", async () => {
  await withFile(async (file) => {
    const a = store(file);
    await a.connect();
    await a.disconnect();
    const db = new DatabaseSync(file);
    db.prepare("INSERT INTO conveyor_migrations (version, applied_at) VALUES (?, ?)")
      .run(SCHEMA_VERSION + 1, Date.now());
    db.close();
    const b = store(file);
    await assert.rejects(() => b.connect(), (e) => isConveyorError(e, "SCHEMA_VERSION"));
    await b.disconnect();
  });
});

Deno.test("SqliteStore keeps stores with different table prefixes apart in one file", async () => {
  await withFile(async (file) => {
    const a = store(file, { tablePrefix: "app_a_" });
    const b = store(file, { tablePrefix: "app_b_" });
    await a.connect();
    await b.connect();
    await a.saveJob("q", await job("1"));
    assert.equal(await a.countJobs("q"), 1);
    assert.equal(await b.countJobs("q"), 0);
    await a.disconnect();
    await b.disconnect();
  });
  assert.throws(() => store(":memory:", { tablePrefix: "bad; drop" }), RangeError);
});

Deno.test("SqliteStore methods reject with StoreNotConnectedError before connect", async () => {
  const s = store(":memory:");
  await assert.rejects(() => s.countJobs("q"), (e) => isConveyorError(e, "STORE_NOT_CONNECTED"));
  await s.disconnect();
});

Deno.test("fetchNextJobs from two store instances on one file never leases one job twice", async () => {
  await withFile(async (file) => {
    const a = store(file);
    const b = store(file);
    await a.connect();
    await b.connect();
    const ids = Array.from({ length: 300 }, (_, i) => `j${i}`);
    await a.saveBulk("q", await Promise.all(ids.map((id) => job(id))));
    const claimed: string[] = [];
    const loop = async (s: SqliteStore, worker: string) => {
      for (;;) {
        const got = await s.fetchNextJobs("q", worker, 60_000, 7, { groupConcurrency: 5 });
        if (got.length === 0) return;
        claimed.push(...got.map((j) => j.id));
        await new Promise((r) => setTimeout(r, 0));
      }
    };
    await Promise.all([loop(a, "a1"), loop(b, "b1"), loop(a, "a2"), loop(b, "b2")]);
    assert.equal(claimed.length, 300);
    assert.deepEqual([...new Set(claimed)].sort(), [...ids].sort());
    assert.equal(await b.getActiveCount("q"), 300);
    await a.disconnect();
    await b.disconnect();
  });
});

Deno.test("SqliteStore claims from two processes on one file never lease one job twice", async () => {
  await withFile(async (file) => {
    const seed = store(file);
    await seed.connect();
    const ids = Array.from({ length: 200 }, (_, i) => `p${i}`);
    await seed.saveBulk("q", await Promise.all(ids.map((id) => job(id))));
    await seed.disconnect();
    const worker = new URL("./_claim_worker_test_helper.ts", import.meta.url).pathname;
    const run = () =>
      new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", worker, file],
        stdout: "piped",
        stderr: "inherit",
      }).output();
    const outputs = await Promise.all([run(), run(), run()]);
    const claimed: string[] = [];
    for (const out of outputs) {
      assert.equal(out.code, 0);
      claimed.push(...JSON.parse(new TextDecoder().decode(out.stdout)) as string[]);
    }
    assert.equal(claimed.length, 200, "every job claimed once across processes");
    assert.deepEqual([...new Set(claimed)].sort(), [...ids].sort());
  });
});

Deno.test("SqliteStore delivers another instance's events by polling", async () => {
  await withFile(async (file) => {
    const writer = store(file);
    const reader = store(file, { pollInterval: 20 });
    await writer.connect();
    await reader.connect();
    const events: StoreEvent[] = [];
    reader.subscribe("q", (e) => events.push(e));
    await writer.saveJob("q", await job("1"));
    await writer.pauseJobName("q", "send");
    const deadline = Date.now() + 2000;
    while (events.length < 2 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.deepEqual(events.map((e) => [e.type, e.jobId ?? e.jobName]), [
      ["waiting", "1"],
      ["paused", "send"],
    ]);
    // the reader's own events reach it once (in-process), not again through the table
    await reader.saveJob("q", await job("2"));
    await writer.saveJob("q", await job("3"));
    while (events.length < 4 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 10));
    }
    await new Promise((r) => setTimeout(r, 60));
    assert.deepEqual(events.slice(2).map((e) => e.jobId), ["2", "3"]);
    await reader.disconnect();
    await writer.disconnect();
  });
});
