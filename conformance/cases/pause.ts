import assert from "node:assert/strict";
import { ALL_JOB_NAMES } from "@conveyor/shared";
import type { ConformanceCase } from "../case.ts";
import { add, claim, defineCases, get, LONG, Q, Q2, token } from "../_helpers.ts";

/** Pause and resume, by job name and for the whole queue (guarantee 6). */
export const pauseCases: ConformanceCase[] = defineCases("pause", {
  "pauseJobName stops claims of that name only": async (store) => {
    await add(store, "s1", { priority: 0 }, Q, "send");
    await add(store, "r1", { priority: 5 }, Q, "report");
    await store.pauseJobName(Q, "send");
    assert.equal((await claim(store)).id, "r1", "the paused higher-priority job is skipped");
    assert.equal(await store.fetchNextJob(Q, "w1", LONG), null);
    assert.deepEqual(await store.fetchNextJobs(Q, "w1", LONG, 5), []);
    assert.equal((await get(store, "s1")).state, "waiting", "a paused job stays waiting");
  },

  "resumeJobName lets claims of that name continue": async (store) => {
    await add(store, "s1", {}, Q, "send");
    await store.pauseJobName(Q, "send");
    assert.equal(await store.fetchNextJob(Q, "w1", LONG), null);
    await store.resumeJobName(Q, "send");
    assert.equal((await claim(store)).id, "s1");
  },

  "pausing ALL_JOB_NAMES stops every claim of the queue": async (store) => {
    await add(store, "a", {}, Q, "send");
    await add(store, "b", {}, Q, "report");
    await store.pauseJobName(Q, ALL_JOB_NAMES);
    assert.equal(await store.fetchNextJob(Q, "w1", LONG), null);
    assert.deepEqual(await store.fetchNextJobs(Q, "w1", LONG, 5), []);
    await store.resumeJobName(Q, ALL_JOB_NAMES);
    assert.equal((await store.fetchNextJobs(Q, "w1", LONG, 5)).length, 2);
  },

  "getPausedJobNames lists the paused names, including ALL_JOB_NAMES": async (store) => {
    assert.deepEqual(await store.getPausedJobNames(Q), []);
    await store.pauseJobName(Q, "send");
    await store.pauseJobName(Q, "report");
    await store.pauseJobName(Q, ALL_JOB_NAMES);
    assert.deepEqual(
      (await store.getPausedJobNames(Q)).sort(),
      [ALL_JOB_NAMES, "report", "send"].sort(),
    );
    await store.resumeJobName(Q, "report");
    await store.resumeJobName(Q, ALL_JOB_NAMES);
    assert.deepEqual(await store.getPausedJobNames(Q), ["send"]);
  },

  "pausing a name twice lists it once and one resume undoes it": async (store) => {
    await add(store, "a", {}, Q, "send");
    await store.pauseJobName(Q, "send");
    await store.pauseJobName(Q, "send");
    assert.deepEqual(await store.getPausedJobNames(Q), ["send"]);
    await store.resumeJobName(Q, "send");
    assert.deepEqual(await store.getPausedJobNames(Q), []);
    assert.equal((await claim(store)).id, "a");
  },

  "resuming a name that is not paused changes nothing": async (store) => {
    await add(store, "a", {}, Q, "send");
    await store.pauseJobName(Q, "report");
    await store.resumeJobName(Q, "send");
    assert.deepEqual(await store.getPausedJobNames(Q), ["report"]);
    assert.equal((await claim(store)).id, "a");
  },

  "a pause holds only in its queue": async (store) => {
    await add(store, "a", {}, Q2, "send");
    await store.pauseJobName(Q, "send");
    await store.pauseJobName(Q, ALL_JOB_NAMES);
    assert.deepEqual(await store.getPausedJobNames(Q2), []);
    assert.equal((await claim(store, Q2)).id, "a");
  },

  "a pause also holds for jobs added after it": async (store) => {
    await store.pauseJobName(Q, "send");
    await add(store, "late", {}, Q, "send");
    await add(store, "delayed", { delay: 50 }, Q, "send");
    await store.promoteDelayedJobs(Q, Date.now() + 60_000);
    assert.equal(await store.fetchNextJob(Q, "w1", LONG), null);
    assert.equal(await store.countJobs(Q, "waiting"), 2);
  },

  "pausing does not disturb jobs that are already active": async (store) => {
    await add(store, "a", {}, Q, "send");
    const job = await claim(store);
    await store.pauseJobName(Q, ALL_JOB_NAMES);
    assert.equal(await store.extendLock(Q, "a", token(job), LONG), true);
    assert.equal(await store.completeJob(Q, "a", token(job), "ok"), true);
    assert.equal((await get(store, "a")).state, "completed");
  },

  "a job retried while its name is paused is not claimed": async (store) => {
    await add(store, "a", { attempts: 2 }, Q, "send");
    const job = await claim(store);
    await store.pauseJobName(Q, "send");
    await store.failJob(Q, "a", token(job), { failedReason: "x", retryDelay: 0 });
    assert.equal(await store.fetchNextJob(Q, "w1", LONG), null);
    await store.resumeJobName(Q, "send");
    assert.equal((await claim(store)).id, "a");
  },
});
