import assert from "node:assert/strict";
import { ALL_JOB_NAMES, type StoreEvent } from "@conveyor/shared";
import type { ConformanceCase } from "../case.ts";
import {
  add,
  claim,
  defineCases,
  EXPIRE,
  failForGood,
  HOUR,
  listen,
  LONG,
  newJob,
  Q,
  Q2,
  saveTree,
  SHORT,
  sleep,
  token,
} from "../_helpers.ts";

const about = (type: StoreEvent["type"], jobId?: string) => (e: StoreEvent) =>
  e.type === type && e.queueName === Q && (jobId === undefined || e.jobId === jobId);

/** Events: subscribe, unsubscribe, publish, and the events store operations publish. */
export const eventsCases: ConformanceCase[] = defineCases("events", {
  "publish reaches every subscriber of the queue": async (store) => {
    const one = listen(store);
    const two = listen(store);
    const event: StoreEvent = {
      type: "progress",
      queueName: Q,
      jobId: "a",
      jobName: "task",
      detail: { progress: 50 },
    };
    await store.publish(event);
    for (const log of [one, two]) {
      const got = await log.waitFor((e) => e.type === "progress", "the published event");
      assert.deepEqual(got, event);
    }
  },

  "subscribers of another queue do not receive the event": async (store) => {
    const mine = listen(store, Q);
    const other = listen(store, Q2);
    await store.publish({ type: "drained", queueName: Q });
    await mine.waitFor((e) => e.type === "drained", "drained on the subscribed queue");
    await sleep(20);
    assert.deepEqual(other.events, []);
  },

  "unsubscribe with a listener stops delivery to that listener only": async (store) => {
    const stopped = listen(store);
    const kept = listen(store);
    stopped.stop();
    await store.publish({ type: "drained", queueName: Q });
    await kept.waitFor((e) => e.type === "drained", "drained for the kept listener");
    await sleep(20);
    assert.deepEqual(stopped.events, []);
  },

  "unsubscribe without a listener stops every listener of the queue": async (store) => {
    const one = listen(store);
    const two = listen(store);
    const other = listen(store, Q2);
    store.unsubscribe(Q);
    await store.publish({ type: "drained", queueName: Q });
    await store.publish({ type: "drained", queueName: Q2 });
    await other.waitFor((e) => e.type === "drained", "drained on the other queue");
    await sleep(20);
    assert.deepEqual([...one.events, ...two.events], []);
  },

  "a throwing listener does not stop delivery to the others": async (store) => {
    // A store may report a listener's error globally (reportError): allowed here, where the
    // runtime's global scope is an EventTarget (Deno, browsers).
    const global = globalThis as Partial<EventTarget>;
    const swallow = (e: Event) => e.preventDefault();
    global.addEventListener?.("error", swallow);
    global.addEventListener?.("unhandledrejection", swallow);
    try {
      let thrown = 0;
      store.subscribe(Q, () => {
        thrown++;
        throw new Error("listener failure (expected by the conformance case)");
      });
      const log = listen(store);
      await store.publish({ type: "drained", queueName: Q });
      await store.publish({ type: "cleaned", queueName: Q, count: 2 });
      await log.waitFor((e) => e.type === "cleaned", "the second event");
      assert.equal(log.events.length, 2);
      assert.equal(thrown, 2, "the throwing listener was called for each event");
      await sleep(10);
    } finally {
      global.removeEventListener?.("error", swallow);
      global.removeEventListener?.("unhandledrejection", swallow);
    }
  },

  "saveJob publishes waiting": async (store) => {
    const log = listen(store);
    await add(store, "a");
    await log.waitFor(about("waiting", "a"), "waiting for job a");
  },

  "saveBulk publishes waiting": async (store) => {
    const log = listen(store);
    await store.saveBulk(Q, [await newJob("a"), await newJob("b")]);
    await log.waitFor(about("waiting"), "waiting after saveBulk");
  },

  "saveJob with a delay publishes delayed": async (store) => {
    const log = listen(store);
    await add(store, "a", { delay: HOUR });
    await log.waitFor(about("delayed", "a"), "delayed for job a");
  },

  "promoteDelayedJobs publishes waiting": async (store) => {
    await add(store, "a", { delay: HOUR });
    const log = listen(store);
    await store.promoteDelayedJobs(Q, Date.now() + 2 * HOUR);
    await log.waitFor(about("waiting"), "waiting after promotion");
  },

  "updateJob publishes progress when the progress changes": async (store) => {
    await add(store, "a");
    const job = await claim(store);
    const log = listen(store);
    await store.updateJob(Q, "a", { progress: 42 }, token(job));
    await log.waitFor(about("progress", "a"), "progress for job a");
  },

  "fetchNextJobs publishes active for each claimed job, and only for those": async (store) => {
    for (const id of ["a", "b", "c"]) await add(store, id);
    const log = listen(store);
    const claimed = await store.fetchNextJobs(Q, "w1", LONG, 2);
    assert.deepEqual(claimed.map((j) => j.id), ["a", "b"]);
    await log.waitFor(about("active", "a"), "active for job a");
    await log.waitFor(about("active", "b"), "active for job b");
    await sleep(SHORT);
    assert.equal(log.events.some(about("active", "c")), false, "no active for unclaimed job c");
  },

  "active names the worker that claimed the job (detail.workerId)": async (store) => {
    for (const id of ["a", "b"]) await add(store, id);
    const log = listen(store);
    // Claims of two workers at once (a store may run them as one statement).
    await Promise.all([
      store.fetchNextJobs(Q, "w1", LONG, 1),
      store.fetchNextJobs(Q, "w2", LONG, 1),
    ]);
    const a = await log.waitFor(about("active", "a"), "active for job a");
    const b = await log.waitFor(about("active", "b"), "active for job b");
    const owner = async (id: string) => (await store.getJob(Q, id))?.lockedBy;
    assert.equal(a.detail?.workerId, await owner("a"));
    assert.equal(b.detail?.workerId, await owner("b"));
    assert.deepEqual([a.detail?.workerId, b.detail?.workerId].sort(), ["w1", "w2"]);
  },

  "a claim that takes the last waiting jobs publishes drained, not before": async (store) => {
    for (const id of ["a", "b", "c"]) await add(store, id);
    const log = listen(store);
    assert.equal((await store.fetchNextJobs(Q, "w1", LONG, 1)).length, 1);
    await log.waitFor(about("active", "a"), "active for job a");
    await sleep(SHORT);
    assert.equal(log.events.some(about("drained")), false, "no drained while jobs wait");
    // Exactly as many as are left: the claim empties the queue.
    assert.equal((await store.fetchNextJobs(Q, "w1", LONG, 2)).length, 2);
    await log.waitFor(about("drained"), "drained after the last waiting jobs were claimed");
    await sleep(SHORT);
    assert.equal(log.events.filter(about("drained")).length, 1);
  },

  "completeJob publishes completed": async (store) => {
    await add(store, "a");
    const job = await claim(store);
    const log = listen(store);
    await store.completeJob(Q, "a", token(job), { ok: true });
    await log.waitFor(about("completed", "a"), "completed for job a");
  },

  "failJob for good publishes failed": async (store) => {
    await add(store, "a");
    const log = listen(store);
    await failForGood(store, "a", Q, "kaput");
    await log.waitFor(about("failed", "a"), "failed for job a");
  },

  "pauseJobName publishes paused and resumeJobName publishes resumed": async (store) => {
    const log = listen(store);
    await store.pauseJobName(Q, "send");
    const paused = await log.waitFor(about("paused"), "paused");
    assert.equal(paused.jobName, "send");
    await store.resumeJobName(Q, "send");
    const resumed = await log.waitFor(about("resumed"), "resumed");
    assert.equal(resumed.jobName, "send");
  },

  "pausing and resuming the whole queue publishes paused and resumed": async (store) => {
    const log = listen(store);
    await store.pauseJobName(Q, ALL_JOB_NAMES);
    await log.waitFor(about("paused"), "paused");
    await store.resumeJobName(Q, ALL_JOB_NAMES);
    await log.waitFor(about("resumed"), "resumed");
  },

  "removeJob publishes removed": async (store) => {
    await add(store, "a");
    const log = listen(store);
    await store.removeJob(Q, "a");
    await log.waitFor(about("removed", "a"), "removed for job a");
  },

  "recoverStalledJobs publishes stalled for each stalled job": async (store) => {
    await add(store, "a");
    await add(store, "b");
    await store.fetchNextJobs(Q, "w1", SHORT, 2);
    await sleep(EXPIRE);
    const log = listen(store);
    await store.recoverStalledJobs(Q, 0);
    await log.waitFor(about("stalled", "a"), "stalled for job a");
    await log.waitFor(about("stalled", "b"), "stalled for job b");
  },

  "notifyChildCompleted publishes waiting when it releases the parent": async (store) => {
    await saveTree(store, { id: "p", children: [{ id: "c" }] });
    const log = listen(store);
    assert.equal(await store.notifyChildCompleted(Q, "p", "c"), true);
    await log.waitFor(about("waiting", "p"), "waiting for the released parent");
  },

  "events name their queue": async (store) => {
    const log = listen(store);
    await add(store, "a");
    await add(store, "b", {}, Q2);
    await log.waitFor(about("waiting", "a"), "waiting for job a");
    await sleep(20);
    assert.ok(log.events.every((e) => e.queueName === Q), JSON.stringify(log.events));
  },
});
