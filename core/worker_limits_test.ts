import assert from "node:assert/strict";
import { deferred, fakeTime, newStore, settle } from "./_test_util.ts";
import type { Job } from "./job.ts";
import { Queue } from "./queue.ts";
import { Worker } from "./worker.ts";

Deno.test("Worker rate-limits starts with a sliding window", async () => {
  const clock = fakeTime();
  const store = await newStore();
  const queue = new Queue<number>("q", { store });
  const starts: number[] = [];
  const worker = new Worker("q", () => {
    starts.push(Date.now());
  }, { store, concurrency: 10, limiter: { max: 2, duration: 1000 }, pollInterval: 60_000 });
  try {
    const t0 = Date.now();
    await queue.addBulk(Array.from({ length: 5 }, (_, i) => ({ name: "x", data: i })));
    await clock.tickAsync(2500);
    await settle(clock, () => starts.length === 5);
    assert.deepEqual(starts.map((t) => t - t0), [0, 0, 1000, 1000, 2000]);
  } finally {
    await worker.close();
    await queue.close();
    await store.disconnect();
    clock.uninstall();
  }
});

Deno.test("Worker rate limit is shared by every worker of the queue", async () => {
  const clock = fakeTime();
  const store = await newStore();
  const queue = new Queue<number>("q", { store });
  const starts: number[] = [];
  const opts = { store, limiter: { max: 3, duration: 1000 }, concurrency: 5, pollInterval: 60_000 };
  const workers = [1, 2].map(() =>
    new Worker("q", () => {
      starts.push(Date.now());
    }, opts)
  );
  try {
    const t0 = Date.now();
    await queue.addBulk(Array.from({ length: 9 }, (_, i) => ({ name: "x", data: i })));
    await clock.tickAsync(2500);
    await settle(clock, () => starts.length === 9);
    const perWindow = [0, 0, 0];
    for (const t of starts) perWindow[Math.floor((t - t0) / 1000)]++;
    assert.deepEqual(perWindow, [3, 3, 3]);
  } finally {
    await Promise.all(workers.map((w) => w.close()));
    await queue.close();
    await store.disconnect();
    clock.uninstall();
  }
});

Deno.test("Worker limits each group to group.concurrency running jobs", async () => {
  const store = await newStore();
  const queue = new Queue<string>("q", { store });
  const running = new Map<string, number>();
  let peakPerGroup = 0;
  let peakTotal = 0;
  let total = 0;
  const worker = new Worker<string>("q", async (job) => {
    const g = job.data;
    running.set(g, (running.get(g) ?? 0) + 1);
    total++;
    peakPerGroup = Math.max(peakPerGroup, running.get(g)!);
    peakTotal = Math.max(peakTotal, total);
    await new Promise((r) => setTimeout(r, 2));
    running.set(g, running.get(g)! - 1);
    total--;
  }, { store, concurrency: 10, group: { concurrency: 2 } });
  const jobs = await queue.addBulk(
    ["a", "b", "c"].flatMap((g) =>
      Array.from({ length: 6 }, () => ({ name: "x", data: g, opts: { groupId: g } }))
    ),
  );
  await Promise.all(jobs.map((j) => j.waitUntilFinished()));
  assert.equal(peakPerGroup, 2);
  assert.equal(peakTotal, 6);
  await worker.close();
  await queue.close();
  await store.disconnect();
});

Deno.test("Worker maxGlobalConcurrency caps running jobs across workers", async () => {
  const store = await newStore();
  const queue = new Queue<number>("q", { store });
  let running = 0;
  let peak = 0;
  const processor = async () => {
    running++;
    peak = Math.max(peak, running);
    await new Promise((r) => setTimeout(r, 2));
    running--;
  };
  const workers = [1, 2, 3].map(() =>
    new Worker("q", processor, { store, concurrency: 4, maxGlobalConcurrency: 3 })
  );
  const jobs = await queue.addBulk(Array.from({ length: 20 }, (_, i) => ({ name: "x", data: i })));
  await Promise.all(jobs.map((j) => j.waitUntilFinished()));
  assert.equal(peak, 3);
  await Promise.all(workers.map((w) => w.close()));
  await queue.close();
  await store.disconnect();
});

Deno.test("Worker with batch hands the processor up to batch.size jobs at once", async () => {
  const store = await newStore();
  const queue = new Queue<number, number>("q", { store });
  await queue.addBulk(Array.from({ length: 7 }, (_, i) => ({ name: "x", data: i })));
  const sizes: number[] = [];
  const drained = deferred();
  const worker = new Worker<number, number>("q", (jobs: Job<number, number>[]) => {
    sizes.push(jobs.length);
    return jobs.map((job) => job.data === 4 ? new Error("four is bad") : job.data * 10);
  }, { store, batch: { size: 3 } });
  worker.events.on("drained", () => drained.resolve());
  await drained.promise;
  assert.deepEqual(sizes, [3, 3, 1]);
  const completed = await queue.listJobs("completed");
  assert.deepEqual(completed.map((j) => j.returnValue).sort((a, b) => a! - b!), [
    0,
    10,
    20,
    30,
    50,
    60,
  ]);
  const failed = await queue.listJobs("failed");
  assert.deepEqual(failed.map((j) => [j.data, j.failedReason]), [[4, "four is bad"]]);
  await worker.close();
  await queue.close();
  await store.disconnect();
});

Deno.test("Worker with batch fails every job of a batch whose processor throws", async () => {
  const store = await newStore();
  const queue = new Queue<number>("q", { store });
  const jobs = await queue.addBulk([1, 2, 3].map((i) => ({ name: "x", data: i })));
  const worker = new Worker("q", () => {
    throw new Error("batch broke");
  }, { store, batch: { size: 10 } });
  for (const job of jobs) {
    await assert.rejects(() => job.waitUntilFinished(), { message: /batch broke/ });
  }
  await worker.close();
  await queue.close();
  await store.disconnect();
});
