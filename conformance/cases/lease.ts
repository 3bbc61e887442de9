import assert from "node:assert/strict";
import type { ConformanceCase } from "../case.ts";
import {
  add,
  claim,
  defineCases,
  expireAndReclaim,
  get,
  LONG,
  PAST_SPAN,
  Q,
  sleep,
  SPAN,
  token,
} from "../_helpers.ts";

/** Leases: finishing, extending and releasing under a lease, and fencing (guarantee 2). */
export const leaseCases: ConformanceCase[] = defineCases("lease", {
  "completeJob stores the result and releases the lease": async (store) => {
    await add(store, "a");
    const job = await claim(store);
    assert.equal(await store.completeJob(Q, "a", token(job), { sum: 3 }), true);
    const done = await get(store, "a");
    assert.equal(done.state, "completed");
    assert.deepEqual(done.returnValue, { sum: 3 });
    assert.equal(done.attemptsMade, 1);
    assert.equal(typeof done.finishedAt, "number");
    assert.ok(done.finishedAt! >= done.processedAt!, "finishedAt is not before processedAt");
    assert.equal(done.lockToken, null);
    assert.equal(done.lockedBy, null);
    assert.equal(done.lockUntil, null);
    assert.equal(await store.getActiveCount(Q), 0);
  },

  "failJob with retryDelay null fails the job for good": async (store) => {
    await add(store, "a", { attempts: 1 });
    const job = await claim(store);
    const failure = {
      failedReason: "bad input",
      stacktrace: "Error: bad input\n  at x",
      retryDelay: null,
    };
    assert.equal(await store.failJob(Q, "a", token(job), failure), true);
    const failed = await get(store, "a");
    assert.equal(failed.state, "failed");
    assert.equal(failed.failedReason, "bad input");
    assert.deepEqual(failed.stacktrace, ["Error: bad input\n  at x"]);
    assert.equal(failed.attemptsMade, 1);
    assert.equal(typeof failed.finishedAt, "number");
    assert.equal(failed.lockToken, null);
    assert.equal(await store.getActiveCount(Q), 0);
  },

  "failJob with retryDelay 0 puts the job back to waiting at once": async (store) => {
    await add(store, "a", { attempts: 3 });
    const first = await claim(store);
    const failure = { failedReason: "flaky", retryDelay: 0 };
    assert.equal(await store.failJob(Q, "a", token(first), failure), true);
    const retried = await get(store, "a");
    assert.equal(retried.state, "waiting");
    assert.equal(retried.attemptsMade, 1);
    assert.equal(retried.failedReason, "flaky");
    assert.equal(retried.finishedAt, null);
    assert.equal(retried.lockToken, null);
    const second = await claim(store);
    assert.equal(second.id, "a");
    assert.equal(second.attemptsStarted, 2);
    assert.equal(await store.completeJob(Q, "a", token(second), "ok"), true);
    assert.equal((await get(store, "a")).attemptsMade, 2);
  },

  "failJob keeps the stack trace of every failed attempt, oldest first": async (store) => {
    await add(store, "a", { attempts: 3 });
    for (const [i, retryDelay] of [[1, 0], [2, 0], [3, null]] as const) {
      const job = await claim(store);
      await store.failJob(Q, "a", token(job), {
        failedReason: `attempt ${i}`,
        stacktrace: `trace ${i}`,
        retryDelay,
      });
    }
    const job = await get(store, "a");
    assert.equal(job.state, "failed");
    assert.equal(job.failedReason, "attempt 3");
    assert.deepEqual(job.stacktrace, ["trace 1", "trace 2", "trace 3"]);
    assert.equal(job.attemptsMade, 3);
  },

  "a lease token is new on every claim": async (store) => {
    await add(store, "a");
    const first = await claim(store);
    assert.equal(await store.releaseLock(Q, "a", token(first)), true);
    const second = await claim(store);
    assert.notEqual(token(second), token(first));
  },

  "releaseLock returns the job to waiting without counting an attempt": async (store) => {
    await add(store, "a");
    const job = await claim(store);
    assert.equal(await store.releaseLock(Q, "a", token(job)), true);
    const released = await get(store, "a");
    assert.equal(released.state, "waiting");
    assert.equal(released.attemptsMade, 0);
    assert.equal(released.lockToken, null);
    assert.equal(released.lockedBy, null);
    assert.equal(await store.getActiveCount(Q), 0);
    assert.equal((await claim(store, Q, "w2")).id, "a");
  },

  "extendLock with the current token moves lockUntil to now + duration": async (store) => {
    await add(store, "a");
    const job = await claim(store, Q, "w1", 1000);
    assert.equal(await store.extendLock(Q, "a", token(job), LONG), true);
    const extended = await get(store, "a");
    assert.ok(extended.lockUntil! - job.lockUntil! >= LONG - 2000, "lockUntil moved forward");
    assert.equal(extended.lockToken, job.lockToken, "the token stays the same");
    assert.equal(extended.state, "active");
  },

  "extendLock keeps a running job out of stalled recovery": async (store) => {
    await add(store, "a");
    const job = await claim(store, Q, "w1", SPAN);
    assert.equal(await store.extendLock(Q, "a", token(job), LONG), true);
    await sleep(PAST_SPAN);
    assert.deepEqual(await store.getStalledJobs(Q), []);
    assert.deepEqual(await store.recoverStalledJobs(Q, 1), { recovered: [], failed: [] });
    assert.equal(await store.completeJob(Q, "a", token(job), null), true);
  },

  "completeJob with a lost lease changes nothing": async (store) => {
    await add(store, "a");
    const { stale, fresh } = await expireAndReclaim(store, "a");
    assert.equal(await store.completeJob(Q, "a", stale, "stale result"), false);
    const job = await get(store, "a");
    assert.equal(job.state, "active");
    assert.equal(job.lockToken, fresh);
    assert.equal(job.lockedBy, "w2");
    assert.equal(job.returnValue, null);
    assert.equal(job.attemptsMade, 0);
    assert.equal(await store.completeJob(Q, "a", fresh, "fresh result"), true);
    assert.equal((await get(store, "a")).returnValue, "fresh result");
  },

  "failJob with a lost lease changes nothing": async (store) => {
    await add(store, "a", { attempts: 3 });
    const { stale, fresh } = await expireAndReclaim(store, "a");
    for (const retryDelay of [0, null]) {
      assert.equal(
        await store.failJob(Q, "a", stale, { failedReason: "stale", retryDelay }),
        false,
      );
    }
    const job = await get(store, "a");
    assert.equal(job.state, "active");
    assert.equal(job.lockToken, fresh);
    assert.equal(job.failedReason, null);
    assert.equal(job.attemptsMade, 0);
  },

  "extendLock with a lost lease returns false and leaves the new lease": async (store) => {
    await add(store, "a");
    const { stale, fresh } = await expireAndReclaim(store, "a");
    const before = await get(store, "a");
    assert.equal(await store.extendLock(Q, "a", stale, 10 * LONG), false);
    const after = await get(store, "a");
    assert.equal(after.lockToken, fresh);
    assert.equal(after.lockUntil, before.lockUntil);
  },

  "releaseLock with a lost lease returns false and keeps the job active": async (store) => {
    await add(store, "a");
    const { stale, fresh } = await expireAndReclaim(store, "a");
    assert.equal(await store.releaseLock(Q, "a", stale), false);
    const job = await get(store, "a");
    assert.equal(job.state, "active");
    assert.equal(job.lockToken, fresh);
  },

  "updateJob with a lost lease changes nothing": async (store) => {
    await add(store, "a");
    const { stale } = await expireAndReclaim(store, "a");
    assert.equal(
      await store.updateJob(Q, "a", { progress: 99, data: { stale: true } }, stale),
      false,
    );
    const job = await get(store, "a");
    assert.equal(job.progress, 0);
    assert.deepEqual(job.data, { id: "a" });
  },

  "addLog with a lost lease changes nothing": async (store) => {
    await add(store, "a");
    const { stale, fresh } = await expireAndReclaim(store, "a");
    assert.equal(await store.addLog(Q, "a", "stale line", stale), false);
    assert.equal(await store.addLog(Q, "a", "fresh line", fresh), true);
    assert.deepEqual((await get(store, "a")).logs, ["fresh line"]);
  },

  "a released lease's token cannot touch the job's next run": async (store) => {
    await add(store, "a");
    const first = await claim(store);
    await store.releaseLock(Q, "a", token(first));
    const second = await claim(store, Q, "w2");
    const old = token(first);
    assert.equal(await store.completeJob(Q, "a", old, null), false);
    assert.equal(await store.failJob(Q, "a", old, { failedReason: "x", retryDelay: null }), false);
    assert.equal(await store.extendLock(Q, "a", old, LONG), false);
    assert.equal(await store.releaseLock(Q, "a", old), false);
    assert.equal(await store.updateJob(Q, "a", { progress: 5 }, old), false);
    assert.equal(await store.addLog(Q, "a", "old", old), false);
    const job = await get(store, "a");
    assert.equal(job.state, "active");
    assert.equal(job.lockToken, second.lockToken);
    assert.equal(job.progress, 0);
    assert.deepEqual(job.logs, []);
  },

  "fenced operations with a wrong token are refused": async (store) => {
    await add(store, "a");
    const job = await claim(store);
    const wrong = `${token(job)}-forged`;
    assert.equal(await store.completeJob(Q, "a", wrong, null), false);
    assert.equal(await store.failJob(Q, "a", wrong, { failedReason: "x", retryDelay: 0 }), false);
    assert.equal(await store.extendLock(Q, "a", wrong, LONG), false);
    assert.equal(await store.releaseLock(Q, "a", wrong), false);
    assert.equal(await store.updateJob(Q, "a", { progress: 1 }, wrong), false);
    assert.equal(await store.addLog(Q, "a", "x", wrong), false);
    const stored = await get(store, "a");
    assert.equal(stored.state, "active");
    assert.equal(stored.lockToken, job.lockToken);
    assert.equal(stored.lockUntil, job.lockUntil);
  },

  "a finished job's token is spent: completing twice changes nothing": async (store) => {
    await add(store, "a");
    const job = await claim(store);
    assert.equal(await store.completeJob(Q, "a", token(job), 1), true);
    assert.equal(await store.completeJob(Q, "a", token(job), 2), false);
    assert.equal(
      await store.failJob(Q, "a", token(job), { failedReason: "x", retryDelay: 0 }),
      false,
    );
    assert.equal(await store.updateJob(Q, "a", { progress: 50 }, token(job)), false);
    const done = await get(store, "a");
    assert.equal(done.state, "completed");
    assert.equal(done.returnValue, 1);
    assert.equal(done.attemptsMade, 1);
  },

  "fenced operations on a removed job return false": async (store) => {
    await add(store, "a");
    await add(store, "b");
    const a = await claim(store);
    assert.equal(await store.completeJob(Q, "a", token(a), null), true);
    assert.equal(await store.removeJob(Q, "a"), true);
    assert.equal(await store.completeJob(Q, "a", token(a), null), false);
    assert.equal(await store.extendLock(Q, "a", token(a), LONG), false);
    assert.equal(await store.addLog(Q, "a", "x", token(a)), false);
    assert.equal(await store.getJob(Q, "a"), null);
  },
});
