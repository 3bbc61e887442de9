import assert from "node:assert/strict";
import type { ConformanceCase } from "../case.ts";
import {
  add,
  addMany,
  claimJob,
  complete,
  defineCases,
  failForGood,
  HOUR,
  Q,
  Q2,
  saveTree,
} from "../_helpers.ts";

/** Queries: listJobs, countJobs, getActiveCount. */
export const queryCases: ConformanceCase[] = defineCases("queries", {
  "listJobs returns every job of the queue by ascending seq": async (store) => {
    await add(store, "w1");
    await add(store, "d1", { delay: HOUR });
    await add(store, "w2", { priority: 9 });
    await add(store, "x", {}, Q2);
    await add(store, "w3", { lifo: true });
    const jobs = await store.listJobs(Q);
    assert.deepEqual(jobs.map((j) => j.id), ["w1", "d1", "w2", "w3"]);
    const seqs = jobs.map((j) => j.seq);
    assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b));
  },

  "listJobs filters by state": async (store) => {
    await addMany(store, 5);
    await add(store, "d", { delay: HOUR });
    await saveTree(store, { id: "p", children: [{ id: "c" }] });
    await complete(store, "j0");
    await failForGood(store, "j1");
    await claimJob(store, "j2");
    const ids = async (state: Parameters<typeof store.listJobs>[1]) =>
      (await store.listJobs(Q, state)).map((j) => j.id);
    assert.deepEqual(await ids("completed"), ["j0"]);
    assert.deepEqual(await ids("failed"), ["j1"]);
    assert.deepEqual(await ids("active"), ["j2"]);
    assert.deepEqual(await ids("waiting"), ["j3", "j4", "c"]);
    assert.deepEqual(await ids("delayed"), ["d"]);
    assert.deepEqual(await ids("waiting-children"), ["p"]);
    for (const job of await store.listJobs(Q, "waiting")) assert.equal(job.state, "waiting");
  },

  "listJobs pages with offset and limit": async (store) => {
    await addMany(store, 10);
    const page = async (offset: number, limit: number) =>
      (await store.listJobs(Q, "waiting", { offset, limit })).map((j) => j.id);
    assert.deepEqual(await page(0, 3), ["j0", "j1", "j2"]);
    assert.deepEqual(await page(3, 3), ["j3", "j4", "j5"]);
    assert.deepEqual(await page(8, 5), ["j8", "j9"]);
    assert.deepEqual(await page(10, 5), []);
    assert.deepEqual((await store.listJobs(Q, undefined, { offset: 9 })).map((j) => j.id), ["j9"]);
  },

  "listJobs returns at most 100 jobs by default": async (store) => {
    await addMany(store, 120);
    const jobs = await store.listJobs(Q);
    assert.equal(jobs.length, 100);
    assert.equal(jobs[0].id, "j0");
    assert.equal(jobs[99].id, "j99");
  },

  "countJobs counts by state and in total": async (store) => {
    await addMany(store, 6);
    await add(store, "d", { delay: HOUR });
    await add(store, "other", {}, Q2);
    await complete(store, "j0");
    await failForGood(store, "j1");
    await claimJob(store, "j2");
    assert.equal(await store.countJobs(Q), 7);
    assert.equal(await store.countJobs(Q, "waiting"), 3);
    assert.equal(await store.countJobs(Q, "delayed"), 1);
    assert.equal(await store.countJobs(Q, "active"), 1);
    assert.equal(await store.countJobs(Q, "completed"), 1);
    assert.equal(await store.countJobs(Q, "failed"), 1);
    assert.equal(await store.countJobs(Q, "waiting-children"), 0);
    assert.equal(await store.countJobs(Q2), 1);
  },

  "getActiveCount counts the queue's active jobs": async (store) => {
    await addMany(store, 4);
    await add(store, "other", {}, Q2);
    await claimJob(store, "j0");
    await claimJob(store, "j1");
    await claimJob(store, "other", Q2);
    assert.equal(await store.getActiveCount(Q), 2);
    await complete(store, "j3");
    assert.equal(await store.getActiveCount(Q), 2);
    assert.equal(await store.getActiveCount(Q2), 1);
  },

  "counts follow every state change": async (store) => {
    await add(store, "a", { delay: HOUR, attempts: 2 });
    assert.equal(await store.countJobs(Q, "delayed"), 1);
    await store.promoteDelayedJobs(Q, Date.now() + 2 * HOUR);
    assert.equal(await store.countJobs(Q, "delayed"), 0);
    assert.equal(await store.countJobs(Q, "waiting"), 1);
    await complete(store, "a");
    assert.equal(await store.countJobs(Q, "waiting"), 0);
    assert.equal(await store.countJobs(Q, "completed"), 1);
    await store.removeJob(Q, "a");
    assert.equal(await store.countJobs(Q), 0);
  },
});
