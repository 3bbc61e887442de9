// requires: @conveyor/core#Queue @conveyor/core#Worker @conveyor/store-memory#MemoryStore
// A Queue and a Worker process a few jobs on MemoryStore, from the installed npm packages.
import "./_deno_test_shim.js";
import assert from "node:assert/strict";
import { Queue, Worker } from "@conveyor/core";
import { MemoryStore } from "@conveyor/store-memory";

Deno.test("Queue and Worker process jobs on MemoryStore (npm build)", async () => {
  const store = new MemoryStore();
  const queue = new Queue("npm-smoke", { store });
  const done = [];
  const all = Promise.withResolvers();
  const worker = new Worker("npm-smoke", (job) => {
    done.push(job.data.n);
    if (done.length === 5) all.resolve();
    return job.data.n * 2;
  }, { store, concurrency: 2 });
  try {
    const jobs = [];
    for (let n = 0; n < 5; n++) jobs.push(await queue.add("double", { n }));
    const timer = setTimeout(() => all.reject(new Error("jobs not processed within 10 s")), 10_000);
    await all.promise.finally(() => clearTimeout(timer));
    assert.deepEqual([...done].sort(), [0, 1, 2, 3, 4]);
    const results = await Promise.all(jobs.map((j) => j.waitUntilFinished()));
    assert.deepEqual(results, [0, 2, 4, 6, 8]);
  } finally {
    await worker.close();
    await queue.close();
  }
});
