import assert from "node:assert/strict";
import type { StoreInterface } from "@conveyor/shared";
import { deferred, newStore, withOverrides } from "./_test_util.ts";
import { Queue } from "./queue.ts";
import { Worker } from "./worker.ts";

/** Poll (real time) until `check()` holds. */
async function until(check: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error("condition not reached");
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

Deno.test("Worker claims the next jobs while finishes are in flight, within its limits", async () => {
  const real = await newStore();
  const gate = deferred();
  let pending = 0;
  let resolved = 0;
  const store = withOverrides<StoreInterface>(real, {
    completeJob: async (...args: Parameters<StoreInterface["completeJob"]>) => {
      pending++;
      await gate.promise;
      const ok = await real.completeJob(...args);
      pending--;
      resolved++;
      return ok;
    },
  });
  const queue = new Queue<number>("q", { store });
  let running = 0;
  let peak = 0;
  let started = 0;
  const completed: string[] = [];
  const worker = new Worker("q", async () => {
    started++;
    running++;
    peak = Math.max(peak, running);
    await new Promise((resolve) => setTimeout(resolve, 1));
    running--;
  }, { store, concurrency: 2, autorun: false });
  worker.events.on("completed", (event) => {
    completed.push(event.detail.jobId);
  });
  try {
    await queue.addBulk(Array.from({ length: 8 }, (_, i) => ({ name: "x", data: i })));
    worker.run();
    // The first two completions are held: their slots free anyway, so two more jobs run.
    await until(() => started === 4 && running === 0 && pending === 4);
    assert.equal(resolved, 0);
    assert.equal(completed.length, 0);
    // At most `concurrency` finishes overlap: the other two keep their slots, nothing more runs.
    await new Promise((resolve) => setTimeout(resolve, 30));
    assert.equal(started, 4);
    assert.equal(peak, 2);
    // Every held job is still in the running set (and under lease renewal) until it finishes.
    assert.equal(worker.activeCount, 4);
    assert.equal(await real.countJobs("q", "active"), 4);

    // close() waits for the completions in flight.
    let closed = false;
    const closing = worker.close(0).then(() => closed = true);
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(closed, false);
    gate.resolve();
    await closing;
    assert.equal(resolved, 4);
    assert.equal(pending, 0);
    assert.equal(completed.length, 4);
    assert.equal(worker.activeCount, 0);
    assert.equal(await real.countJobs("q", "completed"), 4);
    assert.equal(await real.countJobs("q", "active"), 0);
    assert.equal(peak, 2);
  } finally {
    gate.resolve();
    await worker.close();
    await queue.close();
    await real.disconnect();
  }
});
