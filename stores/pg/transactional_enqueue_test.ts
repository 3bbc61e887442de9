// Core's `transaction` option (queue.add, queue.addBulk, flowProducer.add) on a real PgStore:
// jobs and their wake-ups exist only if the caller's postgres.js transaction commits.

import assert from "node:assert/strict";
import { FlowProducer, Queue, Worker } from "@conveyor/core";
import { FlowError, supportsTransactions, type TransactionalStore } from "@conveyor/shared";
import postgres from "postgres";
import { PgStore } from "./pg_store.ts";
import { dropSchema, eventually, freshSchema, PG_URL, pgTest, sleep } from "./_test_utils.ts";

/**
 * A store (queue and worker side), a second store (another "process", to look from outside the
 * transaction), and the app's own sql with an orders table.
 */
async function setup() {
  const schema = freshSchema("conveyor_txq");
  const sql = postgres(PG_URL, { onnotice: () => {} });
  const store = new PgStore({ connection: PG_URL, schema });
  const other = new PgStore({ connection: PG_URL, schema });
  await store.connect();
  await other.connect();
  await sql.unsafe(`create table "${schema}".orders (id int primary key)`);
  const processed: string[] = [];
  const worker = new Worker("emails", (job) => {
    processed.push(job.id);
    return `done ${job.id}`;
  }, { store, pollInterval: 60_000 }); // only a wake-up starts a job within the test's timeouts
  const queue = new Queue("emails", { store });
  const events: string[] = [];
  for (const type of ["waiting", "delayed", "waiting-children"] as const) {
    queue.events.on(type, (e) => {
      events.push(`${type}:${e.detail.jobId ?? "-"}`);
    });
  }
  return {
    schema,
    sql,
    store,
    other,
    worker,
    queue,
    processed,
    events,
    orders: (id: number) => `insert into "${schema}".orders (id) values (${id})`,
    async close() {
      await worker.close();
      await queue.close();
      await store.disconnect();
      await other.disconnect();
      await dropSchema(schema);
      await sql.end();
    },
  };
}

pgTest("PgStore offers the TransactionalStore capability core uses", async () => {
  const store = new PgStore({ connection: PG_URL, schema: freshSchema("conveyor_txq") });
  const capability: TransactionalStore = store; // compiles: the shapes match
  assert.equal(supportsTransactions(capability as PgStore), true);
  await store.disconnect();
});

pgTest("queue.add in a committed transaction: the job exists and a worker runs it", async () => {
  const t = await setup();
  try {
    const job = await t.sql.begin(async (tx) => {
      await tx.unsafe(t.orders(42));
      const job = await t.queue.add("receipt", { order: 42 }, { jobId: "r42", transaction: tx });
      assert.equal(job.isDuplicate, false);
      // A second add of the same id in the same transaction sees the first (uncommitted) one.
      const again = await t.queue.add("receipt", { order: 0 }, { jobId: "r42", transaction: tx });
      assert.equal(again.isDuplicate, true);
      assert.deepEqual(again.data, { order: 42 });
      assert.equal(await t.other.getJob("emails", "r42"), null, "invisible before the commit");
      await sleep(100);
      assert.deepEqual(t.processed, [], "no worker ran it before the commit");
      return job;
    });
    assert.equal(job.id, "r42");
    assert.equal(await job.waitUntilFinished(5000), "done r42");
    assert.deepEqual(t.processed, ["r42"]);
    const stored = await t.other.getJob("emails", "r42");
    assert.equal(stored?.state, "completed");
    assert.deepEqual(stored?.opts, { jobId: "r42" }, "the transaction option is not stored");
    await eventually(() => t.events.includes("waiting:r42"), "the waiting event after commit");
  } finally {
    await t.close();
  }
});

pgTest("queue.add in a rolled-back transaction: no job, no wake-up, nothing runs", async () => {
  const t = await setup();
  try {
    await assert.rejects(
      () =>
        t.sql.begin(async (tx) => {
          await tx.unsafe(t.orders(7));
          await t.queue.add("receipt", { order: 7 }, { jobId: "r7", transaction: tx });
          await t.queue.add("reminder", { order: 7 }, {
            jobId: "later7",
            delay: 50,
            transaction: tx,
          });
          throw new Error("payment declined");
        }),
      { message: "payment declined" },
    );
    await sleep(300);
    assert.equal(await t.other.getJob("emails", "r7"), null);
    assert.equal(await t.other.getJob("emails", "later7"), null);
    assert.equal(await t.other.countJobs("emails"), 0);
    assert.equal(
      (await t.sql.unsafe(`select count(*)::int as n from "${t.schema}".orders`))[0].n,
      0,
    );
    assert.deepEqual(t.events, [], "no waiting/delayed event reached the queue");
    assert.deepEqual(t.processed, []);
  } finally {
    await t.close();
  }
});

pgTest("queue.addBulk in a transaction: all jobs at commit, none on rollback", async () => {
  const t = await setup();
  try {
    await assert.rejects(() =>
      t.sql.begin(async (tx) => {
        await t.queue.addBulk([
          { name: "a", data: 1, opts: { jobId: "x1" } },
          { name: "b", data: 2, opts: { jobId: "x2" } },
        ], { transaction: tx });
        throw new Error("rollback");
      })
    );
    const jobs = await t.sql.begin(async (tx) => {
      await tx.unsafe(t.orders(1));
      const jobs = await t.queue.addBulk([
        { name: "a", data: 1, opts: { jobId: "b1" } },
        { name: "b", data: 2, opts: { jobId: "b2", priority: 1 } },
      ], { transaction: tx });
      assert.equal(await t.other.countJobs("emails"), 0, "invisible before the commit");
      return jobs;
    });
    assert.deepEqual(jobs.map((j) => j.id), ["b1", "b2"]);
    await Promise.all(jobs.map((job) => job.waitUntilFinished(5000)));
    assert.deepEqual([...t.processed].sort(), ["b1", "b2"]);
    assert.equal(await t.other.getJob("emails", "x1"), null);
    assert.equal(await t.other.getJob("emails", "x2"), null);
    assert.equal(await t.other.countJobs("emails"), 2);
  } finally {
    await t.close();
  }
});

pgTest("flowProducer.add in a transaction: the tree at commit, nothing on rollback", async () => {
  const t = await setup();
  const flow = new FlowProducer({ store: t.store });
  const tree = (id: string) => ({
    name: "parent",
    queueName: "emails",
    data: null,
    opts: { jobId: id },
    children: [
      { name: "child", queueName: "emails", data: null, opts: { jobId: `${id}-c1` } },
      { name: "child", queueName: "emails", data: null, opts: { jobId: `${id}-c2` } },
    ],
  });
  try {
    await assert.rejects(() =>
      t.sql.begin(async (tx) => {
        await flow.add(tree("gone"), { transaction: tx });
        throw new Error("rollback");
      })
    );
    const result = await t.sql.begin(async (tx) => {
      const result = await flow.add(tree("p"), { transaction: tx });
      // A refused flow (a child id taken) runs in a savepoint: the transaction stays usable.
      await assert.rejects(
        () =>
          flow.add({
            name: "other",
            queueName: "emails",
            data: null,
            children: [{ name: "child", queueName: "emails", data: null, opts: { jobId: "p-c1" } }],
          }, { transaction: tx }),
        FlowError,
      );
      await tx.unsafe(t.orders(5));
      assert.equal(await t.other.getJob("emails", "p"), null, "invisible before the commit");
      return result;
    });
    assert.equal(result.job.id, "p");
    assert.equal(result.job.state, "waiting-children");
    assert.equal(await result.job.waitUntilFinished(5000), "done p");
    assert.deepEqual(t.processed.slice(-1), ["p"], "the parent ran after its children");
    assert.deepEqual([...t.processed].sort(), ["p", "p-c1", "p-c2"]);
    assert.equal(await t.other.getJob("emails", "gone"), null);
    assert.equal(await t.other.getJob("emails", "gone-c1"), null);
    assert.equal(
      (await t.sql.unsafe(`select count(*)::int as n from "${t.schema}".orders`))[0].n,
      1,
    );
  } finally {
    await flow.close();
    await t.close();
  }
});
