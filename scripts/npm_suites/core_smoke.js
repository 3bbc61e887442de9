// requires: @conveyor/core#Queue @conveyor/core#Worker @conveyor/store-memory#MemoryStore
// A Queue and a Worker process a few jobs on MemoryStore, from the installed npm packages.
import "./_deno_test_shim.js";
import assert from "node:assert/strict";
import { Queue, Worker } from "@conveyor/core";
import { MemoryStore } from "@conveyor/store-memory";

Deno.test("Queue and Worker process jobs on MemoryStore (npm build)", async (t) => {
  const store = new MemoryStore();
  await store.connect();
  const queue = new Queue("npm-smoke", { store });
  const seen = [];
  const completed = [];
  const worker = new Worker("npm-smoke", async (job) => {
    seen.push(job.data.n);
    await job.updateProgress(50);
    if (job.data.n === 3 && job.attemptsMade === 0) throw new Error("first attempt fails");
    return job.data.n * 2;
  }, { store, concurrency: 2 });
  worker.events.on("completed", (event) => completed.push(event.detail.jobId));
  try {
    const added = [];
    await t.step("Queue.add adds five jobs", async () => {
      for (let n = 0; n < 5; n++) {
        added.push(await queue.add("double", { n }, { attempts: 2, backoff: 0 }));
      }
      assert.equal(added.length, 5);
    });
    await t.step("every job finishes with its result, one after a retry", async () => {
      const results = await Promise.all(added.map((job) => job.waitUntilFinished(10_000)));
      assert.deepEqual(results, [0, 2, 4, 6, 8]);
      assert.deepEqual([...seen].sort(), [0, 1, 2, 3, 3, 4]);
    });
    await t.step("the queue counts them completed", async () => {
      assert.equal(await queue.countJobs("completed"), 5);
      assert.equal(completed.length, 5);
    });
  } finally {
    await worker.close();
    await queue.close();
    await store.disconnect();
  }
});
