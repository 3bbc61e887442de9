import assert from "node:assert/strict";
import type { ConformanceCase } from "../case.ts";
import {
  add,
  claim,
  defineCases,
  get,
  HOUR,
  LONG,
  newJob,
  PAST_SPAN,
  Q,
  Q2,
  sleep,
  SPAN,
  token,
} from "../_helpers.ts";

/** Delayed jobs and retries with a delay (guarantee 7). */
export const delayedCases: ConformanceCase[] = defineCases("delayed", {
  "saveJob with a delay stores the job delayed until createdAt + delay": async (store) => {
    await add(store, "a", { delay: HOUR });
    const job = await get(store, "a");
    assert.equal(job.state, "delayed");
    assert.equal(typeof job.delayUntil, "number");
    const due = job.delayUntil! - job.createdAt;
    assert.ok(due >= HOUR && due <= HOUR + 1000, `delayUntil is createdAt + 1 h, got +${due} ms`);
    assert.equal(await store.countJobs(Q, "delayed"), 1);
    assert.equal(await store.countJobs(Q, "waiting"), 0);
  },

  "a delayed job is not claimed before it is promoted": async (store) => {
    await add(store, "a", { delay: HOUR });
    assert.equal(await store.fetchNextJob(Q, "w1", LONG), null);
    assert.deepEqual(await store.fetchNextJobs(Q, "w1", LONG, 5), []);
    assert.equal((await get(store, "a")).state, "delayed");
  },

  "getNextDelayedTimestamp returns the earliest delayUntil of the queue": async (store) => {
    assert.equal(await store.getNextDelayedTimestamp(Q), null);
    await add(store, "late", { delay: 3 * HOUR });
    await add(store, "soon", { delay: HOUR });
    await add(store, "other", { delay: 60_000 }, Q2);
    await add(store, "now");
    const soon = await get(store, "soon");
    assert.equal(await store.getNextDelayedTimestamp(Q), soon.delayUntil);
    assert.equal(
      await store.getNextDelayedTimestamp(Q2),
      (await get(store, "other", Q2)).delayUntil,
    );
  },

  "promoteDelayedJobs moves jobs due by the timestamp to waiting": async (store) => {
    await add(store, "a", { delay: HOUR });
    await add(store, "b", { delay: HOUR });
    assert.equal(await store.promoteDelayedJobs(Q, Date.now() + 2 * HOUR), 2);
    for (const id of ["a", "b"]) assert.equal((await get(store, id)).state, "waiting");
    assert.equal(await store.getNextDelayedTimestamp(Q), null);
    assert.equal((await claim(store)).id, "a");
  },

  "promoteDelayedJobs leaves jobs that are not due yet": async (store) => {
    await add(store, "soon", { delay: HOUR });
    await add(store, "late", { delay: 5 * HOUR });
    assert.equal(await store.promoteDelayedJobs(Q, Date.now() + 2 * HOUR), 1);
    assert.equal((await get(store, "soon")).state, "waiting");
    const late = await get(store, "late");
    assert.equal(late.state, "delayed");
    assert.equal(await store.getNextDelayedTimestamp(Q), late.delayUntil);
  },

  "promoteDelayedJobs without a timestamp uses the store's clock": async (store) => {
    await add(store, "due", { delay: SPAN });
    await add(store, "later", { delay: HOUR });
    assert.equal(await store.promoteDelayedJobs(Q), 0, "nothing is due at once");
    await sleep(PAST_SPAN);
    assert.equal(await store.promoteDelayedJobs(Q), 1);
    assert.equal((await get(store, "due")).state, "waiting");
    assert.equal((await get(store, "later")).state, "delayed");
  },

  "promoteDelayedJobs only touches its queue": async (store) => {
    await add(store, "a", { delay: HOUR });
    await add(store, "b", { delay: HOUR }, Q2);
    assert.equal(await store.promoteDelayedJobs(Q, Date.now() + 2 * HOUR), 1);
    assert.equal((await get(store, "b", Q2)).state, "delayed");
  },

  "promoteDelayedJobs returns 0 when nothing is delayed": async (store) => {
    await add(store, "a");
    assert.equal(await store.promoteDelayedJobs(Q, Date.now() + 2 * HOUR), 0);
    assert.equal((await get(store, "a")).state, "waiting");
  },

  "promoted jobs are claimed in priority order": async (store) => {
    await add(store, "low", { delay: HOUR, priority: 5 });
    await add(store, "high", { delay: HOUR, priority: 1 });
    await add(store, "waiting", { priority: 3 });
    await store.promoteDelayedJobs(Q, Date.now() + 2 * HOUR);
    const order = [];
    for (let i = 0; i < 3; i++) order.push((await claim(store)).id);
    assert.deepEqual(order, ["high", "waiting", "low"]);
  },

  "failJob with a retryDelay above 0 delays the retry": async (store) => {
    await add(store, "a", { attempts: 2 });
    const job = await claim(store);
    const failure = { failedReason: "later", retryDelay: HOUR };
    assert.equal(await store.failJob(Q, "a", token(job), failure), true);
    const retried = await get(store, "a");
    assert.equal(retried.state, "delayed");
    assert.equal(retried.attemptsMade, 1);
    assert.equal(retried.failedReason, "later");
    assert.equal(retried.lockToken, null);
    assert.ok(retried.delayUntil! - job.processedAt! >= HOUR, "due one hour after the attempt");
    assert.equal(await store.getNextDelayedTimestamp(Q), retried.delayUntil);
    assert.equal(await store.fetchNextJob(Q, "w1", LONG), null, "not claimable before due");
    assert.equal(await store.promoteDelayedJobs(Q, Date.now() + 2 * HOUR), 1);
    const again = await claim(store);
    assert.equal(again.attemptsStarted, 2);
    assert.equal(await store.completeJob(Q, "a", token(again), "done"), true);
    const done = await get(store, "a");
    assert.equal(done.state, "completed");
    assert.equal(done.attemptsMade, 2);
  },

  "a retry delayed by a short retryDelay becomes due on the store's clock": async (store) => {
    await add(store, "a", { attempts: 2 });
    const job = await claim(store);
    await store.failJob(Q, "a", token(job), { failedReason: "x", retryDelay: 30 });
    await sleep(80);
    assert.equal(await store.promoteDelayedJobs(Q), 1);
    assert.equal((await claim(store)).id, "a");
  },

  "saveBulk stores delayed jobs delayed": async (store) => {
    const jobs = [await newJob("a", { delay: HOUR }), await newJob("b")];
    await store.saveBulk(Q, jobs);
    assert.equal((await get(store, "a")).state, "delayed");
    assert.equal(await store.countJobs(Q, "delayed"), 1);
    assert.equal((await claim(store)).id, "b");
    assert.equal(await store.fetchNextJob(Q, "w1", LONG), null);
  },
});
