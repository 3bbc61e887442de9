import assert from "node:assert/strict";
import { createNewJob, isConveyorError, SchemaVersionError } from "@conveyor/shared";
import type { SqlLike } from "./_db.ts";
import { migrate, SCHEMA_VERSION } from "./_migrations.ts";
import { PgStore } from "./pg_store.ts";
import { admin, dropSchema, freshSchema, PG_URL, pgTest } from "./_test_utils.ts";

pgTest("migrate creates the schema once when many stores connect at the same time", async () => {
  const schema = freshSchema();
  const stores = Array.from({ length: 8 }, () => new PgStore({ connection: PG_URL, schema }));
  try {
    await Promise.all(stores.map((s) => s.connect()));
    const rows = await admin((sql) =>
      sql.unsafe(`select version from "${schema}".migrations order by version`)
    );
    assert.deepEqual(
      rows.map((r) => r.version),
      Array.from({ length: SCHEMA_VERSION }, (_, i) => i + 1),
    );
    // Every store works on the one schema.
    const results = await Promise.all(stores.map((s, i) => s.countJobs(`q${i}`)));
    assert.deepEqual(results, new Array(8).fill(0));
  } finally {
    await Promise.all(stores.map((s) => s.disconnect()));
    await dropSchema(schema);
  }
});

pgTest("migrate reports the versions and is idempotent", async () => {
  const schema = freshSchema();
  const store = new PgStore({ connection: PG_URL, schema });
  try {
    assert.deepEqual(await store.migrate(), { from: 0, to: SCHEMA_VERSION });
    assert.deepEqual(await store.migrate(), { from: SCHEMA_VERSION, to: SCHEMA_VERSION });
    await store.connect();
    assert.equal(await store.countJobs("q"), 0);
  } finally {
    await store.disconnect();
    await dropSchema(schema);
  }
});

pgTest("connect refuses a schema newer than this store knows", async () => {
  const schema = freshSchema();
  const first = new PgStore({ connection: PG_URL, schema });
  const second = new PgStore({ connection: PG_URL, schema });
  try {
    await first.migrate();
    await admin((sql) =>
      sql.unsafe(`insert into "${schema}".migrations (version, name) values (999, 'future')`)
    );
    await assert.rejects(() => second.connect(), (error) => {
      assert.ok(error instanceof SchemaVersionError);
      assert.ok(isConveyorError(error, "SCHEMA_VERSION"));
      assert.match((error as Error).message, /version 999/);
      return true;
    });
    await assert.rejects(() => first.migrate(), SchemaVersionError);
    const noMigrate = new PgStore({ connection: PG_URL, schema, autoMigrate: false });
    await assert.rejects(() => noMigrate.connect(), SchemaVersionError);
    await noMigrate.disconnect();
  } finally {
    await first.disconnect();
    await second.disconnect();
    await dropSchema(schema);
  }
});

pgTest("autoMigrate false refuses an unmigrated schema until migrate() runs", async () => {
  const schema = freshSchema();
  const store = new PgStore({ connection: PG_URL, schema, autoMigrate: false });
  try {
    await assert.rejects(() => store.connect(), /call|run store\.migrate\(\)/);
    const [exists] = await admin((sql) =>
      sql.unsafe("select count(*)::int as n from pg_namespace where nspname = $1", [schema])
    );
    assert.equal(exists.n, 0, "nothing was created");
    await store.migrate();
    await store.connect();
    assert.equal(await store.countJobs("q"), 0);
  } finally {
    await store.disconnect();
    await dropSchema(schema);
  }
});

pgTest("upgrading a version 1 schema with jobs in it keeps every job working", async () => {
  const schema = freshSchema();
  const s = `"${schema}"`;
  const store = new PgStore({ connection: PG_URL, schema });
  try {
    await admin(async (sql) => {
      const db = sql as unknown as SqlLike;
      const begin = sql.begin.bind(sql) as unknown as Parameters<typeof migrate>[1];
      assert.deepEqual(await migrate(db, begin, schema, 1), { from: 0, to: 1 });
      // Jobs as version 1 stored them: waiting, delayed (due), completed, and a flow parent
      // waiting for its one child.
      await sql.unsafe(`
        insert into ${s}.jobs (queue, id, name, data, opts, state, created_at, delay_until,
          finished_at, return_value, parent_queue, parent_id, pending_children)
        values
          ('q', 'w1', 'n', '{"a":1}', '{}', 'waiting', 1, null, null, null, null, null, 0),
          ('q', 'd1', 'n', '{}', '{}', 'delayed', 1, 2, null, null, null, null, 0),
          ('q', 'c1', 'n', '{}', '{}', 'completed', 1, null, 3, '"ok"', null, null, 0),
          ('q', 'p1', 'parent', '{}', '{}', 'waiting-children', 1, null, null, null, null, null, 1),
          ('q', 'k1', 'child', '{}', '{}', 'waiting', 1, null, null, null, 'q', 'p1', 0)`);
    });
    assert.deepEqual(await store.migrate(), { from: 1, to: SCHEMA_VERSION });
    await store.connect();
    const indexes = await admin((sql) =>
      sql.unsafe("select indexname from pg_indexes where schemaname = $1", [schema])
    );
    const names = indexes.map((r) => r.indexname as string);
    assert.ok(!names.includes("jobs_state"), "jobs_state is gone");
    assert.ok(names.includes("jobs_waiting_children"));

    assert.equal(await store.countJobs("q"), 5);
    assert.equal(await store.countJobs("q", "waiting"), 2);
    assert.equal(await store.countJobs("q", "delayed"), 1);
    assert.equal(await store.countJobs("q", "completed"), 1);
    assert.equal(await store.countJobs("q", "waiting-children"), 1);
    assert.deepEqual((await store.listJobs("q")).map((j) => j.id), ["w1", "d1", "c1", "p1", "k1"]);
    assert.deepEqual((await store.listJobs("q", "waiting-children")).map((j) => j.id), ["p1"]);
    assert.equal((await store.getJob("q", "c1"))?.returnValue, "ok");

    // The old jobs are claimed, in order, and finish; the child releases its parent.
    const first = await store.fetchNextJob("q", "w", 10_000);
    assert.equal(first?.id, "w1");
    assert.deepEqual(first?.data, { a: 1 });
    assert.equal(await store.completeJob("q", "w1", first!.lockToken!, 1), true);
    const child = await store.fetchNextJob("q", "w", 10_000);
    assert.equal(child?.id, "k1");
    assert.equal(await store.completeJob("q", "k1", child!.lockToken!, 2), true);
    assert.equal((await store.getJob("q", "p1"))?.state, "waiting");
    assert.equal(await store.promoteDelayedJobs("q"), 1);
    assert.equal(await store.countJobs("q", "waiting"), 2);
    assert.equal(await store.countJobs("q", "completed"), 3);
    assert.deepEqual(
      (await store.listJobs("q", "completed")).map((j) => j.id),
      ["w1", "c1", "k1"],
    );
    // New jobs go in beside them; clean and drain see old and new alike.
    await store.saveJob("q", await createNewJob("n", null, { jobId: "n1" }));
    assert.deepEqual((await store.listJobs("q", "waiting")).map((j) => j.id), ["d1", "p1", "n1"]);
    assert.deepEqual((await store.clean("q", "completed", 0)).sort(), ["c1", "k1", "w1"]);
    assert.equal(await store.drain("q"), 3);
    assert.equal(await store.countJobs("q"), 0);
  } finally {
    await store.disconnect();
    await dropSchema(schema);
  }
});
