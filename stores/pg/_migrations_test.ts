import assert from "node:assert/strict";
import { isConveyorError, SchemaVersionError } from "@conveyor/shared";
import { SCHEMA_VERSION } from "./_migrations.ts";
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
