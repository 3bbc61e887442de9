/**
 * Delayed jobs and retries: human-readable delays, exponential backoff with jitter, a custom
 * backoff strategy, and `UnrecoverableError` to give up at once.
 *
 * Run: deno run -A examples/delayed_retries.ts
 *
 * @module
 */

import { Queue, UnrecoverableError, Worker } from "@conveyor/core";
import { MemoryStore } from "@conveyor/store-memory";

const store = new MemoryStore();
await store.connect();

const started = Date.now();
const at = () => `+${String(Date.now() - started).padStart(4)} ms`;

const queue = new Queue<{ attemptsToFail: number }>("payments", { store });
const worker = new Worker<{ attemptsToFail: number }>("payments", (job) => {
  console.log(`${at()}  ${job.name} attempt ${job.attemptsMade + 1}`);
  if (job.name === "declined") throw new UnrecoverableError("card declined");
  if (job.attemptsMade < job.data.attemptsToFail) throw new Error("gateway timeout");
  return "charged";
}, {
  store,
  concurrency: 4,
  // A custom strategy, used by jobs added with backoff: { type: "linear" }.
  backoffStrategies: { linear: (attemptsMade) => attemptsMade * 150 },
});

worker.events.on("failed", ({ detail }) => {
  const next = detail.willRetry ? `retry in ${detail.retryDelay} ms` : "gives up";
  console.log(`${at()}  ${detail.name} failed (${detail.failedReason}), ${next}`);
});
worker.events.on("completed", ({ detail }) => {
  console.log(`${at()}  ${detail.name} completed: ${detail.returnValue}`);
});

const jobs = await Promise.all([
  queue.add("later", { attemptsToFail: 0 }, { delay: "300ms" }),
  queue.add("flaky", { attemptsToFail: 2 }, {
    attempts: 4,
    backoff: { type: "exponential", delay: 100, jitter: 0.2 },
  }),
  queue.add("linear", { attemptsToFail: 2 }, { attempts: 3, backoff: { type: "linear" } }),
  queue.add("declined", { attemptsToFail: 0 }, { attempts: 5, backoff: 100 }),
]);

await Promise.allSettled(jobs.map((job) => job.waitUntilFinished()));
console.log("counts:", await queue.getJobCounts());

await worker.close();
await queue.close();
await store.disconnect();
