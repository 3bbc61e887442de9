import assert from "node:assert/strict";
import { InvalidJobStateError, StoreClosedError } from "@conveyor/shared";
import { fakeTime, newStore } from "./_test_util.ts";
import { Queue } from "./queue.ts";

Deno.test("Queue refuses a bad name or bad options with a message naming them", async () => {
  const store = await newStore();
  assert.throws(() => new Queue("", { store }), {
    name: "RangeError",
    message: 'Cannot create queue "": queue name must not be empty',
  });
  assert.throws(() => new Queue(42 as never, { store }), { name: "TypeError" });
  assert.throws(() => new Queue("q", {} as never), {
    name: "TypeError",
    message: 'Cannot create queue "q": store must be a StoreInterface, got undefined',
  });
  assert.throws(() => new Queue("q", { store, colour: "red" } as never), {
    name: "TypeError",
    message: /unknown option "colour"/,
  });
  assert.throws(() => new Queue("q", { store, defaultJobOptions: { attempts: 0 } }), {
    name: "RangeError",
    message: /attempts must be >= 1, got 0/,
  });
  await store.disconnect();
});

Deno.test("Queue.add returns a waiting job with its payload and options", async () => {
  const store = await newStore();
  const queue = new Queue<{ to: string }>("emails", { store });
  const job = await queue.add("send-email", { to: "a@example.com" }, { priority: 3, attempts: 2 });
  assert.equal(job.name, "send-email");
  assert.equal(job.queueName, "emails");
  assert.deepEqual(job.data, { to: "a@example.com" });
  assert.equal(job.state, "waiting");
  assert.equal(job.priority, 3);
  assert.equal(job.opts.attempts, 2);
  assert.equal(job.isDuplicate, false);
  assert.equal(await job.getState(), "waiting");
  const stored = await queue.getJob(job.id);
  assert.deepEqual(stored?.data, { to: "a@example.com" });
  await queue.close();
  await store.disconnect();
});

Deno.test("Queue.add names the bad field and value of invalid options", async () => {
  const store = await newStore();
  const queue = new Queue("emails", { store });
  await assert.rejects(() => queue.add("send-email", {}, { attempts: 0 }), {
    name: "RangeError",
    message: 'Cannot add job "send-email": attempts must be >= 1, got 0',
  });
  await assert.rejects(() => queue.add("send-email", {}, { priority: -1 }), {
    name: "RangeError",
    message: /priority must be between 0 and/,
  });
  await assert.rejects(() => queue.add("send-email", {}, { delay: "soon" }), {
    name: "RangeError",
    message: /cannot parse duration "soon"/,
  });
  await assert.rejects(() => queue.add("", {}), {
    name: "RangeError",
    message: /must not be empty/,
  });
  await assert.rejects(() => queue.add("x", {}, { colour: 1 } as never), {
    name: "TypeError",
    message: /unknown option "colour"/,
  });
  await assert.rejects(
    () => queue.add("x", {}, { repeat: { key: "k", slot: 0, count: 1 } } as never),
    { name: "TypeError", message: /set by queue.cron\(\)/ },
  );
  assert.equal(await queue.countJobs(), 0);
  await queue.close();
  await store.disconnect();
});

Deno.test("Queue.add refuses payloads that cannot round-trip as JSON", async () => {
  const store = await newStore();
  const queue = new Queue<unknown>("q", { store });
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  for (
    const [payload, message] of [
      [{ f: () => 1 }, /\$\.f is a function/],
      [{ n: 10n }, /\$\.n is a BigInt/],
      [cyclic, /circular/],
      [{ when: new Date(0) }, /is a Date/],
      [{ n: NaN }, /\$\.n is NaN/],
    ] as const
  ) {
    await assert.rejects(() => queue.add("x", payload), { name: "TypeError", message: message });
  }
  assert.equal(await queue.countJobs(), 0);
  await queue.close();
  await store.disconnect();
});

Deno.test("Queue.add delays a job by ms or a human-readable duration", async () => {
  const clock = fakeTime();
  const store = await newStore();
  const queue = new Queue("q", { store });
  try {
    const a = await queue.add("a", null, { delay: 1500 });
    const b = await queue.add("b", null, { delay: "5s" });
    const c = await queue.add("c", null, { delay: "in 10 minutes" });
    assert.equal(a.state, "delayed");
    assert.equal(b.opts.delay, 5000);
    assert.equal(c.opts.delay, 600_000);
    const stored = await queue.getJob(c.id);
    assert.equal(stored?.delayUntil, Date.now() + 600_000);
    assert.equal(await queue.countJobs("delayed"), 3);
  } finally {
    await queue.close();
    await store.disconnect();
    clock.uninstall();
  }
});

Deno.test("Queue.add reports a duplicate job id and returns the existing job", async () => {
  const store = await newStore();
  const queue = new Queue<{ n: number }>("q", { store });
  const first = await queue.add("x", { n: 1 }, { jobId: "order-1" });
  const second = await queue.add("x", { n: 2 }, { jobId: "order-1" });
  assert.equal(first.isDuplicate, false);
  assert.equal(second.isDuplicate, true);
  assert.equal(second.id, "order-1");
  assert.deepEqual(second.data, { n: 1 });
  assert.equal(await queue.countJobs(), 1);
  await queue.close();
  await store.disconnect();
});

Deno.test("Queue.add deduplicates by key and by payload hash", async () => {
  const store = await newStore();
  const queue = new Queue<{ to: string; n?: number }>("q", { store });
  const a = await queue.add("send", { to: "a" }, { deduplication: { id: "user-1" } });
  const b = await queue.add("send", { to: "b" }, { deduplication: { id: "user-1" } });
  assert.equal(b.isDuplicate, true);
  assert.equal(b.id, a.id);
  const h1 = await queue.add("send", { to: "c", n: 1 }, { deduplication: {} });
  const h2 = await queue.add("send", { n: 1, to: "c" }, { deduplication: {} });
  const h3 = await queue.add("send", { n: 2, to: "c" }, { deduplication: {} });
  assert.equal(h2.isDuplicate, true);
  assert.equal(h2.id, h1.id);
  assert.equal(h3.isDuplicate, false);
  assert.equal(await queue.countJobs(), 3);
  await queue.close();
  await store.disconnect();
});

Deno.test("Queue.add deduplication with a ttl holds the key only for the ttl", async () => {
  const clock = fakeTime();
  const store = await newStore();
  const queue = new Queue("q", { store });
  try {
    const opts = { deduplication: { id: "k", ttl: 1000 } };
    assert.equal((await queue.add("x", 1, opts)).isDuplicate, false);
    clock.tick(999);
    assert.equal((await queue.add("x", 2, opts)).isDuplicate, true);
    clock.tick(1);
    assert.equal((await queue.add("x", 3, opts)).isDuplicate, false);
  } finally {
    await queue.close();
    await store.disconnect();
    clock.uninstall();
  }
});

Deno.test("Queue.addBulk saves many jobs at once and reports duplicates in order", async () => {
  const store = await newStore();
  const queue = new Queue<number>("q", { store });
  await queue.add("x", 0, { jobId: "taken" });
  const jobs = await queue.addBulk([
    { name: "x", data: 1 },
    { name: "x", data: 2, opts: { jobId: "taken" } },
    { name: "y", data: 3, opts: { delay: 1000 } },
  ]);
  assert.deepEqual(jobs.map((j) => j.isDuplicate), [false, true, false]);
  assert.deepEqual(jobs.map((j) => j.data), [1, 0, 3]);
  assert.equal(jobs[2].state, "delayed");
  assert.equal(await queue.countJobs(), 3);
  assert.deepEqual(await queue.addBulk([]), []);
  await assert.rejects(
    () => queue.addBulk([{ name: "ok", data: 1 }, { name: "bad", data: 1, opts: { attempts: 0 } }]),
    { name: "RangeError", message: /Cannot add job "bad": attempts must be >= 1/ },
  );
  assert.equal(await queue.countJobs(), 3, "nothing of a bad bulk is saved");
  await queue.close();
  await store.disconnect();
});

Deno.test("Queue defaultJobOptions apply to every add and add's options win", async () => {
  const store = await newStore();
  const queue = new Queue("q", { store, defaultJobOptions: { attempts: 3, priority: 5 } });
  const a = await queue.add("x", null);
  const b = await queue.add("x", null, { priority: 1 });
  assert.equal(a.opts.attempts, 3);
  assert.equal(a.priority, 5);
  assert.equal(b.opts.attempts, 3);
  assert.equal(b.priority, 1);
  await queue.close();
  await store.disconnect();
});

Deno.test("Queue lists, counts and removes jobs", async () => {
  const store = await newStore();
  const queue = new Queue<number>("q", { store });
  for (let i = 0; i < 5; i++) await queue.add("x", i);
  await queue.add("later", 9, { delay: 60_000 });
  assert.equal(await queue.countJobs(), 6);
  assert.equal(await queue.countJobs("waiting"), 5);
  const page = await queue.listJobs("waiting", { offset: 1, limit: 2 });
  assert.deepEqual(page.map((j) => j.data), [1, 2]);
  const counts = await queue.getJobCounts();
  assert.equal(counts.waiting, 5);
  assert.equal(counts.delayed, 1);
  assert.equal(counts.completed, 0);
  assert.equal(await queue.removeJob(page[0].id), true);
  assert.equal(await queue.removeJob(page[0].id), false);
  assert.equal(await queue.getJob("missing"), null);
  await assert.rejects(() => queue.countJobs("done" as never), {
    name: "RangeError",
    message: /state must be one of waiting, .*got "done"/,
  });
  await assert.rejects(() => queue.listJobs(undefined, { limit: 0 }), { name: "RangeError" });
  await queue.close();
  await store.disconnect();
});

Deno.test("Queue.pause and resume stop and restart claims, for the queue or one job name", async () => {
  const store = await newStore();
  const queue = new Queue("q", { store });
  await queue.add("a", 1);
  await queue.add("b", 2);
  await queue.pause("a");
  assert.equal(await queue.isPaused("a"), true);
  assert.equal(await queue.isPaused("b"), false);
  assert.equal(await queue.isPaused(), false);
  let claimed = await store.fetchNextJobs("q", "w", 1000, 10);
  assert.deepEqual(claimed.map((j) => j.name), ["b"]);
  await queue.pause();
  assert.equal(await queue.isPaused(), true);
  assert.equal(await queue.isPaused("b"), true);
  await queue.resume("a");
  assert.deepEqual(await store.fetchNextJobs("q", "w", 1000, 10), []);
  await queue.resume();
  claimed = await store.fetchNextJobs("q", "w", 1000, 10);
  assert.deepEqual(claimed.map((j) => j.name), ["a"]);
  await assert.rejects(() => queue.pause("*"), { name: "RangeError" });
  await queue.close();
  await store.disconnect();
});

Deno.test("Queue.clean removes old finished jobs and Queue.drain removes waiting ones", async () => {
  const clock = fakeTime();
  const store = await newStore();
  const queue = new Queue<number>("q", { store });
  try {
    for (let i = 0; i < 3; i++) await queue.add("x", i);
    for (const job of await store.fetchNextJobs("q", "w", 1000, 3)) {
      await store.completeJob("q", job.id, job.lockToken!, null);
    }
    clock.tick(10_000);
    await queue.add("x", 3);
    await queue.add("x", 4, { delay: 100_000 });
    assert.deepEqual(await queue.clean("completed", "1h"), []);
    const removed = await queue.clean("completed", "5s", 2);
    assert.equal(removed.length, 2);
    assert.equal(await queue.countJobs("completed"), 1);
    assert.equal(await queue.drain(false), 1);
    assert.equal(await queue.countJobs("delayed"), 1);
    assert.equal(await queue.drain(), 1);
    assert.equal(await queue.countJobs("delayed"), 0);
    await assert.rejects(() => queue.clean("completed", -1), { name: "RangeError" });
  } finally {
    await queue.close();
    await store.disconnect();
    clock.uninstall();
  }
});

Deno.test("Queue.events forwards the store's events with a typed detail", async () => {
  const store = await newStore();
  const queue = new Queue("q", { store });
  const seen: string[] = [];
  queue.events.on("waiting", (e) => {
    seen.push(`waiting:${e.detail.jobId}:${e.detail.name}`);
  });
  queue.events.on("delayed", (e) => {
    seen.push(`delayed:${e.detail.jobId}`);
  });
  await queue.add("x", null, { jobId: "1" });
  await queue.add("x", null, { jobId: "2", delay: 1000 });
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.deepEqual(seen, ["waiting:1:x", "delayed:2"]);
  await queue.close();
  await store.disconnect();
});

Deno.test("Queue.close makes further calls fail with StoreClosedError", async () => {
  const store = await newStore();
  const queue = new Queue("q", { store });
  await queue.close();
  await queue.close();
  await assert.rejects(() => queue.add("x", null), StoreClosedError);
  await assert.rejects(() => queue.countJobs(), { message: 'Queue "q" is closed' });
  await store.disconnect();
});

Deno.test("Queue.removeJob refuses an active job", async () => {
  const store = await newStore();
  const queue = new Queue("q", { store });
  const job = await queue.add("x", null);
  await store.fetchNextJobs("q", "w", 1000, 1);
  await assert.rejects(() => queue.removeJob(job.id), InvalidJobStateError);
  await queue.close();
  await store.disconnect();
});

Deno.test("Queue.add gives every job its own random UUID", async () => {
  const store = await newStore();
  const queue = new Queue("q", { store });
  const ids = new Set<string>();
  // More adds than one batch of ids made ahead, through both the common and the general path.
  for (let i = 0; i < 150; i++) {
    const job = await queue.add("n", i, i % 2 === 0 ? undefined : { priority: 1 });
    assert.match(job.id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    ids.add(job.id);
  }
  assert.equal(ids.size, 150);
  assert.equal(await queue.countJobs(), 150);
  await queue.close();
  await store.disconnect();
});
