import assert from "node:assert/strict";
import { deferred, fakeTime, flush, newStore, withOverrides } from "./_test_util.ts";
import { Queue } from "./queue.ts";
import { Worker } from "./worker.ts";

Deno.test("Worker with prefetch leases jobs ahead but runs only `concurrency` at once", async () => {
  const store = await newStore();
  const queue = new Queue("q", { store });
  const gate = deferred();
  let running = 0;
  let peak = 0;
  const order: number[] = [];
  const worker = new Worker<{ i: number }>("q", async (job) => {
    running++;
    peak = Math.max(peak, running);
    order.push(job.data.i);
    await gate.promise;
    running--;
  }, { store, concurrency: 1, prefetch: 3, autorun: false });
  try {
    for (let i = 0; i < 6; i++) await queue.add("x", { i });
    worker.run();
    await flush(50);
    // One runs, three wait in the worker's local queue: four leases, two jobs still waiting.
    assert.equal(running, 1);
    assert.equal(await store.countJobs("q", "active"), 4);
    assert.equal(await store.countJobs("q", "waiting"), 2);
    gate.resolve();
    for (let i = 0; i < 200 && (await store.countJobs("q", "completed")) < 6; i++) await flush();
    assert.equal(await store.countJobs("q", "completed"), 6);
    assert.equal(peak, 1);
    assert.deepEqual(order, [0, 1, 2, 3, 4, 5]);
  } finally {
    await worker.close();
    await queue.close();
    await store.disconnect();
  }
});

Deno.test("Worker.close gives prefetched jobs back without counting an attempt", async () => {
  const store = await newStore();
  const queue = new Queue("q", { store });
  const started = deferred();
  const worker = new Worker("q", async () => {
    started.resolve();
    await new Promise((resolve) => setTimeout(resolve, 5));
  }, { store, concurrency: 1, prefetch: 4 });
  try {
    const jobs = [];
    for (let i = 0; i < 5; i++) jobs.push(await queue.add("x", { i }));
    await started.promise;
    await worker.close();
    // The running job finished; the four held in the local queue are waiting again, untouched.
    assert.equal(await store.countJobs("q", "completed"), 1);
    assert.equal(await store.countJobs("q", "active"), 0);
    assert.equal(await store.countJobs("q", "waiting"), 4);
    for (const job of jobs.slice(1)) {
      const stored = await queue.getJob(job.id);
      assert.equal(stored?.state, "waiting");
      assert.equal(stored?.attemptsMade, 0);
    }
    // Another worker takes them.
    const next = new Worker("q", () => "ok", { store, concurrency: 2 });
    await Promise.all(jobs.slice(1).map((job) => job.waitUntilFinished()));
    await next.close();
    assert.equal(await store.countJobs("q", "completed"), 5);
  } finally {
    await worker.close();
    await queue.close();
    await store.disconnect();
  }
});

Deno.test("Worker.pause gives prefetched jobs back; resume claims them again", async () => {
  const store = await newStore();
  const queue = new Queue("q", { store });
  const gate = deferred();
  const worker = new Worker("q", async () => {
    await gate.promise;
  }, { store, concurrency: 1, prefetch: 2, autorun: false });
  try {
    for (let i = 0; i < 3; i++) await queue.add("x", { i });
    worker.run();
    await flush(50);
    assert.equal(await store.countJobs("q", "active"), 3);
    const paused = worker.pause();
    await flush(50);
    assert.equal(await store.countJobs("q", "active"), 1);
    assert.equal(await store.countJobs("q", "waiting"), 2);
    gate.resolve();
    await paused;
    assert.equal(await store.countJobs("q", "completed"), 1);
    worker.resume();
    for (let i = 0; i < 200 && (await store.countJobs("q", "completed")) < 3; i++) await flush();
    assert.equal(await store.countJobs("q", "completed"), 3);
  } finally {
    await worker.close();
    await queue.close();
    await store.disconnect();
  }
});

Deno.test("Worker renews the leases of prefetched jobs while they wait", async () => {
  const clock = fakeTime();
  const store = await newStore();
  const queue = new Queue("q", { store });
  const stalled: string[] = [];
  const worker = new Worker("q", async () => {
    await new Promise((resolve) => setTimeout(resolve, 3000));
  }, {
    store,
    concurrency: 1,
    prefetch: 2,
    lockDuration: 1000,
    stalledInterval: 300,
    pollInterval: 60_000,
  });
  worker.events.on("stalled", (e) => {
    stalled.push(e.detail.jobId);
  });
  try {
    const jobs = [];
    for (let i = 0; i < 3; i++) jobs.push(await queue.add("x", { i }));
    // The third job waits 6 s in the local queue, six lease durations.
    for (let t = 0; t < 9500; t += 250) {
      await clock.tickAsync(250);
      assert.deepEqual(await store.getStalledJobs("q"), []);
    }
    for (const job of jobs) {
      const stored = await queue.getJob(job.id);
      assert.equal(stored?.state, "completed");
      assert.equal(stored?.stalledCount, 0);
      assert.equal(stored?.attemptsStarted, 1);
    }
    assert.deepEqual(stalled, []);
  } finally {
    await worker.close();
    await queue.close();
    await store.disconnect();
    clock.uninstall();
  }
});

Deno.test("Worker checks prefetch: an integer >= 0, not with batch", async () => {
  const store = await newStore();
  try {
    assert.throws(
      () => new Worker("q", () => {}, { store, prefetch: -1, autorun: false }),
      (e: unknown) => e instanceof RangeError && /prefetch must be .*>= 0, got -1/.test(e.message),
    );
    assert.throws(
      () => new Worker("q", () => {}, { store, prefetch: 1.5, autorun: false }),
      (e: unknown) => e instanceof TypeError && /prefetch must be an integer/.test(e.message),
    );
    assert.throws(
      () => new Worker("q", () => {}, { store, prefetch: "10" as never, autorun: false }),
      (e: unknown) => e instanceof TypeError && /prefetch/.test(e.message),
    );
    assert.throws(
      () =>
        new Worker("q", () => {}, {
          store,
          prefetch: 4,
          batch: { size: 2 },
          autorun: false,
        } as never),
      (e: unknown) => e instanceof TypeError && /prefetch.*batch/.test(e.message),
    );
  } finally {
    await store.disconnect();
  }
});

Deno.test("Worker with prefetch keeps up to concurrency + prefetch completions in flight", async () => {
  const store = await newStore();
  const queue = new Queue("q", { store });
  const gate = deferred();
  let pending = 0;
  let peak = 0;
  // A store whose completions wait for the gate: how many does the worker issue at once?
  const slow = withOverrides(store, {
    completeJob: async (...args: Parameters<typeof store.completeJob>) => {
      pending++;
      peak = Math.max(peak, pending);
      await gate.promise;
      pending--;
      return await store.completeJob(...args);
    },
  });
  const worker = new Worker("q", () => "ok", {
    store: slow,
    concurrency: 1,
    prefetch: 3,
    autorun: false,
  });
  try {
    for (let i = 0; i < 6; i++) await queue.add("x", { i });
    worker.run();
    await flush(100);
    // Four finishes (concurrency 1 + prefetch 3) gave their slot back while their completions
    // wait; the fifth job's finish keeps its slot, so the sixth waits.
    assert.equal(peak, 5);
    assert.equal(pending, 5);
    assert.equal(await store.countJobs("q", "waiting") + await store.countJobs("q", "active"), 6);
    gate.resolve();
    for (let i = 0; i < 200 && (await store.countJobs("q", "completed")) < 6; i++) await flush();
    assert.equal(await store.countJobs("q", "completed"), 6);
  } finally {
    gate.resolve();
    await worker.close();
    await queue.close();
    await store.disconnect();
  }
});

Deno.test("Worker with prefetch claims again once half its local queue is free, not per slot", async () => {
  const base = await newStore();
  const asked: { count: number; held: number }[] = [];
  let active = 0;
  const store = withOverrides(base, {
    async fetchNextJobs(...args: Parameters<typeof base.fetchNextJobs>) {
      const jobs = await base.fetchNextJobs(...args);
      asked.push({ count: args[3], held: active });
      active += jobs.length;
      return jobs;
    },
    async completeJob(...args: Parameters<typeof base.completeJob>) {
      active--;
      return await base.completeJob(...args);
    },
  });
  const queue = new Queue("q", { store: base });
  let done = 0;
  const worker = new Worker("q", async () => {
    await Promise.resolve();
    done++;
  }, { store, concurrency: 2, prefetch: 8, autorun: false });
  try {
    for (let i = 0; i < 60; i++) await queue.add("x", { i });
    worker.run();
    for (let i = 0; i < 500 && done < 60; i++) await flush();
    assert.equal(done, 60);
    // Capacity 10: a claim made while leased jobs remain asks for at least 5.
    const small = asked.filter((a) => a.held > 0 && a.count < 5);
    assert.deepEqual(small, [], `claims: ${JSON.stringify(asked)}`);
    assert.ok(asked.length <= 60 / 5 + 2, `claims: ${JSON.stringify(asked)}`);
  } finally {
    await worker.close();
    await queue.close();
    await base.disconnect();
  }
});
