import assert from "node:assert/strict";
import type { JobOptions, StoreInterface } from "@conveyor/shared";
import type { ConformanceCase } from "../case.ts";
import {
  add,
  addMany,
  assertGone,
  claim,
  claimJob,
  complete,
  defineCases,
  failForGood,
  get,
  HOUR,
  LONG,
  PAST_SPAN,
  Q,
  Q2,
  sleep,
  SPAN,
  token,
} from "../_helpers.ts";

/** Add `n` jobs with the given options and finish them one by one, 2 ms apart. */
async function finishEach(
  store: StoreInterface,
  n: number,
  opts: Omit<JobOptions, "jobId">,
  outcome: "complete" | "fail",
): Promise<string[]> {
  const ids = await addMany(store, n, outcome[0], () => opts);
  for (const id of ids) {
    if (outcome === "complete") await complete(store, id);
    else await failForGood(store, id);
    await sleep(2);
  }
  return ids;
}

async function ids(store: StoreInterface, state: "completed" | "failed"): Promise<string[]> {
  return (await store.listJobs(Q, state)).map((j) => j.id).sort();
}

/** Cleanup: clean, drain, removeOnComplete and removeOnFail. */
export const cleanupCases: ConformanceCase[] = defineCases("cleanup", {
  "clean removes jobs that finished more than grace ago and returns their ids": async (store) => {
    await finishEach(store, 3, {}, "complete");
    await sleep(30);
    const removed = await store.clean(Q, "completed", 5);
    assert.deepEqual([...removed].sort(), ["c0", "c1", "c2"]);
    assert.equal(await store.countJobs(Q), 0);
  },

  "clean keeps jobs within the grace period": async (store) => {
    await finishEach(store, 2, {}, "complete");
    assert.deepEqual(await store.clean(Q, "completed", HOUR), []);
    assert.equal(await store.countJobs(Q, "completed"), 2);
  },

  "clean removes at most limit jobs": async (store) => {
    await finishEach(store, 5, {}, "fail");
    await sleep(30);
    const removed = await store.clean(Q, "failed", 5, 2);
    assert.equal(removed.length, 2);
    assert.equal(await store.countJobs(Q, "failed"), 3);
    for (const id of removed) await assertGone(store, id);
  },

  "clean removes only jobs in the given state and queue": async (store) => {
    await finishEach(store, 1, {}, "complete");
    await finishEach(store, 1, {}, "fail");
    await add(store, "w");
    await add(store, "other", {}, Q2);
    await sleep(30);
    assert.deepEqual(await store.clean(Q, "failed", 5), ["f0"]);
    assert.equal((await get(store, "c0")).state, "completed");
    assert.equal((await get(store, "w")).state, "waiting");
    assert.equal((await get(store, "other", Q2)).state, "waiting");
  },

  "clean of waiting jobs judges them by their add time": async (store) => {
    await add(store, "old");
    await sleep(PAST_SPAN);
    await add(store, "new");
    assert.deepEqual(await store.clean(Q, "waiting", SPAN), ["old"]);
    assert.equal((await get(store, "new")).state, "waiting");
  },

  "clean never removes active jobs": async (store) => {
    await addMany(store, 2);
    await claim(store);
    await sleep(30);
    assert.deepEqual(await store.clean(Q, "active", 0), []);
    assert.equal(await store.getActiveCount(Q), 1);
  },

  "drain removes waiting and delayed jobs and returns how many": async (store) => {
    await addMany(store, 3);
    await add(store, "d", { delay: HOUR });
    assert.equal(await store.drain(Q), 4);
    assert.equal(await store.countJobs(Q), 0);
    assert.equal(await store.getNextDelayedTimestamp(Q), null);
  },

  "drain with delayed false keeps delayed jobs": async (store) => {
    await addMany(store, 3);
    await add(store, "d", { delay: HOUR });
    assert.equal(await store.drain(Q, false), 3);
    assert.equal((await get(store, "d")).state, "delayed");
    assert.equal(await store.countJobs(Q), 1);
  },

  "drain leaves active, completed and failed jobs and other queues": async (store) => {
    await addMany(store, 4);
    await add(store, "other", {}, Q2);
    await complete(store, "j0");
    await failForGood(store, "j1");
    const running = await claimJob(store, "j2");
    assert.equal(await store.drain(Q), 1);
    assert.equal(await store.countJobs(Q), 3);
    assert.equal((await get(store, "other", Q2)).state, "waiting");
    assert.equal(await store.completeJob(Q, "j2", token(running), null), true);
  },

  "removeOnComplete true removes the job when it completes": async (store) => {
    await add(store, "a", { removeOnComplete: true });
    await add(store, "keep");
    await complete(store, "a");
    await complete(store, "keep");
    await assertGone(store, "a");
    assert.equal((await get(store, "keep")).state, "completed", "without the option it stays");
  },

  "removeOnComplete with a count keeps the most recent completed jobs": async (store) => {
    await finishEach(store, 4, { removeOnComplete: 2 }, "complete");
    assert.deepEqual(await ids(store, "completed"), ["c2", "c3"]);
  },

  "removeOnComplete with { count } keeps the most recent completed jobs": async (store) => {
    await finishEach(store, 3, { removeOnComplete: { count: 1 } }, "complete");
    assert.deepEqual(await ids(store, "completed"), ["c2"]);
  },

  "removeOnComplete with { age } removes completed jobs older than age": async (store) => {
    await add(store, "old", { removeOnComplete: { age: 30 } });
    await add(store, "new", { removeOnComplete: { age: 30 } });
    await complete(store, "old");
    await sleep(80);
    await complete(store, "new");
    await assertGone(store, "old");
    assert.equal((await get(store, "new")).state, "completed");
  },

  "removeOnFail true removes the job when it fails for good": async (store) => {
    await add(store, "a", { removeOnFail: true });
    await failForGood(store, "a");
    await assertGone(store, "a");
  },

  "removeOnFail with a count keeps the most recent failed jobs": async (store) => {
    await finishEach(store, 4, { removeOnFail: 1 }, "fail");
    assert.deepEqual(await ids(store, "failed"), ["f3"]);
  },

  "removeOnFail does not remove a job that will be retried": async (store) => {
    await add(store, "a", { removeOnFail: true, attempts: 2 });
    const job = await claim(store);
    await store.failJob(Q, "a", token(job), { failedReason: "x", retryDelay: 0 });
    assert.equal((await get(store, "a")).state, "waiting");
    const again = await claim(store);
    await store.failJob(Q, "a", token(again), { failedReason: "x", retryDelay: null });
    await assertGone(store, "a");
  },

  "removeOnComplete does not touch failed jobs, nor removeOnFail completed ones": async (store) => {
    await add(store, "c", { removeOnFail: true });
    await add(store, "f", { removeOnComplete: true });
    await complete(store, "c");
    await failForGood(store, "f");
    assert.equal((await get(store, "c")).state, "completed");
    assert.equal((await get(store, "f")).state, "failed");
    assert.equal(await store.countJobs(Q), 2);
    assert.equal(await store.getActiveCount(Q), 0);
    assert.equal(await store.fetchNextJob(Q, "w1", LONG), null);
  },
});
