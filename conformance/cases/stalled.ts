import assert from "node:assert/strict";
import type { ConformanceCase } from "../case.ts";
import {
  add,
  addMany,
  claim,
  defineCases,
  EXPIRE,
  get,
  LONG,
  Q,
  Q2,
  SHORT,
  sleep,
  token,
} from "../_helpers.ts";

/** Stalled jobs: expired leases are found, recovered or failed (guarantee 3). */
export const stalledCases: ConformanceCase[] = defineCases("stalled", {
  "getStalledJobs returns active jobs whose lease expired": async (store) => {
    await add(store, "short");
    await add(store, "long");
    await add(store, "idle");
    await claim(store, Q, "w1", SHORT);
    await claim(store, Q, "w2", LONG);
    await sleep(EXPIRE);
    const stalled = await store.getStalledJobs(Q);
    assert.deepEqual(stalled.map((j) => j.id), ["short"]);
    assert.equal(stalled[0].state, "active");
  },

  "getStalledJobs is empty while leases are live": async (store) => {
    await addMany(store, 3);
    await claim(store, Q, "w1", LONG);
    assert.deepEqual(await store.getStalledJobs(Q), []);
  },

  "getStalledJobs only reports its queue": async (store) => {
    await add(store, "a", {}, Q2);
    await claim(store, Q2, "w1", SHORT);
    await sleep(EXPIRE);
    assert.deepEqual(await store.getStalledJobs(Q), []);
    assert.equal((await store.getStalledJobs(Q2)).length, 1);
  },

  "recoverStalledJobs puts a stalled job back to waiting and counts the stall": async (store) => {
    await add(store, "a");
    await claim(store, Q, "w1", SHORT);
    await sleep(EXPIRE);
    assert.deepEqual(await store.recoverStalledJobs(Q, 1), { recovered: ["a"], failed: [] });
    const job = await get(store, "a");
    assert.equal(job.state, "waiting");
    assert.equal(job.stalledCount, 1);
    assert.equal(job.lockToken, null);
    assert.equal(job.lockedBy, null);
    assert.equal(await store.getActiveCount(Q), 0);
    assert.deepEqual(await store.getStalledJobs(Q), []);
  },

  "a recovered job is claimed again with a new lease": async (store) => {
    await add(store, "a");
    const first = await claim(store, Q, "w1", SHORT);
    await sleep(EXPIRE);
    await store.recoverStalledJobs(Q, 1);
    const second = await claim(store, Q, "w2");
    assert.equal(second.id, "a");
    assert.equal(second.attemptsStarted, 2);
    assert.equal(second.lockedBy, "w2");
    assert.notEqual(token(second), token(first));
    assert.equal(await store.completeJob(Q, "a", token(second), "ok"), true);
  },

  "recoverStalledJobs fails a job that stalls more than maxStalledCount times": async (store) => {
    await add(store, "a");
    await claim(store, Q, "w1", SHORT);
    await sleep(EXPIRE);
    assert.deepEqual(await store.recoverStalledJobs(Q, 1), { recovered: ["a"], failed: [] });
    await claim(store, Q, "w1", SHORT);
    await sleep(EXPIRE);
    assert.deepEqual(await store.recoverStalledJobs(Q, 1), { recovered: [], failed: ["a"] });
    const job = await get(store, "a");
    assert.equal(job.state, "failed");
    assert.equal(job.stalledCount, 2);
    assert.equal(typeof job.failedReason, "string");
    assert.ok(job.failedReason!.length > 0, "the failure says why");
    assert.equal(typeof job.finishedAt, "number");
    assert.equal(job.lockToken, null);
  },

  "recoverStalledJobs with maxStalledCount 0 fails on the first stall": async (store) => {
    await add(store, "a");
    await claim(store, Q, "w1", SHORT);
    await sleep(EXPIRE);
    assert.deepEqual(await store.recoverStalledJobs(Q, 0), { recovered: [], failed: ["a"] });
    assert.equal((await get(store, "a")).state, "failed");
    assert.equal(await store.fetchNextJob(Q, "w1", LONG), null);
  },

  "recoverStalledJobs leaves live leases and other queues alone": async (store) => {
    await add(store, "live");
    await add(store, "other", {}, Q2);
    const live = await claim(store, Q, "w1", LONG);
    await claim(store, Q2, "w1", SHORT);
    await sleep(EXPIRE);
    assert.deepEqual(await store.recoverStalledJobs(Q, 1), { recovered: [], failed: [] });
    assert.equal((await get(store, "live")).lockToken, live.lockToken);
    assert.equal((await get(store, "other", Q2)).state, "active");
  },

  "recoverStalledJobs handles each stall once": async (store) => {
    await add(store, "a");
    await claim(store, Q, "w1", SHORT);
    await sleep(EXPIRE);
    assert.equal((await store.recoverStalledJobs(Q, 5)).recovered.length, 1);
    assert.deepEqual(await store.recoverStalledJobs(Q, 5), { recovered: [], failed: [] });
    assert.equal((await get(store, "a")).stalledCount, 1);
  },

  "concurrent recoverStalledJobs calls recover each stalled job exactly once": async (store) => {
    const ids = await addMany(store, 10);
    await store.fetchNextJobs(Q, "w1", SHORT, 10);
    await sleep(EXPIRE);
    const runs = await Promise.all(Array.from({ length: 5 }, () => store.recoverStalledJobs(Q, 5)));
    const recovered = runs.flatMap((r) => r.recovered).sort();
    assert.deepEqual(recovered, [...ids].sort());
    assert.deepEqual(runs.flatMap((r) => r.failed), []);
    for (const id of ids) assert.equal((await get(store, id)).stalledCount, 1);
  },

  "a stalled job's worker cannot finish it after recovery": async (store) => {
    await add(store, "a");
    const job = await claim(store, Q, "w1", SHORT);
    await sleep(EXPIRE);
    await store.recoverStalledJobs(Q, 1);
    assert.equal(await store.completeJob(Q, "a", token(job), "late"), false);
    const stored = await get(store, "a");
    assert.equal(stored.state, "waiting");
    assert.equal(stored.returnValue, null);
  },
});
