import assert from "node:assert/strict";
import { install } from "@sinonjs/fake-timers";
import {
  ALL_JOB_NAMES,
  InvalidJobStateError,
  isConveyorError,
  STORE_CONTRACT_VERSION,
  StoreClosedError,
} from "@conveyor/shared";
import { MemoryStore } from "./mod.ts";
import { collect, flushEvents, newJob, storeWithClock } from "./_test_util.ts";

const Q = "q";

Deno.test("MemoryStore reports the contract version it meets", () => {
  assert.equal(new MemoryStore().contractVersion, STORE_CONTRACT_VERSION);
});

Deno.test("MemoryStore fetchNextJob claims by priority, then LIFO newest first, then FIFO", async () => {
  const { store } = storeWithClock();
  await store.saveJob(Q, newJob("fifo-1"));
  await store.saveJob(Q, newJob("low", { priority: 5 }));
  await store.saveJob(Q, newJob("lifo-1", { lifo: true }));
  await store.saveJob(Q, newJob("fifo-2"));
  await store.saveJob(Q, newJob("lifo-2", { lifo: true }));
  await store.saveJob(Q, newJob("high", { priority: 0, lifo: true }));
  const order: string[] = [];
  for (
    let job = await store.fetchNextJob(Q, "w", 1000);
    job;
    job = await store.fetchNextJob(Q, "w", 1000)
  ) {
    order.push(job.id);
  }
  assert.deepEqual(order, ["high", "lifo-2", "lifo-1", "fifo-1", "fifo-2", "low"]);
});

Deno.test("MemoryStore fetchNextJob leases the job with a fresh token, worker and expiry", async () => {
  const { store, clock } = storeWithClock(5000);
  await store.saveJob(Q, newJob("a"));
  clock.now = 6000;
  const job = await store.fetchNextJob(Q, "worker-1", 30_000);
  assert.ok(job);
  assert.equal(job.state, "active");
  assert.equal(job.lockedBy, "worker-1");
  assert.equal(typeof job.lockToken, "string");
  assert.equal(job.lockUntil, 36_000);
  assert.equal(job.processedAt, 6000);
  assert.equal(job.attemptsStarted, 1);
  assert.equal(job.createdAt, 5000);
  await store.releaseLock(Q, "a", job.lockToken!);
  const again = await store.fetchNextJob(Q, "worker-2", 1000);
  assert.notEqual(again?.lockToken, job.lockToken);
  assert.equal(again?.attemptsStarted, 2);
  assert.equal(again?.attemptsMade, 0);
});

Deno.test("MemoryStore fetchNextJob never leases one job twice under concurrent fetches", async () => {
  const store = new MemoryStore();
  await store.saveBulk(Q, Array.from({ length: 50 }, (_, i) => newJob(`j${i}`)));
  const claims = await Promise.all(
    Array.from({ length: 80 }, (_, i) => store.fetchNextJob(Q, `w${i}`, 1000)),
  );
  const ids = claims.filter((j) => j !== null).map((j) => j!.id);
  assert.equal(ids.length, 50);
  assert.equal(new Set(ids).size, 50);
  assert.equal(await store.getActiveCount(Q), 50);
});

Deno.test("MemoryStore fetchNextJobs claims up to count in claim order", async () => {
  const store = new MemoryStore();
  await store.saveBulk(Q, [newJob("a"), newJob("b", { priority: 1 }), newJob("c")]);
  const jobs = await store.fetchNextJobs(Q, "w", 1000, 2);
  assert.deepEqual(jobs.map((j) => j.id), ["a", "c"]);
  assert.deepEqual((await store.fetchNextJobs(Q, "w", 1000, 5)).map((j) => j.id), ["b"]);
  assert.deepEqual(await store.fetchNextJobs(Q, "w", 1000, 5), []);
});

Deno.test("MemoryStore returns isolated copies of jobs, in and out", async () => {
  const store = new MemoryStore();
  const data = { nested: { n: 1 }, list: [1, 2] };
  await store.saveJob(Q, { id: "a", name: "task", data, opts: {} });
  data.nested.n = 99;
  data.list.push(3);
  const first = await store.getJob(Q, "a");
  assert.deepEqual(first?.data, { nested: { n: 1 }, list: [1, 2] });
  (first!.data as { nested: { n: number } }).nested.n = 42;
  first!.logs.push("injected");
  first!.state = "completed";
  const second = await store.getJob(Q, "a");
  assert.deepEqual(second?.data, { nested: { n: 1 }, list: [1, 2] });
  assert.deepEqual(second?.logs, []);
  assert.equal(second?.state, "waiting");
  const claimed = await store.fetchNextJob(Q, "w", 1000);
  (claimed!.data as { list: number[] }).list.length = 0;
  assert.deepEqual((await store.getJob(Q, "a"))?.data, { nested: { n: 1 }, list: [1, 2] });
  const update = { data: { fresh: [1] } };
  await store.updateJob(Q, "a", update);
  update.data.fresh.push(2);
  assert.deepEqual((await store.getJob(Q, "a"))?.data, { fresh: [1] });
});

Deno.test("MemoryStore reads every time from the injected clock", async () => {
  const { store, clock } = storeWithClock(100);
  await store.saveJob(Q, newJob("d", { delay: 50 }));
  assert.equal((await store.getJob(Q, "d"))?.delayUntil, 150);
  assert.equal(await store.promoteDelayedJobs(Q), 0);
  clock.now = 150;
  assert.equal(await store.promoteDelayedJobs(Q), 1);
  const job = await store.fetchNextJob(Q, "w", 10);
  assert.equal(job?.lockUntil, 160);
  clock.now = 161;
  assert.deepEqual((await store.getStalledJobs(Q)).map((j) => j.id), ["d"]);
});

Deno.test("MemoryStore default clock follows fake timers (Date.now is read on each call)", async () => {
  const store = new MemoryStore();
  const fake = install({ now: 1_700_000_000_000, toFake: ["Date"] });
  try {
    await store.saveJob(Q, newJob("a"));
    assert.equal((await store.getJob(Q, "a"))?.createdAt, 1_700_000_000_000);
    fake.tick(5000);
    await store.saveJob(Q, newJob("b", { delay: 1000 }));
    assert.equal((await store.getJob(Q, "b"))?.delayUntil, 1_700_000_006_000);
  } finally {
    fake.uninstall();
  }
});

Deno.test("MemoryStore fences completeJob, failJob, extendLock and updateJob by lock token", async () => {
  const { store, clock } = storeWithClock(0);
  await store.saveJob(Q, newJob("a"));
  const job = (await store.fetchNextJob(Q, "w1", 1000))!;
  const token = job.lockToken!;
  assert.equal(await store.completeJob(Q, "a", "wrong", null), false);
  assert.equal(await store.extendLock(Q, "a", "wrong", 1000), false);
  assert.equal(await store.updateJob(Q, "a", { progress: 5 }, "wrong"), false);
  assert.equal(await store.addLog(Q, "a", "x", "wrong"), false);
  // An expired lease still works until stalled recovery takes the job away.
  clock.now = 2000;
  assert.equal(await store.extendLock(Q, "a", token, 1000), true);
  assert.equal((await store.getJob(Q, "a"))?.lockUntil, 3000);
  clock.now = 5000;
  assert.deepEqual(await store.recoverStalledJobs(Q, 1), { recovered: ["a"], failed: [] });
  const retaken = (await store.fetchNextJob(Q, "w2", 1000))!;
  assert.equal(await store.completeJob(Q, "a", token, "stale"), false);
  assert.equal(
    await store.failJob(Q, "a", token, { failedReason: "x", retryDelay: null }),
    false,
  );
  assert.equal(await store.updateJob(Q, "a", { progress: 50 }, token), false);
  assert.equal(await store.releaseLock(Q, "a", token), false);
  assert.equal(await store.completeJob(Q, "a", retaken.lockToken!, { ok: 1 }), true);
  const done = await store.getJob(Q, "a");
  assert.equal(done?.state, "completed");
  assert.deepEqual(done?.returnValue, { ok: 1 });
  assert.equal(done?.attemptsMade, 1);
  assert.equal(done?.stalledCount, 1);
  assert.equal(done?.lockToken, null);
  assert.equal(await store.completeJob(Q, "a", retaken.lockToken!, 1), false);
});

Deno.test("MemoryStore failJob retries at once, after a delay, or fails for good", async () => {
  const { store, clock } = storeWithClock(0);
  await store.saveJob(Q, newJob("a"));
  let job = (await store.fetchNextJob(Q, "w", 1000))!;
  await store.failJob(Q, "a", job.lockToken!, {
    failedReason: "boom 1",
    stacktrace: "at 1",
    retryDelay: 0,
  });
  assert.equal((await store.getJob(Q, "a"))?.state, "waiting");
  job = (await store.fetchNextJob(Q, "w", 1000))!;
  await store.failJob(Q, "a", job.lockToken!, { failedReason: "boom 2", retryDelay: 500 });
  let stored = await store.getJob(Q, "a");
  assert.equal(stored?.state, "delayed");
  assert.equal(stored?.delayUntil, 500);
  assert.equal(stored?.attemptsMade, 2);
  assert.equal(await store.fetchNextJob(Q, "w", 1000), null);
  clock.now = 500;
  assert.equal(await store.promoteDelayedJobs(Q), 1);
  job = (await store.fetchNextJob(Q, "w", 1000))!;
  await store.failJob(Q, "a", job.lockToken!, { failedReason: "boom 3", retryDelay: null });
  stored = await store.getJob(Q, "a");
  assert.equal(stored?.state, "failed");
  assert.equal(stored?.failedReason, "boom 3");
  assert.deepEqual(stored?.stacktrace, ["at 1"]);
  assert.equal(stored?.attemptsMade, 3);
  assert.equal(stored?.finishedAt, 500);
});

Deno.test("MemoryStore promoteDelayedJobs takes an explicit timestamp", async () => {
  const { store } = storeWithClock(0);
  await store.saveBulk(Q, [newJob("a", { delay: 10 }), newJob("b", { delay: 30 })]);
  assert.equal(await store.getNextDelayedTimestamp(Q), 10);
  assert.equal(await store.promoteDelayedJobs(Q, 20), 1);
  assert.equal(await store.getNextDelayedTimestamp(Q), 30);
  assert.equal(await store.promoteDelayedJobs(Q, 30), 1);
  assert.equal(await store.getNextDelayedTimestamp(Q), null);
});

Deno.test("MemoryStore deduplicates by id and by key until the holder finishes", async () => {
  const store = new MemoryStore();
  const key = { deduplicationKey: "k" };
  assert.deepEqual(await store.saveJob(Q, newJob("a", { deduplication: { id: "k" } }, key)), {
    id: "a",
    duplicate: false,
  });
  assert.deepEqual(await store.saveJob(Q, newJob("a")), { id: "a", duplicate: true });
  assert.deepEqual(await store.saveJob(Q, newJob("b", {}, key)), { id: "a", duplicate: true });
  assert.deepEqual(await store.saveBulk(Q, [newJob("c", {}, key), newJob("d"), newJob("d")]), [
    { id: "a", duplicate: true },
    { id: "d", duplicate: false },
    { id: "d", duplicate: true },
  ]);
  assert.equal((await store.findByDeduplicationKey(Q, "k"))?.id, "a");
  const job = (await store.fetchNextJob(Q, "w", 1000))!;
  assert.equal(job.id, "a");
  assert.deepEqual(await store.saveJob(Q, newJob("b", {}, key)), { id: "a", duplicate: true });
  await store.completeJob(Q, "a", job.lockToken!, null);
  assert.equal(await store.findByDeduplicationKey(Q, "k"), null);
  assert.deepEqual(await store.saveJob(Q, newJob("b", {}, key)), { id: "b", duplicate: false });
  await store.removeJob(Q, "b");
  assert.deepEqual(await store.saveJob(Q, newJob("e", {}, key)), { id: "e", duplicate: false });
});

Deno.test("MemoryStore holds a deduplication key with a ttl until the ttl ends, whatever the state", async () => {
  const { store, clock } = storeWithClock(0);
  const opts = { deduplication: { id: "k", ttl: 100 } };
  await store.saveJob(Q, newJob("a", opts, { deduplicationKey: "k" }));
  const job = (await store.fetchNextJob(Q, "w", 1000))!;
  await store.completeJob(Q, "a", job.lockToken!, null);
  clock.now = 99;
  assert.deepEqual(await store.saveJob(Q, newJob("b", opts, { deduplicationKey: "k" })), {
    id: "a",
    duplicate: true,
  });
  assert.equal((await store.findByDeduplicationKey(Q, "k"))?.id, "a");
  clock.now = 100;
  assert.equal(await store.findByDeduplicationKey(Q, "k"), null);
  assert.deepEqual(await store.saveJob(Q, newJob("b", opts, { deduplicationKey: "k" })), {
    id: "b",
    duplicate: false,
  });
});

Deno.test("MemoryStore applies removeOnComplete and removeOnFail when jobs finish", async () => {
  const { store, clock } = storeWithClock(0);
  async function run(id: string, opts: object, fail = false) {
    await store.saveJob(Q, newJob(id, opts));
    const job = (await store.fetchNextJob(Q, "w", 1000))!;
    assert.equal(job.id, id);
    if (fail) await store.failJob(Q, id, job.lockToken!, { failedReason: "x", retryDelay: null });
    else await store.completeJob(Q, id, job.lockToken!, null);
  }
  await run("gone", { removeOnComplete: true });
  assert.equal(await store.getJob(Q, "gone"), null);
  for (const id of ["k1", "k2", "k3"]) await run(id, { removeOnComplete: 2 });
  assert.deepEqual((await store.listJobs(Q, "completed")).map((j) => j.id), ["k2", "k3"]);
  clock.now = 1000;
  await run("aged", { removeOnComplete: { age: 500 } });
  assert.deepEqual((await store.listJobs(Q, "completed")).map((j) => j.id), ["aged"]);
  await run("f1", { removeOnFail: { count: 1 } }, true);
  await run("f2", { removeOnFail: { count: 1 } }, true);
  assert.deepEqual((await store.listJobs(Q, "failed")).map((j) => j.id), ["f2"]);
  assert.equal(await store.countJobs(Q), 2);
});

Deno.test("MemoryStore recoverStalledJobs puts jobs back, then fails them past the limit", async () => {
  const { store, clock } = storeWithClock(0);
  const events = collect(store, Q);
  await store.saveJob(Q, newJob("a"));
  await store.fetchNextJob(Q, "w", 100);
  assert.deepEqual(await store.getStalledJobs(Q), []);
  assert.deepEqual(await store.recoverStalledJobs(Q, 1), { recovered: [], failed: [] });
  clock.now = 101;
  assert.deepEqual(await store.recoverStalledJobs(Q, 1), { recovered: ["a"], failed: [] });
  const back = await store.getJob(Q, "a");
  assert.equal(back?.state, "waiting");
  assert.equal(back?.lockToken, null);
  assert.equal(back?.stalledCount, 1);
  await store.fetchNextJob(Q, "w", 100);
  clock.now = 300;
  assert.deepEqual(await store.recoverStalledJobs(Q, 1), { recovered: [], failed: ["a"] });
  const failed = await store.getJob(Q, "a");
  assert.equal(failed?.state, "failed");
  assert.match(failed?.failedReason ?? "", /stalled/);
  await flushEvents();
  assert.equal(events.filter((e) => e.type === "stalled").length, 2);
  assert.equal(events.filter((e) => e.type === "failed").length, 1);
});

Deno.test("MemoryStore removeJob refuses active jobs and releases the job's key", async () => {
  const store = new MemoryStore();
  await store.saveJob(Q, newJob("a", { deduplication: { id: "k" } }, { deduplicationKey: "k" }));
  await store.fetchNextJob(Q, "w", 1000);
  await assert.rejects(store.removeJob(Q, "a"), InvalidJobStateError);
  await store.saveJob(Q, newJob("b"));
  assert.equal(await store.removeJob(Q, "b"), true);
  assert.equal(await store.removeJob(Q, "b"), false);
  assert.equal(await store.countJobs(Q, "waiting"), 0);
  assert.equal(await store.fetchNextJob(Q, "w", 1000), null);
});

Deno.test("MemoryStore pauses job names and the whole queue", async () => {
  const store = new MemoryStore();
  const events = collect(store, Q);
  await store.saveBulk(Q, [
    { ...newJob("a1"), name: "a" },
    { ...newJob("b1"), name: "b" },
    { ...newJob("a2"), name: "a" },
  ]);
  await store.pauseJobName(Q, "a");
  assert.deepEqual(await store.getPausedJobNames(Q), ["a"]);
  assert.equal((await store.fetchNextJob(Q, "w", 1000))?.id, "b1");
  assert.equal(await store.fetchNextJob(Q, "w", 1000), null);
  await store.saveJob(Q, { ...newJob("a3"), name: "a" });
  assert.equal(await store.fetchNextJob(Q, "w", 1000), null);
  await store.pauseJobName(Q, ALL_JOB_NAMES);
  await store.resumeJobName(Q, "a");
  assert.equal(await store.fetchNextJob(Q, "w", 1000), null);
  await store.resumeJobName(Q, ALL_JOB_NAMES);
  assert.deepEqual(
    (await store.fetchNextJobs(Q, "w", 1000, 5)).map((j) => j.id),
    ["a1", "a2", "a3"],
  );
  await flushEvents();
  assert.deepEqual(
    events.filter((e) => e.type === "paused" || e.type === "resumed").map((e) => e.jobName),
    ["a", "*", "a", "*"],
  );
});

Deno.test("MemoryStore limits active jobs per group and across the queue", async () => {
  const store = new MemoryStore();
  await store.saveBulk(Q, [
    newJob("g1", { groupId: "g" }),
    newJob("g2", { groupId: "g" }),
    newJob("g3", { groupId: "g" }),
    newJob("h1", { groupId: "h" }),
    newJob("x"),
  ]);
  assert.equal(await store.getWaitingGroupCount(Q, "g"), 3);
  const first = await store.fetchNextJobs(Q, "w", 1000, 10, { groupConcurrency: 1 });
  assert.deepEqual(first.map((j) => j.id), ["g1", "h1", "x"]);
  assert.equal(await store.getGroupActiveCount(Q, "g"), 1);
  assert.equal(await store.getWaitingGroupCount(Q, "g"), 2);
  assert.equal(await store.fetchNextJob(Q, "w", 1000, { groupConcurrency: 1 }), null);
  await store.completeJob(Q, "g1", first[0].lockToken!, null);
  assert.equal(await store.getGroupActiveCount(Q, "g"), 0);
  const next = await store.fetchNextJobs(Q, "w", 1000, 10, {
    groupConcurrency: 1,
    maxGlobalConcurrency: 3,
  });
  assert.deepEqual(next.map((j) => j.id), ["g2"]);
  assert.deepEqual(
    await store.fetchNextJobs(Q, "w", 1000, 10, { groupConcurrency: 5, maxGlobalConcurrency: 3 }),
    [],
  );
});

Deno.test("MemoryStore rate limit is a sliding window of claims on the store clock", async () => {
  const { store, clock } = storeWithClock(0);
  await store.saveBulk(Q, Array.from({ length: 10 }, (_, i) => newJob(`j${i}`)));
  const rateLimit = { max: 2, duration: 1000 };
  assert.equal((await store.fetchNextJobs(Q, "w", 1000, 5, { rateLimit })).length, 2);
  clock.now = 500;
  assert.equal(await store.fetchNextJob(Q, "w2", 1000, { rateLimit }), null);
  clock.now = 1000;
  assert.equal((await store.fetchNextJobs(Q, "w", 1000, 5, { rateLimit })).length, 2);
  clock.now = 1999;
  assert.equal((await store.fetchNextJobs(Q, "w", 1000, 5, { rateLimit })).length, 0);
  clock.now = 2000;
  assert.equal((await store.fetchNextJobs(Q, "w", 1000, 5, { rateLimit })).length, 2);
});

Deno.test("MemoryStore delivers events asynchronously and survives a throwing listener", async () => {
  const store = new MemoryStore();
  const seen: string[] = [];
  store.subscribe(Q, () => {
    throw new Error("listener bug");
  });
  const listener = (e: { type: string }) => seen.push(e.type);
  store.subscribe(Q, listener);
  const saving = store.saveJob(Q, newJob("a"));
  assert.deepEqual(seen, [], "no listener runs inside the call");
  await saving;
  await flushEvents();
  assert.deepEqual(seen, ["waiting"]);
  await store.publish({ type: "drained", queueName: Q });
  await flushEvents();
  assert.deepEqual(seen, ["waiting", "drained"]);
  store.unsubscribe(Q, listener);
  await store.updateJob(Q, "a", { progress: 10 });
  await flushEvents();
  assert.deepEqual(seen, ["waiting", "drained"]);
});

Deno.test("MemoryStore publishes progress, completed and removed events", async () => {
  const store = new MemoryStore();
  const events = collect(store, Q);
  await store.saveJob(Q, newJob("a"));
  const job = (await store.fetchNextJob(Q, "w", 1000))!;
  await store.updateJob(Q, "a", { progress: { step: 2 } }, job.lockToken!);
  await store.addLog(Q, "a", "hello", job.lockToken!);
  await store.completeJob(Q, "a", job.lockToken!, 7);
  await store.removeJob(Q, "a");
  await flushEvents();
  assert.deepEqual(events.map((e) => e.type), [
    "waiting",
    "active",
    "drained",
    "progress",
    "completed",
    "removed",
  ]);
  assert.deepEqual(events[3].detail, { progress: { step: 2 } });
});

Deno.test("MemoryStore rejects every call with StoreClosedError after disconnect", async () => {
  const store = new MemoryStore();
  await store.connect();
  await store.connect();
  await store.saveJob(Q, newJob("a"));
  await store.disconnect();
  await store.disconnect();
  await assert.rejects(store.getJob(Q, "a"), StoreClosedError);
  await assert.rejects(store.saveJob(Q, newJob("b")), StoreClosedError);
  await assert.rejects(store.fetchNextJob(Q, "w", 1000), StoreClosedError);
  await assert.rejects(store.connect(), (e) => isConveyorError(e, "STORE_CLOSED"));
  assert.throws(() => store.subscribe(Q, () => {}), StoreClosedError);
});

Deno.test("MemoryStore refuses bad arguments with errors naming the value", async () => {
  const store = new MemoryStore();
  await assert.rejects(store.saveJob("", newJob("a")), RangeError);
  await assert.rejects(store.saveJob(Q, { ...newJob("a"), data: { n: 1n } }), /BigInt/);
  await assert.rejects(store.saveJob(Q, newJob("a", { priority: -1 })), /priority/);
  await assert.rejects(store.fetchNextJob(Q, "w", 0), /lockDuration/);
  await assert.rejects(store.fetchNextJob(Q, "w", 10, { groupConcurrency: 0 }), /groupConcurrency/);
  await assert.rejects(store.listJobs(Q, "nope" as "waiting"), /state/);
  await store.saveJob(Q, newJob("a"));
  const job = (await store.fetchNextJob(Q, "w", 1000))!;
  await assert.rejects(store.completeJob(Q, "a", job.lockToken!, () => 1), /function/);
  assert.equal((await store.getJob(Q, "a"))?.state, "active");
});

Deno.test("MemoryStore listJobs and countJobs follow states, seq order and paging", async () => {
  const store = new MemoryStore();
  await store.saveBulk(Q, [newJob("a"), newJob("b", { delay: 10 }), newJob("c"), newJob("d")]);
  await store.fetchNextJob(Q, "w", 1000);
  assert.equal(await store.countJobs(Q), 4);
  assert.equal(await store.countJobs(Q, "waiting"), 2);
  assert.equal(await store.countJobs(Q, "delayed"), 1);
  assert.equal(await store.countJobs(Q, "active"), 1);
  assert.equal(await store.countJobs("other"), 0);
  assert.deepEqual((await store.listJobs(Q)).map((j) => j.id), ["a", "b", "c", "d"]);
  assert.deepEqual((await store.listJobs(Q, "waiting")).map((j) => j.id), ["c", "d"]);
  assert.deepEqual(
    (await store.listJobs(Q, undefined, { offset: 1, limit: 2 })).map((j) => j.id),
    ["b", "c"],
  );
  assert.deepEqual((await store.listJobs(Q, "active")).map((j) => j.id), ["a"]);
});

Deno.test("MemoryStore clean removes old finished and waiting jobs, never active ones", async () => {
  const { store, clock } = storeWithClock(0);
  const events = collect(store, Q);
  await store.saveBulk(Q, [newJob("a"), newJob("b"), newJob("c")]);
  const a = (await store.fetchNextJob(Q, "w", 1000))!;
  await store.completeJob(Q, "a", a.lockToken!, null);
  await store.fetchNextJob(Q, "w", 1000);
  clock.now = 100;
  await store.saveJob(Q, newJob("d"));
  assert.deepEqual(await store.clean(Q, "active", 0), []);
  assert.deepEqual(await store.clean(Q, "waiting", 50), ["c"]);
  assert.deepEqual(await store.clean(Q, "completed", 200), []);
  assert.deepEqual(await store.clean(Q, "completed", 50), ["a"]);
  assert.deepEqual(await store.clean(Q, "waiting", 0, 1), ["d"]);
  assert.equal(await store.countJobs(Q), 1);
  await flushEvents();
  assert.deepEqual(events.filter((e) => e.type === "cleaned").map((e) => e.count), [1, 1, 1]);
});

Deno.test("MemoryStore drain removes waiting jobs and, unless told not to, delayed ones", async () => {
  const store = new MemoryStore();
  await store.saveBulk(Q, [newJob("a"), newJob("b", { delay: 1000 }), newJob("c")]);
  await store.fetchNextJob(Q, "w", 1000);
  assert.equal(await store.drain(Q, false), 1);
  assert.equal(await store.countJobs(Q, "delayed"), 1);
  assert.equal(await store.drain(Q), 1);
  assert.equal(await store.countJobs(Q), 1);
  await store.saveJob(Q, newJob("e"));
  assert.equal((await store.fetchNextJob(Q, "w", 1000))?.id, "e");
});

Deno.test("MemoryStore coalesces bulk adds and promotions into one event with a count", async () => {
  const { store, clock } = storeWithClock(0);
  const events = collect(store, Q);
  await store.saveBulk(Q, [
    newJob("a"),
    newJob("b"),
    newJob("c", { delay: 5 }),
    newJob("d", { delay: 5 }),
  ]);
  clock.now = 5;
  await store.promoteDelayedJobs(Q);
  await flushEvents();
  assert.deepEqual(events.map((e) => [e.type, e.count]), [
    ["waiting", 2],
    ["delayed", 2],
    ["waiting", 2],
  ]);
});
