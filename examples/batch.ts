/**
 * Batch processing: the processor receives up to `batch.size` jobs at once (e.g. one bulk insert
 * instead of many), and may fail single jobs of a batch by returning an `Error` in their place.
 *
 * Run: deno run -A examples/batch.ts
 *
 * @module
 */

import { Queue, Worker } from "@conveyor/core";
import { MemoryStore } from "@conveyor/store-memory";

interface Row {
  id: number;
  email: string;
}

const store = new MemoryStore();
await store.connect();

const queue = new Queue<Row, string>("imports", { store });
const jobs = await queue.addBulk(
  Array.from({ length: 23 }, (_, i) => ({
    name: "import-row",
    data: { id: i, email: i === 13 ? "not-an-email" : `user${i}@example.com` },
  })),
);

const worker = new Worker<Row, string>("imports", async (batch) => {
  console.log(
    `inserting a batch of ${batch.length} rows: ${batch.map((j) => j.data.id).join(",")}`,
  );
  await new Promise((resolve) => setTimeout(resolve, 10)); // one round trip for the whole batch
  return batch.map((job) =>
    job.data.email.includes("@") ? `row ${job.data.id} imported` : new Error("invalid email")
  );
}, { store, batch: { size: 10 }, concurrency: 2 });

const outcomes = await Promise.allSettled(jobs.map((job) => job.waitUntilFinished()));
const failed = outcomes.filter((o) => o.status === "rejected");
console.log(`${outcomes.length - failed.length} imported, ${failed.length} failed`);
for (const f of failed) console.log("  ", (f as PromiseRejectedResult).reason.message);

await worker.close();
await queue.close();
await store.disconnect();
