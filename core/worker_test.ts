import assert from "node:assert/strict";
import { deferred, fakeTime, newStore, settle, withOverrides } from "./_test_util.ts";
import type { Job } from "./job.ts";
import { Queue } from "./queue.ts";
import { Worker } from "./worker.ts";

Deno.test("Worker refuses invalid options with a message naming them", async () => {
  const store = await newStore();
  const noop = () => {};
  const cases: [unknown, string, RegExp][] = [
    [
      { store, concurrency: 0 },
      "RangeError",
      /^Cannot create worker for queue "q": concurrency must be >= 1, got 0$/,
    ],
    [{ store, concurrency: 1.5 }, "TypeError", /concurrency must be an integer, got 1.5/],
    [
      { store, lockDuration: 1000, lockRenewTime: 1000 },
      "RangeError",
      /lockRenewTime must be less than lockDuration/,
    ],
    [
      { store, limiter: { max: 0, duration: 1000 } },
      "RangeError",
      /limiter.max must be >= 1, got 0/,
    ],
    [{ store, batch: { size: 0 } }, "RangeError", /batch.size must be >= 1/],
    [{ store, group: { concurrency: -1 } }, "RangeError", /group.concurrency must be >= 1/],
    [{ store, backoffStrategies: { fixed: noop } }, "RangeError", /"fixed" is a built-in strategy/],
    [
      { store, backoffStrategies: { slow: 5 } },
      "TypeError",
      /backoffStrategies.slow must be a function/,
    ],
    [{ store, pollInterval: 0 }, "RangeError", /pollInterval must be >= 1/],
    [{ store, speed: 1 }, "TypeError", /unknown option "speed"/],
    [{}, "TypeError", /store must be a StoreInterface/],
  ];
  for (const [options, name, message] of cases) {
    assert.throws(() => new Worker("q", noop, options as never), { name, message });
  }
  assert.throws(() => new Worker("q", "nope" as never, { store }), {
    name: "TypeError",
    message: /processor must be a function/,
  });
  assert.throws(() => new Worker("", noop, { store }), { name: "RangeError" });
  await store.disconnect();
});

Deno.test("Worker runs jobs and emits active and completed with the return value", async () => {
  const store = await newStore();
  const queue = new Queue<{ n: number }, number>("q", { store });
  const worker = new Worker<{ n: number }, number>("q", (job) => job.data.n * 2, { store });
  const events: string[] = [];
  worker.events.on("active", (e) => {
    events.push(`active:${e.detail.jobId}`);
  });
  worker.events.on("completed", (e) => {
    events.push(`completed:${e.detail.jobId}:${e.detail.returnValue}`);
    assert.ok(e.detail.duration >= 0);
  });
  const job = await queue.add("double", { n: 21 }, { jobId: "j1" });
  assert.equal(await job.waitUntilFinished(), 42);
  assert.deepEqual(events, ["active:j1", "completed:j1:42"]);
  const done = await queue.getJob("j1");
  assert.equal(done?.state, "completed");
  assert.equal(done?.returnValue, 42);
  assert.equal(done?.attemptsMade, 1);
  await worker.close();
  await queue.close();
  await store.disconnect();
});

Deno.test("Worker starts a job added while idle at once, without waiting for a poll", async () => {
  const clock = fakeTime();
  const store = await newStore();
  const queue = new Queue("q", { store });
  const started: number[] = [];
  const worker = new Worker("q", () => {
    started.push(Date.now());
  }, { store, pollInterval: 60_000 });
  try {
    const drained = deferred();
    worker.events.once("drained", () => drained.resolve());
    await drained.promise;
    const t0 = Date.now();
    const job = await queue.add("x", null);
    await job.waitUntilFinished(); // no timer ticks: woken by the store's event
    assert.deepEqual(started, [t0]);
  } finally {
    await worker.close();
    await queue.close();
    await store.disconnect();
    clock.uninstall();
  }
});

Deno.test("Worker runs at most `concurrency` jobs at once", async () => {
  const store = await newStore();
  const queue = new Queue<number>("q", { store });
  let running = 0;
  let peak = 0;
  const gate = deferred();
  const worker = new Worker<number>("q", async () => {
    running++;
    peak = Math.max(peak, running);
    await gate.promise;
    running--;
  }, { store, concurrency: 3 });
  const jobs = await queue.addBulk(Array.from({ length: 10 }, (_, i) => ({ name: "x", data: i })));
  while (worker.activeCount < 3) await new Promise((r) => setTimeout(r, 1));
  assert.equal(await queue.countJobs("active"), 3);
  gate.resolve();
  await Promise.all(jobs.map((j) => j.waitUntilFinished()));
  assert.equal(peak, 3);
  await worker.close();
  await queue.close();
  await store.disconnect();
});

Deno.test("Worker instances sharing a queue never run a job twice", async () => {
  const store = await newStore();
  const queue = new Queue<number>("q", { store });
  const runs = new Map<string, number>();
  const processor = async (job: Job<number>) => {
    runs.set(job.id, (runs.get(job.id) ?? 0) + 1);
    for (let i = 0; i < job.data % 5; i++) await Promise.resolve();
  };
  const workers = Array.from(
    { length: 5 },
    () => new Worker("q", processor, { store, concurrency: 8 }),
  );
  const jobs = await queue.addBulk(Array.from({ length: 500 }, (_, i) => ({ name: "x", data: i })));
  for (let i = 0; i < 100; i++) await queue.add("late", i);
  await Promise.all(jobs.map((j) => j.waitUntilFinished()));
  while (await queue.countJobs("completed") < 600) await new Promise((r) => setTimeout(r, 1));
  assert.equal(runs.size, 600);
  assert.ok([...runs.values()].every((n) => n === 1), "every job ran exactly once");
  await Promise.all(workers.map((w) => w.close()));
  await queue.close();
  await store.disconnect();
});

Deno.test("Worker.close waits for running jobs to finish", async () => {
  const store = await newStore();
  const queue = new Queue("q", { store });
  const gate = deferred();
  const started = deferred();
  const worker = new Worker("q", async () => {
    started.resolve();
    await gate.promise;
    return "done";
  }, { store });
  const job = await queue.add("x", null);
  await started.promise;
  let closed = false;
  const closing = worker.close().then(() => closed = true);
  await new Promise((r) => setTimeout(r, 5));
  assert.equal(closed, false);
  gate.resolve();
  await closing;
  assert.equal(await job.getState(), "completed");
  assert.equal(worker.close(), worker.close(), "close returns the same promise");
  await queue.close();
  await store.disconnect();
});

Deno.test("Worker.close(timeout) aborts running jobs and gives their leases back", async () => {
  const clock = fakeTime();
  const store = await newStore();
  const queue = new Queue("q", { store });
  let reason: unknown;
  const worker = new Worker("q", (_job, signal) =>
    new Promise((_resolve, reject) => {
      signal.addEventListener("abort", () => {
        reason = signal.reason;
        reject(signal.reason);
      });
    }), { store });
  try {
    const job = await queue.add("x", null);
    await settle(clock, () => worker.activeCount === 1);
    const closing = worker.close(1000);
    await clock.tickAsync(999);
    assert.equal(await job.getState(), "active");
    await clock.tickAsync(1);
    await closing;
    assert.ok(reason instanceof DOMException && reason.name === "AbortError");
    const back = await queue.getJob(job.id);
    assert.equal(back?.state, "waiting");
    assert.equal(back?.attemptsMade, 0);
  } finally {
    await queue.close();
    await store.disconnect();
    clock.uninstall();
  }
});

Deno.test("Worker.pause stops claiming jobs and resume starts again", async () => {
  const store = await newStore();
  const queue = new Queue("q", { store });
  const seen: string[] = [];
  const worker = new Worker("q", (job) => {
    seen.push(job.name);
  }, { store });
  worker.events.on("paused", () => {
    seen.push("paused");
  });
  worker.events.on("resumed", () => {
    seen.push("resumed");
  });
  await (await queue.add("a", null)).waitUntilFinished();
  await worker.pause();
  assert.equal(worker.isPaused(), true);
  const b = await queue.add("b", null);
  await new Promise((r) => setTimeout(r, 5));
  assert.equal(await b.getState(), "waiting");
  worker.resume();
  await b.waitUntilFinished();
  assert.deepEqual(seen, ["a", "paused", "resumed", "b"]);
  await worker.close();
  await queue.close();
  await store.disconnect();
});

Deno.test("Worker sleeps until a delayed job is due and then runs it", async () => {
  const clock = fakeTime();
  const store = await newStore();
  const queue = new Queue("q", { store });
  const started: number[] = [];
  const worker = new Worker("q", () => {
    started.push(Date.now());
  }, { store, pollInterval: 60_000 });
  try {
    const t0 = Date.now();
    await queue.add("later", null, { delay: 5000 });
    await clock.tickAsync(4999);
    assert.deepEqual(started, []);
    await clock.tickAsync(1);
    await settle(clock, () => started.length === 1);
    assert.deepEqual(started, [t0 + 5000]);
  } finally {
    await worker.close();
    await queue.close();
    await store.disconnect();
    clock.uninstall();
  }
});

Deno.test("Worker emits drained when it has no job left", async () => {
  const store = await newStore();
  const queue = new Queue("q", { store });
  await queue.addBulk([{ name: "a", data: 1 }, { name: "b", data: 2 }]);
  const worker = new Worker("q", () => {}, { store, autorun: false });
  const drained = deferred();
  worker.events.once("drained", () => drained.resolve());
  worker.run();
  await drained.promise;
  assert.equal(await queue.countJobs("completed"), 2);
  await worker.close();
  await queue.close();
  await store.disconnect();
});

Deno.test("Worker keeps running when a listener throws, and reports it as an error event", async () => {
  const store = await newStore();
  const queue = new Queue("q", { store });
  const worker = new Worker("q", () => "ok", { store });
  const errors: string[] = [];
  worker.events.on("error", (e) => {
    errors.push(e.detail.error.message);
  });
  worker.events.on("completed", () => {
    throw new Error("listener broke");
  });
  await (await queue.add("a", null)).waitUntilFinished();
  await (await queue.add("b", null)).waitUntilFinished();
  assert.deepEqual(errors, ["listener broke", "listener broke"]);
  await worker.close();
  await queue.close();
  await store.disconnect();
});

Deno.test("Worker emits progress when a job reports it", async () => {
  const store = await newStore();
  const queue = new Queue("q", { store });
  const worker = new Worker("q", async (job) => {
    await job.updateProgress(50);
    await job.updateProgress({ step: "upload", pct: 100 });
  }, { store });
  const progress: unknown[] = [];
  worker.events.on("progress", (e) => {
    progress.push(e.detail.progress);
  });
  const job = await queue.add("x", null);
  await job.waitUntilFinished();
  assert.deepEqual(progress, [50, { step: "upload", pct: 100 }]);
  assert.deepEqual((await queue.getJob(job.id))?.progress, { step: "upload", pct: 100 });
  await worker.close();
  await queue.close();
  await store.disconnect();
});

Deno.test("Worker fails an attempt whose return value is not JSON", async () => {
  const store = await newStore();
  const queue = new Queue("q", { store });
  const worker = new Worker("q", () => new Map() as unknown, { store });
  const job = await queue.add("x", null);
  await assert.rejects(() => job.waitUntilFinished(), {
    name: "JobFailedError",
    message: /Return value of job .* is a Map, not a plain object/,
  });
  await worker.close();
  await queue.close();
  await store.disconnect();
});

Deno.test("Worker survives store errors while fetching and reports them", async () => {
  const clock = fakeTime();
  const real = await newStore();
  let failures = 2;
  const store = withOverrides(real, {
    fetchNextJobs: (...args: Parameters<typeof real.fetchNextJobs>) => {
      if (failures-- > 0) return Promise.reject(new Error("connection reset"));
      return real.fetchNextJobs(...args);
    },
  });
  const queue = new Queue("q", { store });
  const errors: string[] = [];
  const worker = new Worker("q", () => "ok", { store, pollInterval: 60_000 });
  worker.events.on("error", (e) => {
    errors.push(e.detail.error.message);
  });
  try {
    const job = await queue.add("x", null);
    await clock.tickAsync(1000);
    assert.equal(await job.getState(), "completed");
    assert.deepEqual(errors, ["connection reset", "connection reset"]);
  } finally {
    await worker.close();
    await queue.close();
    await real.disconnect();
    clock.uninstall();
  }
});

Deno.test("Worker takes jobs by priority, then LIFO jobs newest first, then FIFO oldest first", async () => {
  const store = await newStore();
  const queue = new Queue("q", { store });
  await queue.add("fifo-1", null, { priority: 5 });
  await queue.add("fifo-2", null, { priority: 5 });
  await queue.add("lifo-1", null, { priority: 5, lifo: true });
  await queue.add("lifo-2", null, { priority: 5, lifo: true });
  await queue.add("urgent", null, { priority: 0 });
  await queue.add("low", null, { priority: 9 });
  const order: string[] = [];
  const worker = new Worker("q", (job) => {
    order.push(job.name);
  }, { store, autorun: false });
  const drained = deferred();
  worker.events.once("drained", () => drained.resolve());
  worker.run();
  await drained.promise;
  assert.deepEqual(order, ["urgent", "lifo-2", "lifo-1", "fifo-1", "fifo-2", "low"]);
  await worker.close();
  await queue.close();
  await store.disconnect();
});

Deno.test("Queue and Worker close cleanly after the store was disconnected", async () => {
  const store = await newStore();
  const queue = new Queue("q", { store });
  const worker = new Worker("q", () => {}, { store });
  worker.events.on("error", () => {});
  await store.disconnect();
  await worker.close();
  await queue.close();
});

Deno.test("Worker obeys a queue paused by job name and wakes when it is resumed", async () => {
  const clock = fakeTime();
  const store = await newStore();
  const queue = new Queue("q", { store });
  const ran: string[] = [];
  const worker = new Worker("q", (job) => {
    ran.push(job.name);
  }, { store, pollInterval: 60_000 });
  try {
    await queue.pause("report");
    await queue.add("report", null);
    await queue.add("email", null);
    await settle(clock, () => ran.length === 1);
    await clock.tickAsync(0);
    assert.deepEqual(ran, ["email"]);
    await queue.resume("report");
    await settle(clock, () => ran.length === 2); // no poll needed: the store's event wakes it
    assert.deepEqual(ran, ["email", "report"]);
  } finally {
    await worker.close();
    await queue.close();
    await store.disconnect();
    clock.uninstall();
  }
});

Deno.test("Worker offers to take hand-offs only when its fetches have no limits", async () => {
  const real = await newStore();
  const seen: unknown[] = [];
  const store = withOverrides(real, {
    fetchNextJobs: (...args: Parameters<typeof real.fetchNextJobs>) => {
      seen.push(args[4]);
      return real.fetchNextJobs(...args);
    },
  });
  const plain = new Worker("q", () => "ok", { store, autorun: false });
  const grouped = new Worker("g", () => "ok", { store, autorun: false, group: { concurrency: 1 } });
  try {
    plain.run(); // each run() fetches at once
    grouped.run();
    assert.deepEqual(seen, [{ handoff: true }, { groupConcurrency: 1 }]);
  } finally {
    await plain.close();
    await grouped.close();
    await real.disconnect();
  }
});

Deno.test("Worker paused by a processor as it starts starts none of the other jobs it fetched", async () => {
  for (const prefetch of [0, 2]) {
    const store = await newStore();
    const queue = new Queue("q", { store });
    await queue.addBulk([1, 2, 3].map((n) => ({ name: "n", data: n })));
    const started: number[] = [];
    const errors: Error[] = [];
    const paused = deferred<Promise<void>>();
    const worker = new Worker("q", (job) => {
      started.push(job.data);
      if (started.length === 1) paused.resolve(worker.pause());
    }, { store, concurrency: 3, prefetch, autorun: false });
    worker.events.on("error", (e) => {
      errors.push(e.detail.error);
    });
    worker.run();
    await await paused.promise;
    await new Promise((r) => setTimeout(r, 0));
    assert.deepEqual(started, [1], `prefetch ${prefetch}`);
    assert.deepEqual(errors, []);
    assert.equal(await queue.countJobs("waiting"), 2);
    assert.equal(await queue.countJobs("completed"), 1);
    worker.resume();
    await new Promise((r) => setTimeout(r, 0));
    await worker.close();
    assert.deepEqual(started.sort(), [1, 2, 3]);
    assert.equal(await queue.countJobs("completed"), 3);
    await queue.close();
    await store.disconnect();
  }
});
