/**
 * Basic use: a queue, a worker, a few jobs, events, and a clean shutdown.
 *
 * Run: deno run -A examples/basic.ts
 *
 * @module
 */

import { Queue, Worker } from "@conveyor/core";
import { MemoryStore } from "@conveyor/store-memory";

interface Email {
  to: string;
  subject: string;
}

// Swap this single line to switch backends.
const store = new MemoryStore();
await store.connect();

const queue = new Queue<Email, string>("emails", { store });
const worker = new Worker<Email, string>("emails", async (job) => {
  await job.updateProgress(50);
  await job.log(`rendering "${job.data.subject}"`);
  await new Promise((resolve) => setTimeout(resolve, 20)); // pretend to talk to an SMTP server
  return `sent to ${job.data.to}`;
}, { store, concurrency: 5 });

worker.events.on("completed", (event) => {
  console.log(`Job ${event.detail.jobId} completed: ${event.detail.returnValue}`);
});
worker.events.on("failed", (event) => {
  console.error(`Job ${event.detail.jobId} failed: ${event.detail.failedReason}`);
});

const jobs = await queue.addBulk([
  { name: "welcome", data: { to: "ada@example.com", subject: "Welcome!" } },
  { name: "welcome", data: { to: "grace@example.com", subject: "Welcome!" } },
  {
    name: "invoice",
    data: { to: "linus@example.com", subject: "Your invoice" },
    opts: { priority: 1 },
  },
]);

// A duplicate add is reported, not saved twice.
const again = await queue.add("welcome", { to: "ada@example.com", subject: "Welcome!" }, {
  jobId: jobs[0].id,
});
console.log(`second add of ${again.id} was a duplicate: ${again.isDuplicate}`);

const results = await Promise.all(jobs.map((job) => job.waitUntilFinished()));
console.log("results:", results);
console.log("counts:", await queue.getJobCounts());

await worker.close();
await queue.close();
await store.disconnect();
