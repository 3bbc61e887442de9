import assert from "node:assert/strict";
import { JOB_STATES, STORE_CONTRACT_VERSION } from "@conveyor/shared";
import type { ConformanceCase } from "../case.ts";
import { add, defineCases, get, Q, Q2 } from "../_helpers.ts";

/** Lifecycle: contract version, connect, and what a fresh store holds. */
export const lifecycleCases: ConformanceCase[] = defineCases("lifecycle", {
  "contractVersion equals STORE_CONTRACT_VERSION": (store) => {
    assert.equal(store.contractVersion, STORE_CONTRACT_VERSION);
    return Promise.resolve();
  },

  "connect is idempotent and keeps stored jobs": async (store) => {
    await add(store, "a");
    await store.connect();
    await store.connect();
    assert.equal((await get(store, "a")).state, "waiting");
    await add(store, "b");
    assert.equal(await store.countJobs(Q), 2);
  },

  "a fresh store is empty": async (store) => {
    for (const queue of [Q, Q2]) {
      assert.equal(await store.countJobs(queue), 0);
      for (const state of JOB_STATES) assert.equal(await store.countJobs(queue, state), 0);
      assert.deepEqual(await store.listJobs(queue), []);
      assert.deepEqual(await store.getPausedJobNames(queue), []);
      assert.equal(await store.getNextDelayedTimestamp(queue), null);
      assert.equal(await store.getActiveCount(queue), 0);
      assert.equal(await store.fetchNextJob(queue, "w1", 1000), null);
      assert.deepEqual(await store.getStalledJobs(queue), []);
    }
  },

  "disconnect resolves and leaves the store closed": async (store) => {
    await add(store, "a");
    await store.disconnect();
    await assert.rejects(() => store.getJob(Q, "a"));
  },
});
