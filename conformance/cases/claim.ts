import assert from "node:assert/strict";
import type { StoreInterface } from "@conveyor/shared";
import type { ConformanceCase } from "../case.ts";
import {
  add,
  addMany,
  assertState,
  claim,
  defineCases,
  get,
  HOUR,
  listen,
  LONG,
  PAST_SPAN,
  Q,
  Q2,
  saveTree,
  sleep,
  SPAN,
  token,
} from "../_helpers.ts";

async function claimOrder(store: StoreInterface, n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push((await claim(store)).id);
  assert.equal(await store.fetchNextJob(Q, "w1", LONG), null, "nothing left to claim");
  return ids;
}

/** Claims: order, what is claimable, leases set, batches, and limits on one fetcher. */
export const claimCases: ConformanceCase[] = defineCases("claim", {
  "fetchNextJob returns null when nothing is waiting": async (store) => {
    assert.equal(await store.fetchNextJob(Q, "w1", LONG), null);
  },

  "fetchNextJob leases the job it returns": async (store) => {
    await add(store, "a");
    const job = await claim(store, Q, "worker-7", 5000);
    assert.equal(job.id, "a");
    assert.equal(job.state, "active");
    assert.equal(job.lockedBy, "worker-7");
    assert.equal(typeof job.lockToken, "string");
    assert.ok(job.lockToken!.length > 0, "lockToken is not empty");
    assert.equal(job.attemptsStarted, 1);
    assert.equal(job.attemptsMade, 0);
    assert.equal(typeof job.processedAt, "number");
    assert.equal(typeof job.lockUntil, "number");
    const lease = job.lockUntil! - job.processedAt!;
    assert.ok(lease >= 4000 && lease <= 6000, `lockUntil is about now + 5000 ms, got +${lease}`);
    const stored = await get(store, "a");
    assert.equal(stored.state, "active");
    assert.equal(stored.lockedBy, "worker-7");
    assert.equal(stored.lockToken, job.lockToken);
    assert.equal(stored.lockUntil, job.lockUntil);
  },

  "fetchNextJob claims the highest priority (lowest number) first": async (store) => {
    await add(store, "p5", { priority: 5 });
    await add(store, "p0", { priority: 0 });
    await add(store, "p9", { priority: 9 });
    await add(store, "p1", { priority: 1 });
    assert.deepEqual(await claimOrder(store, 4), ["p0", "p1", "p5", "p9"]);
  },

  "fetchNextJob claims FIFO jobs of one priority oldest first": async (store) => {
    await addMany(store, 5, "f");
    assert.deepEqual(await claimOrder(store, 5), ["f0", "f1", "f2", "f3", "f4"]);
  },

  "fetchNextJob claims LIFO jobs newest first, before FIFO jobs of the same priority": async (
    store,
  ) => {
    await add(store, "f1");
    await add(store, "l1", { lifo: true });
    await add(store, "f2");
    await add(store, "l2", { lifo: true });
    await add(store, "f3", { priority: 0, lifo: false });
    await add(store, "low-lifo", { priority: 3, lifo: true });
    assert.deepEqual(await claimOrder(store, 6), ["l2", "l1", "f1", "f2", "f3", "low-lifo"]);
  },

  "fetchNextJob claims only jobs of its queue": async (store) => {
    await add(store, "other", {}, Q2);
    assert.equal(await store.fetchNextJob(Q, "w1", LONG), null);
    assert.equal((await claim(store, Q2)).id, "other");
  },

  "fetchNextJob skips delayed, waiting-children, active and finished jobs": async (store) => {
    await add(store, "delayed", { delay: HOUR });
    await saveTree(store, { id: "parent", children: [{ id: "child" }] });
    await add(store, "done");
    await add(store, "failed");
    await add(store, "running");
    const child = await claim(store);
    assert.equal(child.id, "child");
    const done = await claim(store);
    assert.equal(await store.completeJob(Q, done.id, token(done), null), true);
    const failed = await claim(store);
    await store.failJob(Q, failed.id, token(failed), { failedReason: "x", retryDelay: null });
    assert.equal((await claim(store)).id, "running");
    assert.equal(await store.fetchNextJob(Q, "w2", LONG), null);
  },

  "fetchNextJob moves the job from waiting to active in the counts": async (store) => {
    await addMany(store, 3);
    await claim(store);
    assert.equal(await store.countJobs(Q, "waiting"), 2);
    assert.equal(await store.countJobs(Q, "active"), 1);
    assert.equal(await store.getActiveCount(Q), 1);
  },

  "fetchNextJobs claims up to count jobs in fetchNextJob order": async (store) => {
    await add(store, "low", { priority: 2 });
    await add(store, "f1");
    await add(store, "f2");
    await add(store, "l1", { lifo: true });
    const jobs = await store.fetchNextJobs(Q, "w1", LONG, 3);
    assert.deepEqual(jobs.map((j) => j.id), ["l1", "f1", "f2"]);
    for (const job of jobs) {
      assert.equal(job.state, "active");
      assert.equal(job.lockedBy, "w1");
      assert.equal(job.attemptsStarted, 1);
      assert.equal((await get(store, job.id)).lockToken, token(job));
    }
    assert.equal(await store.countJobs(Q, "waiting"), 1);
  },

  "fetchNextJobs returns what is available, or an empty list": async (store) => {
    assert.deepEqual(await store.fetchNextJobs(Q, "w1", LONG, 5), []);
    await addMany(store, 2);
    assert.equal((await store.fetchNextJobs(Q, "w1", LONG, 5)).length, 2);
    assert.deepEqual(await store.fetchNextJobs(Q, "w1", LONG, 5), []);
  },

  "fetchNextJob respects maxGlobalConcurrency across workers": async (store) => {
    await addMany(store, 5);
    const opts = { maxGlobalConcurrency: 2 };
    const first = await claim(store, Q, "w1", LONG, opts);
    await claim(store, Q, "w2", LONG, opts);
    assert.equal(await store.fetchNextJob(Q, "w3", LONG, opts), null, "the queue is at its limit");
    assert.equal(await store.completeJob(Q, first.id, token(first), null), true);
    await claim(store, Q, "w3", LONG, opts);
    assert.equal(await store.fetchNextJob(Q, "w1", LONG, opts), null);
  },

  "maxGlobalConcurrency counts jobs claimed without limits too": async (store) => {
    await addMany(store, 5);
    await claim(store, Q, "w1");
    await claim(store, Q, "w2");
    assert.equal(await store.fetchNextJob(Q, "w3", LONG, { maxGlobalConcurrency: 2 }), null);
    assert.equal(
      (await store.fetchNextJobs(Q, "w3", LONG, 3, { maxGlobalConcurrency: 3 })).length,
      1,
    );
  },

  "maxGlobalConcurrency is counted per queue": async (store) => {
    await addMany(store, 2);
    await addMany(store, 2, "o", () => ({}), Q2);
    await claim(store, Q2);
    await claim(store, Q2);
    await claim(store, Q, "w1", LONG, { maxGlobalConcurrency: 1 });
  },

  "fetchNextJobs respects maxGlobalConcurrency": async (store) => {
    await addMany(store, 10);
    await claim(store);
    const jobs = await store.fetchNextJobs(Q, "w2", LONG, 10, { maxGlobalConcurrency: 4 });
    assert.equal(jobs.length, 3);
    assert.equal(await store.getActiveCount(Q), 4);
  },

  "rateLimit allows at most max claims per window": async (store) => {
    await addMany(store, 6);
    const opts = { rateLimit: { max: 3, duration: LONG } };
    for (let i = 0; i < 3; i++) await claim(store, Q, `w${i}`, LONG, opts);
    assert.equal(await store.fetchNextJob(Q, "w9", LONG, opts), null, "the window is full");
    assert.deepEqual(await store.fetchNextJobs(Q, "w9", LONG, 3, opts), []);
    assert.equal(await store.countJobs(Q, "waiting"), 3);
  },

  "rateLimit is not freed by finishing jobs": async (store) => {
    await addMany(store, 4);
    const opts = { rateLimit: { max: 2, duration: LONG } };
    for (let i = 0; i < 2; i++) {
      const job = await claim(store, Q, "w1", LONG, opts);
      assert.equal(await store.completeJob(Q, job.id, token(job), null), true);
    }
    assert.equal(await store.fetchNextJob(Q, "w1", LONG, opts), null);
  },

  "rateLimit window slides: claims resume once old claims leave it": async (store) => {
    await addMany(store, 4);
    // A window wide enough that a loaded machine still makes three calls inside it; the "full"
    // assertion is judged only when the calls really did fit in the window.
    const window = 4 * SPAN;
    const opts = { rateLimit: { max: 2, duration: window } };
    const started = Date.now();
    await claim(store, Q, "w1", LONG, opts);
    await claim(store, Q, "w1", LONG, opts);
    const third = await store.fetchNextJob(Q, "w1", LONG, opts);
    if (Date.now() - started < window) assert.equal(third, null, "the window is full");
    await sleep(window + PAST_SPAN - SPAN);
    const left = third === null ? 2 : 1;
    assert.equal((await store.fetchNextJobs(Q, "w1", LONG, 5, opts)).length, left);
  },

  "fetchNextJobs claims no more than the rate limit allows": async (store) => {
    await addMany(store, 10);
    const opts = { rateLimit: { max: 4, duration: LONG } };
    assert.equal((await store.fetchNextJobs(Q, "w1", LONG, 3, opts)).length, 3);
    assert.equal((await store.fetchNextJobs(Q, "w2", LONG, 3, opts)).length, 1);
    assert.deepEqual(await store.fetchNextJobs(Q, "w3", LONG, 3, opts), []);
  },

  "a worker fetching with handoff gets the job added after its empty fetch, once": async (
    store,
  ) => {
    const events = listen(store);
    const handoff = { handoff: true };
    assert.deepEqual(await store.fetchNextJobs(Q, "w1", LONG, 5, handoff), []);
    await add(store, "a");
    // The worker fetches again when the job's waiting event wakes it (a store may hand the job
    // over with that event instead of letting the fetch claim it).
    await events.waitFor((e) => e.type === "waiting" && e.jobId === "a", "waiting for a");
    const [job, ...rest] = await store.fetchNextJobs(Q, "w1", LONG, 5, handoff);
    assert.deepEqual(rest, []);
    assert.equal(job?.id, "a");
    assert.equal(job.state, "active");
    assert.equal(job.lockedBy, "w1");
    assert.equal(job.attemptsStarted, 1);
    const stored = await assertState(store, "a", "active");
    assert.equal(stored.lockToken, token(job));
    assert.equal(await store.completeJob(Q, "a", token(job), null), true);
    assert.deepEqual(await store.fetchNextJobs(Q, "w1", LONG, 5, handoff), []);
    assert.deepEqual(await store.fetchNextJobs(Q, "w2", LONG, 5, handoff), []);
    events.stop();
  },

  "an empty fetch without handoff, or with limits, leaves the next job waiting for anyone": async (
    store,
  ) => {
    assert.deepEqual(await store.fetchNextJobs(Q, "w1", LONG, 5), []);
    const limited = { handoff: true, groupConcurrency: 2, maxGlobalConcurrency: 5 };
    assert.deepEqual(await store.fetchNextJobs(Q, "w2", LONG, 5, limited), []);
    await add(store, "a");
    await assertState(store, "a", "waiting");
    assert.equal((await claim(store, Q, "w3")).id, "a");
  },
});
