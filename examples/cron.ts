/**
 * Repeated jobs: a cron pattern (with seconds, in a time zone) and a fixed interval. Registering
 * the same schedule again, as every start-up does, does not duplicate it.
 *
 * Run: deno run -A examples/cron.ts
 *
 * @module
 */

import { Queue, Worker } from "@conveyor/core";
import { MemoryStore } from "@conveyor/store-memory";

const store = new MemoryStore();
await store.connect();

const queue = new Queue("maintenance", { store });

// Every second (6-field pattern: seconds first), in Paris time, two runs in total.
await queue.cron("* * * * * *", "heartbeat", { service: "api" }, {
  tz: "Europe/Paris",
  limit: 2,
});
// Every 500 ms, on the 500 ms grid, four runs in total.
await queue.every("500ms", "flush-metrics", null, { limit: 4 });
// A second registration (e.g. another process starting) changes nothing.
await queue.every("500ms", "flush-metrics", null, { limit: 4 });

for (const schedule of await queue.listRepeatables()) {
  const next = new Date(schedule.next!).toISOString();
  console.log(
    `schedule ${schedule.key}: ${schedule.pattern ?? `${schedule.every} ms`} next ${next}`,
  );
}

let runs = 0;
const done = Promise.withResolvers<void>();
const worker = new Worker("maintenance", (job) => {
  console.log(`${new Date().toISOString()}  ${job.name} run #${job.opts.repeat?.count}`);
  if (++runs === 6) done.resolve();
}, { store });

await done.promise;
console.log("schedules after their limits:", await queue.listRepeatables());
await queue.removeRepeatable("heartbeat");
await queue.removeRepeatable("flush-metrics");

await worker.close();
await queue.close();
await store.disconnect();
