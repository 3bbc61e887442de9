import assert from "node:assert/strict";
import { ALL_JOB_NAMES, type JobData } from "@conveyor/shared";
import type { ConformanceCase } from "../case.ts";
import {
  addMany,
  assertClaimedOnce,
  claimConcurrently,
  defineCases,
  LONG,
  Q,
} from "../_helpers.ts";

/** Counts jobs in flight per key and fails the first time a key exceeds `limit`. */
function inFlight(limit: number, key: (job: JobData) => string | null) {
  const running = new Map<string, number>();
  let peak = 0;
  return {
    onClaim(job: JobData) {
      const k = key(job);
      if (k === null) return;
      const n = (running.get(k) ?? 0) + 1;
      running.set(k, n);
      peak = Math.max(peak, n);
      assert.ok(n <= limit, `${n} jobs of "${k}" active at once; the limit is ${limit}`);
    },
    onFinish(job: JobData) {
      const k = key(job);
      if (k !== null) running.set(k, (running.get(k) ?? 0) - 1);
    },
    get peak() {
      return peak;
    },
  };
}

/** Claims: atomicity under many concurrent fetchers (guarantee 1). */
export const concurrentClaimCases: ConformanceCase[] = defineCases("claim", {
  "fetchNextJob never leases one job to two workers": async (store) => {
    const ids = await addMany(store, 200);
    const claims = await claimConcurrently(store, { fetchers: 20, maxClaims: 600 });
    assertClaimedOnce(claims, ids);
    assert.equal(await store.getActiveCount(Q), 200);
    for (const c of claims.slice(0, 20)) {
      const job = await store.getJob(Q, c.id);
      assert.equal(job?.lockedBy, c.worker, `job ${c.id} is leased to the worker that got it`);
      assert.equal(job?.lockToken, c.token);
    }
  },

  "fetchNextJob never leases one job to two workers with priorities and LIFO jobs": async (
    store,
  ) => {
    const ids = await addMany(store, 200, "p", (i) => ({ priority: i % 5, lifo: i % 3 === 0 }));
    assertClaimedOnce(await claimConcurrently(store, { fetchers: 20, maxClaims: 600 }), ids);
  },

  "fetchNextJobs never leases one job to two workers": async (store) => {
    const ids = await addMany(store, 200, "b", (i) => ({ priority: i % 3 }));
    const claims = await claimConcurrently(store, { fetchers: 10, batch: 7, maxClaims: 600 });
    assertClaimedOnce(claims, ids);
  },

  "fetchNextJob and fetchNextJobs running together never share a job": async (store) => {
    const ids = await addMany(store, 200);
    const [singles, batches] = await Promise.all([
      claimConcurrently(store, { fetchers: 10, maxClaims: 600 }),
      claimConcurrently(store, { fetchers: 10, batch: 5, maxClaims: 600 }),
    ]);
    assertClaimedOnce([...singles, ...batches], ids);
  },

  "concurrent claims never exceed groupConcurrency and take every job once": async (store) => {
    const ids = await addMany(
      store,
      200,
      "g",
      (i) => (i % 10 === 9 ? {} : { groupId: `g${i % 5}` }),
    );
    const limit = inFlight(2, (job) => job.groupId);
    const claims = await claimConcurrently(store, {
      fetchers: 20,
      fetch: { groupConcurrency: 2 },
      finish: true,
      onClaim: limit.onClaim,
      onFinish: limit.onFinish,
      maxClaims: 600,
    });
    assertClaimedOnce(claims, ids);
    assert.equal(limit.peak, 2, "some group reached its limit");
  },

  "concurrent claims never exceed maxGlobalConcurrency and take every job once": async (store) => {
    const ids = await addMany(store, 200, "m", (i) => ({ priority: i % 4 }));
    const limit = inFlight(5, () => "queue");
    const claims = await claimConcurrently(store, {
      fetchers: 20,
      fetch: { maxGlobalConcurrency: 5 },
      finish: true,
      onClaim: limit.onClaim,
      onFinish: limit.onFinish,
      maxClaims: 600,
    });
    assertClaimedOnce(claims, ids);
    assert.equal(await store.countJobs(Q, "completed"), 200);
  },

  "concurrent claims never take jobs of a paused name": async (store) => {
    const ids = await addMany(store, 200, "n", () => ({}), Q, (i) => (i % 2 ? "held" : "run"));
    await store.pauseJobName(Q, "held");
    const claims = await claimConcurrently(store, { fetchers: 20, maxClaims: 600 });
    assertClaimedOnce(claims, ids.filter((_, i) => i % 2 === 0));
    assert.equal(await store.countJobs(Q, "waiting"), 100);
  },

  "concurrent claims never take jobs of a paused queue": async (store) => {
    await addMany(store, 50);
    await store.pauseJobName(Q, ALL_JOB_NAMES);
    assert.deepEqual(await claimConcurrently(store, { fetchers: 20, maxClaims: 100 }), []);
    assert.equal(await store.countJobs(Q, "waiting"), 50);
  },

  "concurrent claims never exceed the rate limit": async (store) => {
    const ids = await addMany(store, 200);
    const claims = await claimConcurrently(store, {
      fetchers: 20,
      fetch: { rateLimit: { max: 50, duration: LONG } },
      maxClaims: 600,
    });
    assert.equal(claims.length, 50, "exactly max claims in the window");
    assertClaimedOnce(claims, ids.filter((id) => claims.some((c) => c.id === id)));
  },

  "concurrent batch claims with groups, priorities, pauses and limits take each job once": async (
    store,
  ) => {
    const ids = await addMany(
      store,
      200,
      "x",
      (i) => ({ priority: i % 3, groupId: `g${i % 4}`, lifo: i % 5 === 0 }),
      Q,
      (i) => (i % 10 === 0 ? "held" : "run"),
    );
    await store.pauseJobName(Q, "held");
    const group = inFlight(3, (job) => job.groupId);
    const claims = await claimConcurrently(store, {
      fetchers: 10,
      batch: 4,
      fetch: {
        groupConcurrency: 3,
        maxGlobalConcurrency: 8,
        rateLimit: { max: 1000, duration: LONG },
      },
      finish: true,
      onClaim: (job) => {
        assert.notEqual(job.name, "held", "a paused job was claimed");
        group.onClaim(job);
      },
      onFinish: group.onFinish,
      maxClaims: 600,
    });
    assertClaimedOnce(claims, ids.filter((_, i) => i % 10 !== 0));
  },
});
