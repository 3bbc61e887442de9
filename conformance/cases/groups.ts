import assert from "node:assert/strict";
import type { ConformanceCase } from "../case.ts";
import { add, claim, defineCases, get, LONG, Q, Q2, token } from "../_helpers.ts";

/** Groups: per-group counts and `groupConcurrency` on claims. */
export const groupCases: ConformanceCase[] = defineCases("groups", {
  "saveJob copies opts.groupId to groupId": async (store) => {
    await add(store, "a", { groupId: "tenant-1" });
    await add(store, "b");
    assert.equal((await get(store, "a")).groupId, "tenant-1");
    assert.equal((await get(store, "b")).groupId, null);
  },

  "getWaitingGroupCount and getGroupActiveCount count a group's jobs": async (store) => {
    for (const id of ["a1", "a2", "a3"]) await add(store, id, { groupId: "a" });
    await add(store, "b1", { groupId: "b" });
    await add(store, "none");
    assert.equal(await store.getWaitingGroupCount(Q, "a"), 3);
    assert.equal(await store.getGroupActiveCount(Q, "a"), 0);
    const job = await claim(store);
    assert.equal(job.id, "a1");
    assert.equal(await store.getWaitingGroupCount(Q, "a"), 2);
    assert.equal(await store.getGroupActiveCount(Q, "a"), 1);
    await store.completeJob(Q, "a1", token(job), null);
    assert.equal(await store.getGroupActiveCount(Q, "a"), 0);
    assert.equal(await store.getWaitingGroupCount(Q, "b"), 1);
    assert.equal(await store.getWaitingGroupCount(Q, "missing"), 0);
  },

  "group counts are per queue": async (store) => {
    await add(store, "a", { groupId: "g" });
    await add(store, "b", { groupId: "g" }, Q2);
    await claim(store, Q2);
    assert.equal(await store.getWaitingGroupCount(Q, "g"), 1);
    assert.equal(await store.getGroupActiveCount(Q, "g"), 0);
    assert.equal(await store.getWaitingGroupCount(Q2, "g"), 0);
    assert.equal(await store.getGroupActiveCount(Q2, "g"), 1);
  },

  "groupConcurrency limits the active jobs of each group": async (store) => {
    for (const id of ["a1", "a2", "a3"]) await add(store, id, { groupId: "a" });
    const opts = { groupConcurrency: 2 };
    await claim(store, Q, "w1", LONG, opts);
    await claim(store, Q, "w2", LONG, opts);
    assert.equal(await store.fetchNextJob(Q, "w3", LONG, opts), null, "group a is full");
    assert.equal(await store.getGroupActiveCount(Q, "a"), 2);
  },

  "groupConcurrency skips a full group and claims the next eligible job": async (store) => {
    await add(store, "a1", { groupId: "a", priority: 0 });
    await add(store, "a2", { groupId: "a", priority: 0 });
    await add(store, "b1", { groupId: "b", priority: 5 });
    await add(store, "free", { priority: 9 });
    const opts = { groupConcurrency: 1 };
    const order = [];
    for (let i = 0; i < 3; i++) order.push((await claim(store, Q, `w${i}`, LONG, opts)).id);
    assert.deepEqual(order, ["a1", "b1", "free"]);
    assert.equal(await store.fetchNextJob(Q, "w9", LONG, opts), null);
  },

  "jobs without a group are not limited by groupConcurrency": async (store) => {
    for (const id of ["n1", "n2", "n3"]) await add(store, id);
    const opts = { groupConcurrency: 1 };
    for (let i = 0; i < 3; i++) await claim(store, Q, `w${i}`, LONG, opts);
  },

  "a group slot frees when its job completes, fails or is released": async (store) => {
    for (const id of ["a1", "a2", "a3", "a4"]) await add(store, id, { groupId: "a", attempts: 2 });
    const opts = { groupConcurrency: 1 };
    const first = await claim(store, Q, "w1", LONG, opts);
    assert.equal(await store.fetchNextJob(Q, "w2", LONG, opts), null);
    await store.completeJob(Q, first.id, token(first), null);
    const second = await claim(store, Q, "w2", LONG, opts);
    await store.failJob(Q, second.id, token(second), { failedReason: "x", retryDelay: null });
    const third = await claim(store, Q, "w3", LONG, opts);
    await store.releaseLock(Q, third.id, token(third));
    await claim(store, Q, "w4", LONG, opts);
    assert.equal(await store.fetchNextJob(Q, "w5", LONG, opts), null);
  },

  "groupConcurrency counts jobs claimed without limits too": async (store) => {
    for (const id of ["a1", "a2"]) await add(store, id, { groupId: "a" });
    await claim(store);
    assert.equal(await store.fetchNextJob(Q, "w2", LONG, { groupConcurrency: 1 }), null);
  },

  "fetchNextJobs respects groupConcurrency within one batch": async (store) => {
    for (let i = 0; i < 5; i++) await add(store, `a${i}`, { groupId: "a" });
    for (let i = 0; i < 5; i++) await add(store, `b${i}`, { groupId: "b" });
    const jobs = await store.fetchNextJobs(Q, "w1", LONG, 10, { groupConcurrency: 2 });
    assert.deepEqual(jobs.map((j) => j.id).sort(), ["a0", "a1", "b0", "b1"]);
    assert.equal(await store.getGroupActiveCount(Q, "a"), 2);
    assert.equal(await store.getWaitingGroupCount(Q, "b"), 3);
  },
});
