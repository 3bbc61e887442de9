/**
 * Flows: the report-assembly tree from the docs. The parent waits for its children, then reads
 * their return values.
 *
 * Run: deno run -A examples/flows.ts
 *
 * @module
 */

import { FlowProducer, Queue, Worker } from "@conveyor/core";
import { MemoryStore } from "@conveyor/store-memory";

const store = new MemoryStore();
await store.connect();

const queue = new Queue("reports", { store });
queue.events.on("waiting-children", ({ detail }) => {
  console.log(`job ${detail.jobId} waits for its children`);
});

const worker = new Worker("reports", async (job) => {
  if (job.name === "fetch-sales") {
    console.log(`fetch-sales for parent ${job.parentId} in queue ${job.parentQueueName}`);
    await new Promise((resolve) => setTimeout(resolve, 30));
    return { sales: 1_000_000 };
  }
  if (job.name === "fetch-inventory") {
    await new Promise((resolve) => setTimeout(resolve, 10));
    return { sales: 250_000 };
  }
  // assemble-report: runs once both children completed.
  const children = await job.getDependencies();
  const childValues = await job.getChildrenValues<{ sales: number }>();
  console.log(`assembling from ${children.map((c) => c.name).join(" + ")}`);
  return { reportId: job.data.reportId, total: childValues.reduce((sum, v) => sum + v.sales, 0) };
}, { store, concurrency: 4 });

const flow = new FlowProducer({ store });
const result = await flow.add({
  name: "assemble-report",
  queueName: "reports",
  data: { reportId: 42 },
  children: [
    { name: "fetch-sales", queueName: "reports", data: { source: "sales" } },
    { name: "fetch-inventory", queueName: "reports", data: { source: "inv" } },
  ],
});
console.log(`parent job ${result.job.id}`);
console.log(`first child job ${result.children![0].job.id}`);

console.log("report:", await result.job.waitUntilFinished());

await worker.close();
await queue.close();
await store.disconnect();
