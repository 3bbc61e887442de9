import assert from "node:assert/strict";
import type { JobOptions, StoreInterface } from "@conveyor/shared";
import type { ConformanceCase } from "../case.ts";
import {
  add,
  claim,
  complete,
  defineCases,
  EXPIRE,
  failForGood,
  get,
  HOUR,
  newJob,
  PAST_SPAN,
  Q,
  Q2,
  SHORT,
  sleep,
  SPAN,
  token,
} from "../_helpers.ts";

const KEY = { deduplication: { id: "order-42" } } satisfies Omit<JobOptions, "jobId">;

async function saveKeyed(store: StoreInterface, id: string, queue = Q) {
  return store.saveJob(queue, await newJob(id, KEY));
}

async function assertFree(store: StoreInterface, key = "order-42"): Promise<void> {
  assert.equal(await store.findByDeduplicationKey(Q, key), null, `key "${key}" is free`);
  assert.deepEqual(await saveKeyed(store, "next"), { id: "next", duplicate: false });
}

/** Deduplication by job id and by key: reported, released, race-free (guarantee 5). */
export const dedupCases: ConformanceCase[] = defineCases("dedup", {
  "saveJob with an id the queue holds reports a duplicate and changes nothing": async (store) => {
    await add(store, "a");
    const again = await newJob("a", { priority: 9 }, { second: true });
    assert.deepEqual(await store.saveJob(Q, again), { id: "a", duplicate: true });
    const job = await get(store, "a");
    assert.deepEqual(job.data, { id: "a" });
    assert.equal(job.priority, 0);
    assert.equal(await store.countJobs(Q), 1);
  },

  "the same job id in another queue is not a duplicate": async (store) => {
    await add(store, "a");
    await add(store, "a", {}, Q2);
    assert.equal(await store.countJobs(Q2), 1);
  },

  "a finished job's id still counts as a duplicate": async (store) => {
    await add(store, "a");
    await complete(store, "a");
    assert.deepEqual(await store.saveJob(Q, await newJob("a")), { id: "a", duplicate: true });
    assert.equal((await get(store, "a")).state, "completed");
  },

  "a removed job's id can be used again": async (store) => {
    await add(store, "a");
    await store.removeJob(Q, "a");
    await add(store, "a", { priority: 4 });
    assert.equal((await get(store, "a")).priority, 4);
  },

  "a held deduplication key reports a duplicate with the holder's id": async (store) => {
    assert.deepEqual(await saveKeyed(store, "first"), { id: "first", duplicate: false });
    assert.deepEqual(await saveKeyed(store, "second"), { id: "first", duplicate: true });
    assert.equal(await store.getJob(Q, "second"), null);
    assert.equal((await get(store, "first")).deduplicationKey, "order-42");
    assert.equal(await store.countJobs(Q), 1);
  },

  "a payload-hash key deduplicates equal payloads": async (store) => {
    const opts = { deduplication: {} };
    const a = await newJob("a", opts, { to: "x", n: 1 });
    const b = await newJob("b", opts, { n: 1, to: "x" });
    const c = await newJob("c", opts, { n: 2, to: "x" });
    assert.deepEqual(await store.saveJob(Q, a), { id: "a", duplicate: false });
    assert.deepEqual(await store.saveJob(Q, b), { id: "a", duplicate: true });
    assert.deepEqual(await store.saveJob(Q, c), { id: "c", duplicate: false });
  },

  "findByDeduplicationKey returns the live holder, or null": async (store) => {
    assert.equal(await store.findByDeduplicationKey(Q, "order-42"), null);
    await saveKeyed(store, "first");
    const holder = await store.findByDeduplicationKey(Q, "order-42");
    assert.equal(holder?.id, "first");
    assert.equal(holder?.deduplicationKey, "order-42");
    assert.equal(await store.findByDeduplicationKey(Q2, "order-42"), null);
  },

  "a deduplication key holds only in its queue": async (store) => {
    await saveKeyed(store, "a");
    assert.deepEqual(await saveKeyed(store, "b", Q2), { id: "b", duplicate: false });
  },

  "a delayed or active job holds its key": async (store) => {
    await store.saveJob(Q, await newJob("d", { ...KEY, delay: HOUR }));
    assert.deepEqual(await saveKeyed(store, "x"), { id: "d", duplicate: true });
    await store.promoteDelayedJobs(Q, Date.now() + 2 * HOUR);
    await claim(store);
    assert.deepEqual(await saveKeyed(store, "y"), { id: "d", duplicate: true });
  },

  "completing the job releases its deduplication key": async (store) => {
    await saveKeyed(store, "first");
    await complete(store, "first");
    await assertFree(store);
  },

  "failing the job for good releases its deduplication key": async (store) => {
    await saveKeyed(store, "first");
    await failForGood(store, "first");
    await assertFree(store);
  },

  "a job failed by stalled recovery releases its deduplication key": async (store) => {
    await saveKeyed(store, "first");
    await claim(store, Q, "w1", SHORT);
    await sleep(EXPIRE);
    assert.deepEqual(await store.recoverStalledJobs(Q, 0), { recovered: [], failed: ["first"] });
    await assertFree(store);
  },

  "a job waiting for a retry keeps its deduplication key": async (store) => {
    await store.saveJob(Q, await newJob("first", { ...KEY, attempts: 3 }));
    const job = await claim(store);
    await store.failJob(Q, "first", token(job), { failedReason: "x", retryDelay: HOUR });
    assert.deepEqual(await saveKeyed(store, "second"), { id: "first", duplicate: true });
    assert.equal((await store.findByDeduplicationKey(Q, "order-42"))?.id, "first");
  },

  "removing the job releases its deduplication key": async (store) => {
    await saveKeyed(store, "first");
    await store.removeJob(Q, "first");
    await assertFree(store);
  },

  "draining the queue releases the deduplication keys of drained jobs": async (store) => {
    await saveKeyed(store, "first");
    assert.equal(await store.drain(Q), 1);
    await assertFree(store);
  },

  "a key with a ttl holds within the ttl even for a waiting job": async (store) => {
    const opts = { deduplication: { id: "k", ttl: HOUR } };
    await store.saveJob(Q, await newJob("a", opts));
    assert.deepEqual(await store.saveJob(Q, await newJob("b", opts)), { id: "a", duplicate: true });
  },

  "a key with a ttl is released once the ttl has passed": async (store) => {
    const opts = { deduplication: { id: "k", ttl: SPAN } };
    await store.saveJob(Q, await newJob("a", opts));
    assert.deepEqual(await store.saveJob(Q, await newJob("b", opts)), { id: "a", duplicate: true });
    await sleep(PAST_SPAN);
    assert.equal(await store.findByDeduplicationKey(Q, "k"), null, "the key expired");
    assert.deepEqual(await store.saveJob(Q, await newJob("c", opts)), {
      id: "c",
      duplicate: false,
    });
    assert.equal((await get(store, "a")).state, "waiting", "the first job is still there");
  },

  "concurrent saveJob calls with one key save exactly one job": async (store) => {
    const jobs = await Promise.all(Array.from({ length: 25 }, (_, i) => newJob(`j${i}`, KEY)));
    const results = await Promise.all(jobs.map((j) => store.saveJob(Q, j)));
    const saved = results.filter((r) => !r.duplicate);
    assert.equal(saved.length, 1, "exactly one add is not a duplicate");
    assert.ok(results.every((r) => r.id === saved[0].id), "duplicates name the saved job");
    assert.equal(await store.countJobs(Q), 1);
  },

  "concurrent saveJob calls with one id save exactly one job": async (store) => {
    const jobs = await Promise.all(Array.from({ length: 25 }, (_, i) => newJob("same", {}, { i })));
    const results = await Promise.all(jobs.map((j) => store.saveJob(Q, j)));
    assert.equal(results.filter((r) => !r.duplicate).length, 1);
    assert.ok(results.every((r) => r.id === "same"));
    assert.equal(await store.countJobs(Q), 1);
  },

  "concurrent saveBulk calls with overlapping keys save each key once": async (store) => {
    const batch = (n: number) =>
      Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          newJob(`b${n}-${i}`, { deduplication: { id: `k${i}` } })),
      );
    const batches = await Promise.all([1, 2, 3, 4].map(batch));
    const results = (await Promise.all(batches.map((b) => store.saveBulk(Q, b)))).flat();
    assert.equal(results.filter((r) => !r.duplicate).length, 10);
    assert.equal(await store.countJobs(Q), 10);
    for (let i = 0; i < 10; i++) {
      assert.ok(await store.findByDeduplicationKey(Q, `k${i}`), `k${i} has one holder`);
    }
  },

  "saveBulk reports jobs whose id or key is held as duplicates and saves the rest": async (
    store,
  ) => {
    await add(store, "old");
    await saveKeyed(store, "keyed");
    const results = await store.saveBulk(Q, [
      await newJob("n1"),
      await newJob("old"),
      await newJob("n2", KEY),
      await newJob("n3"),
    ]);
    assert.deepEqual(results, [
      { id: "n1", duplicate: false },
      { id: "old", duplicate: true },
      { id: "keyed", duplicate: true },
      { id: "n3", duplicate: false },
    ]);
    assert.equal(await store.countJobs(Q), 4);
  },

  "saveBulk of jobs without options reports held and repeated ids as duplicates": async (
    store,
  ) => {
    await add(store, "held");
    const results = await store.saveBulk(Q, [
      await newJob("p1", {}, { n: 1 }),
      await newJob("held", {}, { n: 2 }),
      await newJob("p2", {}, { n: 3 }),
      await newJob("p1", {}, { n: 4 }),
    ]);
    assert.deepEqual(results, [
      { id: "p1", duplicate: false },
      { id: "held", duplicate: true },
      { id: "p2", duplicate: false },
      { id: "p1", duplicate: true },
    ]);
    assert.deepEqual((await get(store, "p1")).data, { n: 1 });
    assert.equal(await store.countJobs(Q), 3);
    const fresh = await store.saveBulk(Q, [await newJob("p3"), await newJob("p4")]);
    assert.deepEqual(fresh, [{ id: "p3", duplicate: false }, { id: "p4", duplicate: false }]);
    assert.equal(await store.countJobs(Q, "waiting"), 5);
  },

  "saveBulk treats a repeated id or key inside the batch as a duplicate of the first": async (
    store,
  ) => {
    const results = await store.saveBulk(Q, [
      await newJob("a", {}, { first: true }),
      await newJob("a", {}, { second: true }),
      await newJob("k1", KEY),
      await newJob("k2", KEY),
    ]);
    assert.deepEqual(results, [
      { id: "a", duplicate: false },
      { id: "a", duplicate: true },
      { id: "k1", duplicate: false },
      { id: "k1", duplicate: true },
    ]);
    assert.deepEqual((await get(store, "a")).data, { first: true });
    assert.equal(await store.countJobs(Q), 2);
  },
});
