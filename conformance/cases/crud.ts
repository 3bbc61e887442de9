import assert from "node:assert/strict";
import type { ConformanceCase } from "../case.ts";
import {
  add,
  addMany,
  assertGone,
  claim,
  defineCases,
  get,
  HOUR,
  LONG,
  newJob,
  Q,
  Q2,
  saveTree,
  token,
} from "../_helpers.ts";

/** CRUD: saveJob, saveBulk, getJob, updateJob, removeJob, addLog, and isolated copies. */
export const crudCases: ConformanceCase[] = defineCases("crud", {
  "saveJob stores a waiting job with every field initialised": async (store) => {
    const before = Date.now();
    const input = await newJob("a", { attempts: 3, groupId: "g" }, { to: "x@example.com" }, "send");
    assert.deepEqual(await store.saveJob(Q, input), { id: "a", duplicate: false });
    const job = await get(store, "a");
    assert.equal(job.id, "a");
    assert.equal(job.queueName, Q);
    assert.equal(job.name, "send");
    assert.deepEqual(job.data, { to: "x@example.com" });
    assert.equal(job.state, "waiting");
    assert.deepEqual(job.opts, input.opts);
    assert.equal(job.priority, 0);
    assert.equal(typeof job.seq, "number");
    assert.equal(job.attemptsMade, 0);
    assert.equal(job.attemptsStarted, 0);
    assert.equal(job.stalledCount, 0);
    assert.equal(job.progress, 0);
    assert.equal(job.returnValue, null);
    assert.equal(job.failedReason, null);
    assert.deepEqual(job.stacktrace, []);
    assert.deepEqual(job.logs, []);
    assert.ok(Math.abs(job.createdAt - before) < 60_000, "createdAt is a current time in ms");
    assert.equal(job.delayUntil, null);
    assert.equal(job.processedAt, null);
    assert.equal(job.finishedAt, null);
    assert.equal(job.lockedBy, null);
    assert.equal(job.lockToken, null);
    assert.equal(job.lockUntil, null);
    assert.equal(job.parentId, null);
    assert.equal(job.parentQueueName, null);
    assert.equal(job.pendingChildrenCount, 0);
    assert.equal(job.deduplicationKey, null);
    assert.equal(job.groupId, "g");
  },

  "saveJob copies opts.priority to priority": async (store) => {
    await add(store, "a", { priority: 7 });
    assert.equal((await get(store, "a")).priority, 7);
  },

  "saveJob keeps every stored option": async (store) => {
    const opts = {
      priority: 3,
      attempts: 5,
      backoff: { type: "exponential", delay: 100, jitter: 0.5 },
      lifo: true,
      timeout: 1000,
      removeOnComplete: { count: 10, age: 5000 },
      removeOnFail: 3,
      groupId: "g1",
      failParentOnChildFailure: "ignore" as const,
      repeat: { key: "every-1s", every: 1000, slot: 1_700_000_000_000, count: 1 },
    };
    const input = await newJob("a", opts);
    await store.saveJob(Q, input);
    assert.deepEqual((await get(store, "a")).opts, input.opts);
  },

  "saveJob with pendingChildrenCount above 0 starts waiting-children": async (store) => {
    await store.saveJob(Q, { ...(await newJob("p")), pendingChildrenCount: 2 });
    const job = await get(store, "p");
    assert.equal(job.state, "waiting-children");
    assert.equal(job.pendingChildrenCount, 2);
  },

  "saveJob assigns increasing seq numbers and createdAt in add order": async (store) => {
    await add(store, "a");
    await add(store, "b");
    await add(store, "c", {}, Q2);
    await add(store, "d");
    const [a, b, d] = [await get(store, "a"), await get(store, "b"), await get(store, "d")];
    assert.ok(a.seq < b.seq && b.seq < d.seq, "seq grows with each add");
    assert.ok(a.createdAt <= b.createdAt && b.createdAt <= d.createdAt);
  },

  "payloads round-trip as JSON": async (store) => {
    const payloads: unknown[] = [
      null,
      "text ✓ 日本語 \u{1F680}",
      42.5,
      true,
      [1, "two", null, { three: [3] }],
      { nested: { deep: { list: [{ a: 1 }, { b: [true, false] }] } }, empty: {}, none: [] },
    ];
    for (const [i, data] of payloads.entries()) {
      await store.saveJob(Q, await newJob(`p${i}`, {}, data));
      assert.deepEqual((await get(store, `p${i}`)).data, data, `payload ${i}`);
    }
  },

  "getJob returns null for an unknown id": async (store) => {
    assert.equal(await store.getJob(Q, "missing"), null);
  },

  "getJob is scoped to the job's queue": async (store) => {
    await add(store, "a");
    assert.equal(await store.getJob(Q2, "a"), null);
  },

  "saveBulk saves every job and reports results in input order": async (store) => {
    const jobs = [await newJob("x"), await newJob("y", { delay: HOUR }), await newJob("z")];
    const results = await store.saveBulk(Q, jobs);
    assert.deepEqual(results, [
      { id: "x", duplicate: false },
      { id: "y", duplicate: false },
      { id: "z", duplicate: false },
    ]);
    assert.equal((await get(store, "x")).state, "waiting");
    assert.equal((await get(store, "y")).state, "delayed");
    const [x, z] = [await get(store, "x"), await get(store, "z")];
    assert.ok(x.seq < z.seq, "saveBulk assigns seq in input order");
  },

  "saveBulk of an empty list saves nothing": async (store) => {
    assert.deepEqual(await store.saveBulk(Q, []), []);
    assert.equal(await store.countJobs(Q), 0);
  },

  "updateJob replaces the payload": async (store) => {
    await add(store, "a");
    assert.equal(await store.updateJob(Q, "a", { data: { v: 2 } }), true);
    assert.deepEqual((await get(store, "a")).data, { v: 2 });
  },

  "updateJob replaces the progress with a number or an object": async (store) => {
    await add(store, "a");
    assert.equal(await store.updateJob(Q, "a", { progress: 40 }), true);
    assert.equal((await get(store, "a")).progress, 40);
    assert.equal(await store.updateJob(Q, "a", { progress: { step: "two", pct: 60 } }), true);
    const job = await get(store, "a");
    assert.deepEqual(job.progress, { step: "two", pct: 60 });
    assert.deepEqual(job.data, { id: "a" }, "a progress update keeps the payload");
  },

  "updateJob with the current lock token applies to the running job": async (store) => {
    await add(store, "a");
    const job = await claim(store);
    assert.equal(await store.updateJob(Q, "a", { progress: 10, data: { v: 1 } }, token(job)), true);
    const stored = await get(store, "a");
    assert.equal(stored.progress, 10);
    assert.deepEqual(stored.data, { v: 1 });
    assert.equal(stored.state, "active");
  },

  "updateJob returns false for an unknown job": async (store) => {
    assert.equal(await store.updateJob(Q, "missing", { progress: 1 }), false);
    assert.equal(await store.countJobs(Q), 0);
  },

  "removeJob removes a waiting job and returns true": async (store) => {
    await add(store, "a");
    await add(store, "b");
    assert.equal(await store.removeJob(Q, "a"), true);
    await assertGone(store, "a");
    assert.equal(await store.countJobs(Q), 1);
    assert.equal(await store.fetchNextJob(Q, "w1", 1000).then((j) => j?.id), "b");
  },

  "removeJob returns false when there is no such job": async (store) => {
    assert.equal(await store.removeJob(Q, "missing"), false);
    await add(store, "a");
    assert.equal(await store.removeJob(Q, "a"), true);
    assert.equal(await store.removeJob(Q, "a"), false);
  },

  "removeJob removes delayed, completed and failed jobs": async (store) => {
    await add(store, "d", { delay: HOUR });
    await add(store, "c");
    await add(store, "f");
    const c = await claim(store);
    assert.equal(await store.completeJob(Q, c.id, token(c), 1), true);
    const f = await claim(store);
    assert.equal(
      await store.failJob(Q, f.id, token(f), { failedReason: "x", retryDelay: null }),
      true,
    );
    for (const id of ["d", "c", "f"]) {
      assert.equal(await store.removeJob(Q, id), true, `remove ${id}`);
      await assertGone(store, id);
    }
    assert.equal(await store.countJobs(Q), 0);
  },

  "addLog appends lines in order": async (store) => {
    await add(store, "a");
    assert.equal(await store.addLog(Q, "a", "first"), true);
    const job = await claim(store);
    assert.equal(await store.addLog(Q, "a", "second", token(job)), true);
    assert.deepEqual((await get(store, "a")).logs, ["first", "second"]);
  },

  "addLog returns false for an unknown job": async (store) => {
    assert.equal(await store.addLog(Q, "missing", "line"), false);
  },

  "a job returned by getJob is an isolated copy": async (store) => {
    await add(store, "a");
    const copy = await get(store, "a");
    (copy.data as { id: string }).id = "changed";
    copy.state = "completed";
    copy.logs.push("injected");
    copy.opts.priority = 99;
    const again = await get(store, "a");
    assert.deepEqual(again.data, { id: "a" });
    assert.equal(again.state, "waiting");
    assert.deepEqual(again.logs, []);
    assert.equal(again.opts.priority, undefined);
  },

  "mutating the saved input changes nothing stored": async (store) => {
    const input = await newJob("a", { removeOnComplete: { count: 1 } }, { list: [1, 2] });
    await store.saveJob(Q, input);
    (input.data as { list: number[] }).list.push(3);
    (input.opts.removeOnComplete as { count: number }).count = 50;
    input.name = "renamed";
    const stored = await get(store, "a");
    assert.deepEqual(stored.data, { list: [1, 2] });
    assert.deepEqual(stored.opts.removeOnComplete, { count: 1 });
    assert.equal(stored.name, "task");
  },

  "jobs returned by fetchNextJob and listJobs are isolated copies": async (store) => {
    await add(store, "a");
    await add(store, "b");
    const claimed = await claim(store);
    claimed.lockToken = "forged";
    (claimed.data as { id: string }).id = "changed";
    const [listed] = await store.listJobs(Q, "waiting");
    listed.state = "failed";
    const a = await get(store, claimed.id);
    assert.notEqual(a.lockToken, "forged");
    assert.deepEqual(a.data, { id: claimed.id });
    assert.equal((await get(store, listed.id)).state, "waiting");
  },

  "jobs returned by fetchNextJobs, getChildrenJobs and findByDeduplicationKey are copies": async (
    store,
  ) => {
    await saveTree(store, { id: "p", children: [{ id: "c1" }, { id: "c2" }] });
    await add(store, "k", { deduplication: { id: "key" }, priority: 9 });
    const [batch] = await store.fetchNextJobs(Q, "w1", LONG, 1);
    batch.state = "failed";
    const [child] = await store.getChildrenJobs(Q, "p");
    child.parentId = "someone-else";
    const holder = await store.findByDeduplicationKey(Q, "key");
    assert.ok(holder);
    holder.deduplicationKey = "changed";
    assert.equal((await get(store, batch.id)).state, "active");
    assert.equal((await get(store, child.id)).parentId, "p");
    assert.equal((await get(store, "k")).deduplicationKey, "key");
  },

  "mutating values after updateJob or completeJob changes nothing stored": async (store) => {
    await add(store, "a");
    const data = { items: ["x"] };
    const progress = { done: 1 };
    await store.updateJob(Q, "a", { data, progress });
    data.items.push("y");
    progress.done = 2;
    const job = await claim(store);
    const returnValue = { total: 1 };
    assert.equal(await store.completeJob(Q, "a", token(job), returnValue), true);
    returnValue.total = 2;
    const stored = await get(store, "a");
    assert.deepEqual(stored.data, { items: ["x"] });
    assert.deepEqual(stored.progress, { done: 1 });
    assert.deepEqual(stored.returnValue, { total: 1 });
  },

  "saveBulk stores many jobs that all can be read back": async (store) => {
    const ids = await addMany(store, 50);
    for (const id of ids) assert.equal((await get(store, id)).state, "waiting");
    assert.equal(await store.countJobs(Q, "waiting"), 50);
  },
});
