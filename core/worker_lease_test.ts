import assert from "node:assert/strict";
import { LeaseLostError } from "@conveyor/shared";
import { MemoryStore } from "@conveyor/store-memory";
import { deferred, fakeTime, newStore, settle } from "./_test_util.ts";
import { Queue } from "./queue.ts";
import { Worker } from "./worker.ts";

Deno.test("Worker renews the leases of long-running jobs so they never stall", async () => {
  const clock = fakeTime();
  const store = await newStore();
  const queue = new Queue("q", { store });
  const worker = new Worker("q", async () => {
    await new Promise((resolve) => setTimeout(resolve, 10_000));
    return "done";
  }, { store, lockDuration: 1000, stalledInterval: 300, pollInterval: 60_000 });
  const stalled: string[] = [];
  worker.events.on("stalled", (e) => {
    stalled.push(e.detail.jobId);
  });
  try {
    const job = await queue.add("long", null);
    for (let t = 0; t < 10_000; t += 250) {
      await clock.tickAsync(250);
      assert.deepEqual(await store.getStalledJobs("q"), []);
    }
    assert.equal(await job.waitUntilFinished(), "done");
    const stored = await queue.getJob(job.id);
    assert.equal(stored?.stalledCount, 0);
    assert.equal(stored?.attemptsStarted, 1);
    assert.deepEqual(stalled, []);
  } finally {
    await worker.close();
    await queue.close();
    await store.disconnect();
    clock.uninstall();
  }
});

Deno.test("Worker recovers the stalled job of a dead worker and runs it", async () => {
  const clock = fakeTime();
  const store = await newStore();
  const queue = new Queue("q", { store });
  try {
    const job = await queue.add("x", null);
    // A worker that claims the job and dies without finishing it.
    const [claimed] = await store.fetchNextJobs("q", "dead-worker", 1000, 1);
    assert.equal(claimed.id, job.id);
    const ran: string[] = [];
    const worker = new Worker("q", (j) => {
      ran.push(j.id);
      return "recovered";
    }, { store, stalledInterval: 500, pollInterval: 60_000 });
    const stalled: { jobId: string; failed: boolean }[] = [];
    worker.events.on("stalled", (e) => {
      stalled.push({ jobId: e.detail.jobId, failed: e.detail.failed });
    });
    await clock.tickAsync(1500);
    assert.equal(await job.waitUntilFinished(), "recovered");
    assert.deepEqual(ran, [job.id]);
    assert.deepEqual(stalled, [{ jobId: job.id, failed: false }]);
    assert.equal((await queue.getJob(job.id))?.stalledCount, 1);
    await worker.close();
  } finally {
    await queue.close();
    await store.disconnect();
    clock.uninstall();
  }
});

Deno.test("Worker fails a job that stalls more often than maxStalledCount", async () => {
  const clock = fakeTime();
  const store = await newStore();
  const queue = new Queue("q", { store });
  const worker = new Worker("q", () => "never", {
    store,
    stalledInterval: 500,
    maxStalledCount: 0,
    autorun: false,
  });
  try {
    const job = await queue.add("x", null);
    await store.fetchNextJobs("q", "dead-worker", 1000, 1);
    const stalled = deferred<boolean>();
    worker.events.on("stalled", (e) => stalled.resolve(e.detail.failed));
    worker.run();
    await clock.tickAsync(1500);
    assert.equal(await stalled.promise, true);
    assert.equal(await job.getState(), "failed");
  } finally {
    await worker.close();
    await queue.close();
    await store.disconnect();
    clock.uninstall();
  }
});

Deno.test("Worker reports a lost lease and never overwrites the job's new run", async () => {
  let skew = 0;
  const store = new MemoryStore({ clock: () => Date.now() + skew });
  await store.connect();
  const queue = new Queue("q", { store });
  const firstRun = deferred<string>();
  const started = deferred();
  let runs = 0;
  const worker = new Worker("q", (_job, signal) => {
    runs++;
    if (runs === 1) {
      started.resolve();
      return firstRun.promise;
    }
    return signal.aborted ? "aborted" : "second run";
  }, { store, lockDuration: 1000 });
  const errors: Error[] = [];
  worker.events.on("error", (e) => {
    errors.push(e.detail.error);
  });
  const job = await queue.add("x", null);
  await started.promise;
  skew = 5000; // the lease expires
  const recovery = await store.recoverStalledJobs("q", 5);
  assert.deepEqual(recovery.recovered, [job.id]);
  // The first run finishes late: its completion is refused.
  firstRun.resolve("first run");
  assert.equal(await job.waitUntilFinished(), "second run");
  assert.equal(runs, 2);
  assert.ok(errors[0] instanceof LeaseLostError);
  assert.match(errors[0].message, /Cannot complete job .* the lease was lost/);
  await worker.close();
  await queue.close();
  await store.disconnect();
});

Deno.test("Worker aborts a job whose lease renewal is refused", async () => {
  const clock = fakeTime();
  let skew = 0;
  const store = new MemoryStore({ clock: () => Date.now() + skew });
  await store.connect();
  const queue = new Queue("q", { store });
  let reason: unknown;
  let runs = 0;
  const worker = new Worker("q", (_job, signal) => {
    if (++runs > 1) return "second run";
    return new Promise((_resolve, reject) => {
      signal.addEventListener("abort", () => {
        reason = signal.reason;
        reject(signal.reason);
      });
    });
  }, { store, lockDuration: 1000, pollInterval: 60_000, stalledInterval: 60_000 });
  const errors: Error[] = [];
  worker.events.on("error", (e) => {
    errors.push(e.detail.error);
  });
  try {
    const job = await queue.add("x", null);
    await settle(clock, () => worker.activeCount === 1);
    skew = 5000;
    await store.recoverStalledJobs("q", 5); // another process took the job back
    await clock.tickAsync(500); // the lease timer fires: extendLock is refused
    await settle(clock, () => reason !== undefined);
    assert.ok(reason instanceof LeaseLostError);
    assert.ok(errors.some((e) => e instanceof LeaseLostError));
    assert.equal(await job.waitUntilFinished(), "second run");
    const stored = await queue.getJob(job.id);
    assert.equal(stored?.failedReason, null, "the lost run overwrote nothing");
    assert.equal(stored?.attemptsMade, 1);
  } finally {
    await worker.close();
    await queue.close();
    await store.disconnect();
    clock.uninstall();
  }
});
