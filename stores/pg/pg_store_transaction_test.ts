import assert from "node:assert/strict";
import { createNewJob, FlowError, type FlowJobRecord, type StoreEvent } from "@conveyor/shared";
import postgres from "postgres";
import { PgStore } from "./pg_store.ts";
import { dropSchema, eventually, freshSchema, PG_URL, pgTest, sleep } from "./_test_utils.ts";

/** A store, a second store (another "process"), and the app's own sql with an orders table. */
async function setup() {
  const schema = freshSchema();
  const sql = postgres(PG_URL, { onnotice: () => {} });
  const store = new PgStore({ connection: sql, schema });
  const other = new PgStore({ connection: PG_URL, schema });
  await store.connect();
  await other.connect();
  await sql.unsafe(`create table "${schema}".orders (id int primary key)`);
  const events: StoreEvent[] = [];
  const remote: StoreEvent[] = [];
  store.subscribe("emails", (e) => events.push(e));
  other.subscribe("emails", (e) => remote.push(e));
  return {
    schema,
    sql,
    store,
    other,
    events,
    remote,
    async close() {
      await store.disconnect();
      await other.disconnect();
      await dropSchema(schema);
      await sql.end();
    },
  };
}

pgTest(
  "withTransaction: the job and its wake-up exist only once the transaction commits",
  async () => {
    const t = await setup();
    try {
      let inside: unknown;
      await t.sql.begin(async (tx) => {
        await tx.unsafe(`insert into "${t.schema}".orders (id) values (42)`);
        const view = t.store.withTransaction(tx);
        const result = await view.saveJob(
          "emails",
          await createNewJob("receipt", { order: 42 }, { jobId: "r42" }),
        );
        assert.deepEqual(result, { id: "r42", duplicate: false });
        inside = (await view.getJob("emails", "r42"))?.state;
        assert.equal(
          await t.other.getJob("emails", "r42"),
          null,
          "invisible outside the transaction",
        );
        await sleep(100);
        assert.deepEqual(t.remote, [], "no wake-up before the commit");
      });
      assert.equal(inside, "waiting");
      assert.equal((await t.other.getJob("emails", "r42"))?.state, "waiting");
      await eventually(
        () => t.remote.some((e) => e.type === "waiting" && e.jobId === "r42"),
        "remote",
      );
      await eventually(
        () => t.events.some((e) => e.jobId === "r42"),
        "the store's own subscribers",
      );
      assert.equal(t.events.filter((e) => e.jobId === "r42").length, 1, "delivered once");
    } finally {
      await t.close();
    }
  },
);

pgTest("withTransaction: a rollback leaves no job and sends no event", async () => {
  const t = await setup();
  try {
    await assert.rejects(() =>
      t.sql.begin(async (tx) => {
        await tx.unsafe(`insert into "${t.schema}".orders (id) values (7)`);
        const view = t.store.withTransaction(tx);
        await view.saveBulk("emails", [
          await createNewJob("receipt", { order: 7 }, { jobId: "r7" }),
          await createNewJob("receipt", { order: 8 }, { jobId: "r8", delay: 60_000 }),
        ]);
        throw new Error("payment declined");
      }), /payment declined/);
    await sleep(150);
    assert.equal(await t.store.countJobs("emails"), 0);
    assert.deepEqual(t.remote, []);
    assert.deepEqual(t.events, []);
  } finally {
    await t.close();
  }
});

pgTest("withTransaction: a refused flow rolls back only its savepoint", async () => {
  const t = await setup();
  try {
    const child = await createNewJob("part", {}, { jobId: "c" });
    const parent = await createNewJob("whole", {}, { jobId: "p" });
    const bad: FlowJobRecord[] = [
      { ...child, queueName: "emails", parentId: "p", parentQueueName: "emails" },
      { ...parent, queueName: "emails", pendingChildrenCount: 2 },
    ];
    const good: FlowJobRecord[] = [bad[0], { ...bad[1], pendingChildrenCount: 1 }];
    await t.sql.begin(async (tx) => {
      await tx.unsafe(`insert into "${t.schema}".orders (id) values (1)`);
      const view = t.store.withTransaction(tx);
      await assert.rejects(() => view.saveFlow(bad), FlowError);
      const results = await view.saveFlow(good);
      assert.deepEqual(results, [{ id: "c", duplicate: false }, { id: "p", duplicate: false }]);
    });
    assert.equal((await t.store.getJob("emails", "p"))?.state, "waiting-children");
    assert.equal((await t.store.getJob("emails", "c"))?.state, "waiting");
    const [orders] = await t.sql.unsafe(`select count(*)::int as n from "${t.schema}".orders`);
    assert.equal(orders.n, 1);
  } finally {
    await t.close();
  }
});

pgTest("withTransaction: duplicates are reported inside the transaction", async () => {
  const t = await setup();
  try {
    await t.store.saveJob(
      "emails",
      await createNewJob("x", {}, { jobId: "held", deduplication: { id: "k" } }),
    );
    await t.sql.begin(async (tx) => {
      const view = t.store.withTransaction(tx);
      const again = await view.saveJob(
        "emails",
        await createNewJob("x", {}, { jobId: "new", deduplication: { id: "k" } }),
      );
      assert.deepEqual(again, { id: "held", duplicate: true });
      const same = await view.saveJob("emails", await createNewJob("x", {}, { jobId: "held" }));
      assert.deepEqual(same, { id: "held", duplicate: true });
      // A bulk of jobs without options meeting a held id leaves the transaction usable.
      const bulk = await view.saveBulk("emails", [
        await createNewJob("x", {}, { jobId: "held" }),
        await createNewJob("x", {}, { jobId: "b1" }),
      ]);
      assert.deepEqual(bulk, [{ id: "held", duplicate: true }, { id: "b1", duplicate: false }]);
      await tx.unsafe(`insert into "${t.schema}".orders (id) values (7)`);
    });
    assert.equal(await t.store.countJobs("emails"), 2);
    assert.equal((await t.sql.unsafe(`select id from "${t.schema}".orders`)).length, 1);
  } finally {
    await t.close();
  }
});

Deno.test("withTransaction refuses something that is not a postgres.js sql", async () => {
  const store = new PgStore({ connection: PG_URL });
  assert.throws(() => store.withTransaction({} as never), TypeError);
  await store.disconnect();
});
