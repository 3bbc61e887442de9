import assert from "node:assert/strict";
import {
  createNewJob,
  isConveyorError,
  type StoreEvent,
  StoreNotConnectedError,
} from "@conveyor/shared";
import postgres from "postgres";
import { PgStore } from "./pg_store.ts";
import {
  dropSchema,
  eventually,
  freshSchema,
  PG_URL,
  pgTest,
  sleep,
  withStore,
} from "./_test_utils.ts";

Deno.test("PgStore refuses bad options with errors that name the value", () => {
  assert.throws(() => new PgStore({ connection: PG_URL, schema: "bad-name" }), /bad-name/);
  assert.throws(() => new PgStore({ connection: PG_URL, schema: "x".repeat(49) }), RangeError);
  assert.throws(
    () => new PgStore({ connection: PG_URL, publish: "some" as "all" }),
    /publish must be "all" or "wakeups", got "some"/,
  );
  assert.throws(() => new PgStore({ connection: 42 as unknown as string }), TypeError);
  assert.throws(() => new PgStore(undefined as unknown as { connection: string }), TypeError);
});

Deno.test("PgStore methods reject with StoreNotConnectedError before connect", async () => {
  const store = new PgStore({ connection: PG_URL });
  await assert.rejects(() => store.getJob("q", "a"), StoreNotConnectedError);
  await assert.rejects(() => store.fetchNextJob("q", "w", 1000), StoreNotConnectedError);
  await store.disconnect();
});

Deno.test("PgStore.connect gives a clear error when the server cannot be reached", async () => {
  const store = new PgStore({ connection: "postgres://someone:secret@127.0.0.1:1/nowhere" });
  await assert.rejects(() => store.connect(), (error) => {
    assert.ok(isConveyorError(error, "STORE_ERROR"), String(error));
    const message = (error as Error).message;
    assert.match(message, /PgStore cannot connect to postgres:\/\/someone@127\.0\.0\.1:1\/nowhere/);
    assert.match(message, /ECONNREFUSED/);
    assert.doesNotMatch(message, /secret/);
    return true;
  });
  await store.disconnect();
});

Deno.test("PgStore.connect gives a clear error for an invalid connection string", async () => {
  const store = new PgStore({ connection: "postgres://u:pw@host:notaport/db" });
  await assert.rejects(() => store.connect(), (error) => {
    assert.ok(isConveyorError(error, "STORE_ERROR"), String(error));
    assert.match((error as Error).message, /PgStore cannot use connection/);
    assert.doesNotMatch((error as Error).message, /pw@/);
    return true;
  });
  await store.disconnect();
});

pgTest("PgStore shares an existing postgres.js instance and leaves it open", async () => {
  const sql = postgres(PG_URL, { onnotice: () => {} });
  const schema = freshSchema();
  const store = new PgStore({ connection: sql, schema });
  try {
    await store.connect();
    await store.saveJob("q", await createNewJob("t", { n: 1 }, { jobId: "a" }));
    assert.equal((await store.getJob("q", "a"))?.state, "waiting");
    await store.disconnect();
    const [row] = await sql.unsafe(`select count(*)::int as n from "${schema}".jobs`);
    assert.equal(row.n, 1, "the caller's sql still works after disconnect");
  } finally {
    await store.disconnect();
    await dropSchema(schema);
    await sql.end();
  }
});

Deno.test("PgStore refuses a postgres.js instance that transforms column names", async () => {
  const sql = postgres(PG_URL, { transform: postgres.camel });
  try {
    assert.throws(() => new PgStore({ connection: sql }), /column name transforms/);
  } finally {
    await sql.end();
  }
});

pgTest("PgStore events reach a store in another connection pool over LISTEN", async () => {
  const schema = freshSchema();
  const producer = new PgStore({ connection: PG_URL, schema });
  const consumer = new PgStore({ connection: PG_URL, schema });
  try {
    await producer.connect();
    await consumer.connect();
    const seen: StoreEvent[] = [];
    consumer.subscribe("q", (e) => seen.push(e));
    await producer.saveJob("q", await createNewJob("t", {}, { jobId: "a" }));
    await eventually(() => seen.some((e) => e.type === "waiting" && e.jobId === "a"), "waiting");
    const job = await consumer.fetchNextJob("q", "w", 10_000);
    assert.equal(job?.id, "a");
    await consumer.completeJob("q", "a", job!.lockToken!, 1);
    // Lifecycle events of the consumer reach the producer's subscribers too (batched).
    const mine: StoreEvent[] = [];
    producer.subscribe("q", (e) => mine.push(e));
    await producer.saveJob("q", await createNewJob("t", {}, { jobId: "b" }));
    const b = await consumer.fetchNextJob("q", "w", 10_000);
    await consumer.completeJob("q", "b", b!.lockToken!, 2);
    await eventually(
      () => mine.some((e) => e.type === "completed" && e.jobId === "b"),
      "completed",
    );
    assert.ok(mine.some((e) => e.type === "active" && e.jobId === "b"));
    assert.equal(mine.filter((e) => e.type === "waiting" && e.jobId === "b").length, 1);
  } finally {
    await producer.disconnect();
    await consumer.disconnect();
    await dropSchema(schema);
  }
});

pgTest("PgStore with publish wakeups keeps lifecycle events to its own subscribers", async () => {
  const schema = freshSchema();
  const quiet = new PgStore({ connection: PG_URL, schema, publish: "wakeups" });
  const other = new PgStore({ connection: PG_URL, schema });
  try {
    await quiet.connect();
    await other.connect();
    const local: StoreEvent[] = [];
    const remote: StoreEvent[] = [];
    quiet.subscribe("q", (e) => local.push(e));
    other.subscribe("q", (e) => remote.push(e));
    await quiet.saveJob("q", await createNewJob("t", {}, { jobId: "a" }));
    const job = await quiet.fetchNextJob("q", "w", 10_000);
    await quiet.completeJob("q", "a", job!.lockToken!, null);
    await eventually(() => remote.some((e) => e.type === "waiting"), "the wake-up elsewhere");
    await sleep(100);
    assert.deepEqual(local.map((e) => e.type), ["waiting", "active", "drained", "completed"]);
    assert.deepEqual(remote.map((e) => e.type), ["waiting"]);
  } finally {
    await quiet.disconnect();
    await other.disconnect();
    await dropSchema(schema);
  }
});

pgTest("PgStore.saveBulk sends one NOTIFY for a whole bulk", async () => {
  await withStore(async (store, schema) => {
    const sql = postgres(PG_URL, { max: 1, onnotice: () => {} });
    const payloads: string[] = [];
    try {
      await sql.listen(`${schema}:events`, (p) => payloads.push(p));
      const jobs = await Promise.all(
        Array.from({ length: 500 }, (_, i) => createNewJob("t", { i }, { jobId: `j${i}` })),
      );
      await store.saveBulk("q", jobs);
      await eventually(() => payloads.length > 0, "the notification");
      await sleep(100);
      assert.equal(payloads.length, 1);
      assert.ok(payloads[0].length < 8000);
      assert.deepEqual(JSON.parse(payloads[0]).n, 500);
    } finally {
      await sql.end();
    }
  });
});

pgTest("PgStore deduplication is race-free across connection pools", async () => {
  const schema = freshSchema();
  const stores = Array.from({ length: 4 }, () => new PgStore({ connection: PG_URL, schema }));
  try {
    await Promise.all(stores.map((s) => s.connect()));
    const adds = stores.flatMap((store, s) =>
      Array.from({ length: 10 }, async (_, i) =>
        store.saveJob(
          "q",
          await createNewJob("t", {}, { jobId: `s${s}-${i}`, deduplication: { id: "k" } }),
        ))
    );
    const results = await Promise.all(adds);
    const winners = results.filter((r) => !r.duplicate);
    assert.equal(winners.length, 1);
    for (const r of results) assert.equal(r.id, winners[0].id);
    assert.equal(await stores[0].countJobs("q"), 1);
  } finally {
    await Promise.all(stores.map((s) => s.disconnect()));
    await dropSchema(schema);
  }
});

pgTest("PgStore keeps schemas apart", async () => {
  await withStore(async (a) => {
    await withStore(async (b) => {
      const seen: StoreEvent[] = [];
      b.subscribe("q", (e) => seen.push(e));
      await a.saveJob("q", await createNewJob("t", {}, { jobId: "a" }));
      await sleep(100);
      assert.equal(await b.getJob("q", "a"), null);
      assert.deepEqual(seen, []);
    });
  });
});

pgTest("PgStore reports a throwing subscriber to onError and keeps delivering", async () => {
  const errors: Error[] = [];
  await withStore(async (store) => {
    const seen: string[] = [];
    store.subscribe("q", () => {
      throw new Error("listener failure");
    });
    store.subscribe("q", (e) => seen.push(e.type));
    await store.saveJob("q", await createNewJob("t", {}));
    assert.deepEqual(seen, ["waiting"]);
    assert.equal(errors.length, 1);
    assert.match(errors[0].message, /listener failure/);
  }, { onError: (e) => errors.push(e) });
});
