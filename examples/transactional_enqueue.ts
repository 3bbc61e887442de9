/**
 * Enqueue inside your own PostgreSQL transaction: an order row and its "send receipt" job commit
 * together, or not at all. No outbox table, no job for an order that was rolled back, no order
 * without its job.
 *
 * Needs a PostgreSQL server at env `CONVEYOR_PG_URL` (default
 * `postgres://postgres@127.0.0.1:5432/test`); without one it says so and exits 0.
 *
 * Run: deno run -A examples/transactional_enqueue.ts
 *
 * @module
 */

import { FlowProducer, Queue, Worker } from "@conveyor/core";
import { PgStore } from "@conveyor/store-pg";
// examples/ is no workspace member with an import map of its own: name the version here.
// deno-lint-ignore no-import-prefix
import postgres from "npm:postgres@3.4.9";

const url = Deno.env.get("CONVEYOR_PG_URL") ?? "postgres://postgres@127.0.0.1:5432/test";
const redacted = url.replace(/\/\/([^:@/]*):[^@/]*@/, "//$1:***@");

async function reachable(): Promise<boolean> {
  const probe = postgres(url, { max: 1, connect_timeout: 3, onnotice: () => {} });
  try {
    await probe`select 1`;
    return true;
  } catch {
    return false;
  } finally {
    await probe.end({ timeout: 1 });
  }
}

async function main(): Promise<void> {
  // Your app's own postgres.js instance; the store shares it.
  const sql = postgres(url, { onnotice: () => {} });
  const schema = `conveyor_example_${crypto.randomUUID().replaceAll("-", "").slice(0, 8)}`;
  const store = new PgStore({ connection: sql, schema });
  await store.connect();
  await sql.unsafe(`create table "${schema}".orders (id int primary key, total int not null)`);
  const orders = `"${schema}".orders`;

  const queue = new Queue<{ orderId: number }, string>("emails", { store });
  const flows = new FlowProducer({ store });
  const worker = new Worker<{ orderId: number }, string>("emails", (job) => {
    return `${job.name} for order ${job.data.orderId}`;
  }, { store });

  try {
    // 1. The order commits: its job exists, and a worker is woken for it.
    const receipt = await sql.begin(async (tx) => {
      await tx.unsafe(`insert into ${orders} (id, total) values (1, 120)`);
      return await queue.add("receipt", { orderId: 1 }, { transaction: tx });
    });
    console.log(`committed order 1; worker says: ${await receipt.waitUntilFinished(10_000)}`);

    // 2. The order rolls back: the job vanishes with it, and no worker ever hears of it.
    let ghostId = "";
    try {
      await sql.begin(async (tx) => {
        await tx.unsafe(`insert into ${orders} (id, total) values (2, 80)`);
        ghostId = (await queue.add("receipt", { orderId: 2 }, { transaction: tx })).id;
        throw new Error("card declined");
      });
    } catch (error) {
      console.log(`order 2 rolled back (${(error as Error).message})`);
    }
    console.log(`job ${ghostId} of order 2 exists: ${(await queue.getJob(ghostId)) !== null}`);

    // 3. addBulk and FlowProducer.add take the same option.
    const results = await sql.begin(async (tx) => {
      await tx.unsafe(`insert into ${orders} (id, total) values (3, 45), (4, 60)`);
      const jobs = await queue.addBulk([
        { name: "receipt", data: { orderId: 3 } },
        { name: "receipt", data: { orderId: 4 } },
      ], { transaction: tx });
      const flow = await flows.add({
        name: "invoice",
        queueName: "emails",
        data: { orderId: 3 },
        children: [{ name: "render-pdf", queueName: "emails", data: { orderId: 3 } }],
      }, { transaction: tx });
      return [...jobs, flow.job];
    });
    for (const job of results) console.log(`worker says: ${await job.waitUntilFinished(10_000)}`);

    const [{ count }] = await sql.unsafe(`select count(*)::int as count from ${orders}`);
    console.log(`orders: ${count}; jobs: ${JSON.stringify(await queue.getJobCounts())}`);
  } finally {
    await worker.close();
    await flows.close();
    await queue.close();
    await store.disconnect();
    await sql.unsafe(`drop schema if exists "${schema}" cascade`);
    await sql.end({ timeout: 5 });
  }
}

if (await reachable()) {
  await main();
} else {
  console.log(
    `No PostgreSQL server reachable at ${redacted}: skipping this example ` +
      "(start one, or set CONVEYOR_PG_URL).",
  );
}
