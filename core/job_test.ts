import assert from "node:assert/strict";
import { JobNotFoundError, LeaseLostError } from "@conveyor/shared";
import { MemoryStore } from "@conveyor/store-memory";
import { deferred, fakeTime, newStore } from "./_test_util.ts";
import { JobFailedError } from "./job.ts";
import { Queue } from "./queue.ts";
import { Worker } from "./worker.ts";

Deno.test("Job.updateProgress stores numbers and JSON objects and refuses other values", async () => {
  const store = await newStore();
  const queue = new Queue("q", { store });
  const job = await queue.add("x", null);
  await job.updateProgress(42);
  assert.equal((await queue.getJob(job.id))?.progress, 42);
  await job.updateProgress({ step: 2, of: 3 });
  assert.deepEqual(job.progress, { step: 2, of: 3 });
  await assert.rejects(() => job.updateProgress(NaN), {
    name: "RangeError",
    message: `Cannot update progress of job "${job.id}": progress must be a finite number, got NaN`,
  });
  await assert.rejects(() => job.updateProgress("half" as never), { name: "TypeError" });
  await assert.rejects(() => job.updateProgress([1] as never), { message: /got an array/ });
  await queue.close();
  await store.disconnect();
});

Deno.test("Job.log appends lines and Job.updateData replaces the payload", async () => {
  const store = await newStore();
  const queue = new Queue<{ n: number }>("q", { store });
  const job = await queue.add("x", { n: 1 });
  await job.log("first");
  await job.log("second");
  await job.updateData({ n: 2 });
  const stored = await queue.getJob(job.id);
  assert.deepEqual(stored?.logs, ["first", "second"]);
  assert.deepEqual(stored?.data, { n: 2 });
  await assert.rejects(() => job.updateData({ n: 1n } as never), { name: "TypeError" });
  await assert.rejects(() => job.log(5 as never), { name: "TypeError" });
  await queue.close();
  await store.disconnect();
});

Deno.test("Job.getState, refresh and remove follow the stored job", async () => {
  const store = await newStore();
  const queue = new Queue("q", { store });
  const job = await queue.add("x", null);
  assert.equal(await job.getState(), "waiting");
  await store.fetchNextJobs("q", "w", 1000, 1);
  await job.refresh();
  assert.equal(job.state, "active");
  assert.equal(job.attemptsStarted, 1);
  await assert.rejects(() => job.remove(), { name: "InvalidJobStateError" });
  const other = await queue.add("y", null);
  assert.equal(await other.remove(), true);
  assert.equal(await other.getState(), "unknown");
  await assert.rejects(() => other.refresh(), JobNotFoundError);
  await assert.rejects(() => other.updateProgress(1), JobNotFoundError);
  await queue.close();
  await store.disconnect();
});

Deno.test("Job.waitUntilFinished resolves with the return value, even when already finished", async () => {
  const store = await newStore();
  const queue = new Queue<number, number>("q", { store });
  const worker = new Worker<number, number>("q", (job) => job.data + 1, { store });
  const job = await queue.add("inc", 1);
  assert.equal(await job.waitUntilFinished(), 2);
  assert.equal(await job.waitUntilFinished(), 2, "a finished job resolves at once");
  const many = await queue.addBulk(
    Array.from({ length: 50 }, (_, i) => ({ name: "inc", data: i })),
  );
  const values = await Promise.all(many.map((j) => j.waitUntilFinished()));
  assert.deepEqual(values, many.map((_, i) => i + 1));
  await worker.close();
  await queue.close();
  await store.disconnect();
});

Deno.test("Job.waitUntilFinished rejects with JobFailedError when the job fails for good", async () => {
  const store = await newStore();
  const queue = new Queue("q", { store });
  let runs = 0;
  const worker = new Worker("q", () => {
    throw new Error(`run ${++runs} failed`);
  }, { store });
  const job = await queue.add("x", null, { attempts: 3 });
  const error = await job.waitUntilFinished().then(() => null, (e) => e);
  assert.ok(error instanceof JobFailedError);
  assert.equal(error.failedReason, "run 3 failed");
  assert.equal(error.jobId, job.id);
  assert.equal(runs, 3, "retries do not end the wait");
  await worker.close();
  await queue.close();
  await store.disconnect();
});

Deno.test("Job.waitUntilFinished rejects with a TimeoutError when the timeout runs out", async () => {
  const clock = fakeTime();
  const store = await newStore();
  const queue = new Queue("q", { store });
  try {
    const job = await queue.add("x", null);
    const waiting = job.waitUntilFinished(1000).then(() => null, (e) => e);
    await clock.tickAsync(1000);
    const error = await waiting;
    assert.ok(error instanceof DOMException);
    assert.equal(error.name, "TimeoutError");
    assert.throws(() => job.waitUntilFinished(-1), { name: "RangeError" });
  } finally {
    await queue.close();
    await store.disconnect();
    clock.uninstall();
  }
});

Deno.test("Job.waitUntilFinished rejects when the job is removed, drained or does not exist", async () => {
  const store = await newStore();
  const queue = new Queue("q", { store });
  const job = await queue.add("x", null);
  const waiting = job.waitUntilFinished();
  await job.remove();
  await assert.rejects(() => waiting, JobNotFoundError);
  await assert.rejects(() => job.waitUntilFinished(), JobNotFoundError);
  const drained = await queue.add("y", null);
  const waitingForDrained = drained.waitUntilFinished();
  await queue.drain();
  await assert.rejects(() => waitingForDrained, JobNotFoundError);
  await queue.close();
  await store.disconnect();
});

Deno.test("Job methods inside a processor throw LeaseLostError once the lease is lost", async () => {
  let skew = 0;
  const store = new MemoryStore({ clock: () => Date.now() + skew });
  await store.connect();
  const queue = new Queue("q", { store });
  const release = deferred();
  const started = deferred();
  const outcome = deferred<unknown>();
  let runs = 0;
  const worker = new Worker("q", async (job) => {
    if (++runs > 1) return;
    started.resolve();
    await release.promise;
    const results = await Promise.allSettled([
      job.updateProgress(50),
      job.log("late"),
      job.updateData({ late: true }),
    ]);
    outcome.resolve(
      results.map((r) => r.status === "rejected" && r.reason instanceof LeaseLostError),
    );
  }, { store, lockDuration: 1000 });
  worker.events.on("error", () => {});
  const job = await queue.add("x", null);
  await started.promise;
  skew = 5000;
  await store.recoverStalledJobs("q", 5);
  release.resolve();
  assert.deepEqual(await outcome.promise, [true, true, true]);
  await job.waitUntilFinished();
  await worker.close();
  await queue.close();
  await store.disconnect();
});
