/**
 * Fairness and limits: per-tenant groups (at most 2 jobs of one tenant at once, across every
 * worker) and a sliding-window rate limit (at most 20 starts per 250 ms, across every worker).
 *
 * Run: deno run -A examples/groups_rate_limit.ts
 *
 * @module
 */

import { Queue, Worker } from "@conveyor/core";
import { MemoryStore } from "@conveyor/store-memory";

const store = new MemoryStore();
await store.connect();

const queue = new Queue<{ tenant: string }>("api-calls", { store });
const tenants = ["acme", "globex", "initech"];
const jobs = await queue.addBulk(
  Array.from({ length: 60 }, (_, i) => {
    const tenant = tenants[i % 3];
    return { name: "call", data: { tenant }, opts: { groupId: tenant } };
  }),
);

const running = new Map<string, number>();
let peakPerTenant = 0;
const startsPerWindow = new Map<number, number>();
const started = Date.now();
const processor = async (job: { data: { tenant: string } }) => {
  const window = Math.floor((Date.now() - started) / 250);
  startsPerWindow.set(window, (startsPerWindow.get(window) ?? 0) + 1);
  const { tenant } = job.data;
  running.set(tenant, (running.get(tenant) ?? 0) + 1);
  peakPerTenant = Math.max(peakPerTenant, running.get(tenant)!);
  await new Promise((resolve) => setTimeout(resolve, 15));
  running.set(tenant, running.get(tenant)! - 1);
};
const options = {
  store,
  concurrency: 10,
  group: { concurrency: 2 },
  limiter: { max: 20, duration: 250 },
};
const workers = [
  new Worker("api-calls", processor, options),
  new Worker("api-calls", processor, options),
];

await Promise.all(jobs.map((job) => job.waitUntilFinished()));
console.log(`60 jobs done in ${Date.now() - started} ms`);
console.log(`most jobs of one tenant running at once: ${peakPerTenant} (limit 2)`);
console.log(
  "starts per 250 ms window:",
  [...startsPerWindow.entries()].sort((a, b) => a[0] - b[0]).map(([, n]) => n).join(", "),
  "(limit 20)",
);

await Promise.all(workers.map((worker) => worker.close()));
await queue.close();
await store.disconnect();
