import assert from "node:assert/strict";
import type { StoreInterface } from "@conveyor/shared";
import type { ConformanceCase } from "../case.ts";
import {
  assertGone,
  assertState,
  claimJob,
  complete,
  defineCases,
  EXPIRE,
  failForGood,
  get,
  LONG,
  Q,
  Q2,
  saveTree,
  SHORT,
  sleep,
  token,
} from "../_helpers.ts";

async function assertFailed(store: StoreInterface, id: string): Promise<void> {
  const job = await assertState(store, id, "failed");
  assert.equal(typeof job.failedReason, "string", `failed parent "${id}" says why`);
  assert.equal(typeof job.finishedAt, "number");
}

/** Flows: the failure policies `fail | ignore | remove` of the flows spec. */
export const flowPolicyCases: ConformanceCase[] = defineCases("flows", {
  "a child failing for good fails its parent under policy fail": async (store) => {
    await saveTree(store, {
      id: "p",
      opts: { failParentOnChildFailure: "fail" },
      children: [{ id: "c1" }, { id: "c2" }],
    });
    await failForGood(store, "c1");
    await assertFailed(store, "p");
    for (
      let job = await store.fetchNextJob(Q, "w1", LONG);
      job;
      job = await store.fetchNextJob(Q, "w1", LONG)
    ) {
      assert.notEqual(job.id, "p", "the failed parent is not claimed");
    }
  },

  "policy fail is the default": async (store) => {
    await saveTree(store, { id: "p", children: [{ id: "c" }] });
    await failForGood(store, "c");
    await assertFailed(store, "p");
  },

  "policy fail recurses to a grandparent whose policy is fail": async (store) => {
    await saveTree(store, {
      id: "gp",
      children: [{ id: "p", children: [{ id: "c" }] }, { id: "uncle" }],
    });
    await failForGood(store, "c");
    await assertFailed(store, "p");
    await assertFailed(store, "gp");
  },

  "a failed parent counts as done for a grandparent whose policy is ignore": async (store) => {
    await saveTree(store, {
      id: "gp",
      opts: { failParentOnChildFailure: "ignore" },
      children: [{ id: "p", children: [{ id: "c" }] }, { id: "uncle" }],
    });
    await failForGood(store, "c");
    await assertFailed(store, "p");
    assert.equal((await assertState(store, "gp", "waiting-children")).pendingChildrenCount, 1);
    await complete(store, "uncle");
    await assertState(store, "gp", "waiting");
  },

  "policy ignore counts the failed child as done": async (store) => {
    await saveTree(store, {
      id: "p",
      opts: { failParentOnChildFailure: "ignore" },
      children: [{ id: "c1" }, { id: "c2" }],
    });
    await failForGood(store, "c1");
    assert.equal((await assertState(store, "p", "waiting-children")).pendingChildrenCount, 1);
    await complete(store, "c2");
    await assertState(store, "p", "waiting");
  },

  "policy ignore releases the parent when the failed child was the last": async (store) => {
    await saveTree(store, {
      id: "p",
      opts: { failParentOnChildFailure: "ignore" },
      children: [{ id: "c1" }, { id: "c2", queue: Q2 }],
    });
    await complete(store, "c1");
    await failForGood(store, "c2", Q2);
    await assertState(store, "p", "waiting");
  },

  "policy remove removes the parent when a child fails for good": async (store) => {
    await saveTree(store, {
      id: "p",
      opts: { failParentOnChildFailure: "remove" },
      children: [{ id: "c1" }, { id: "c2" }],
    });
    await failForGood(store, "c1");
    await assertGone(store, "p");
  },

  "policy remove hands the failure on to a grandparent whose policy is fail": async (store) => {
    await saveTree(store, {
      id: "gp",
      children: [{
        id: "p",
        opts: { failParentOnChildFailure: "remove" },
        children: [{ id: "c" }],
      }],
    });
    await failForGood(store, "c");
    await assertGone(store, "p");
    await assertFailed(store, "gp");
  },

  "policy remove hands the failure on to a grandparent whose policy is ignore": async (store) => {
    await saveTree(store, {
      id: "gp",
      opts: { failParentOnChildFailure: "ignore" },
      children: [
        { id: "p", opts: { failParentOnChildFailure: "remove" }, children: [{ id: "c" }] },
        { id: "uncle" },
      ],
    });
    await failForGood(store, "c");
    await assertGone(store, "p");
    assert.equal((await assertState(store, "gp", "waiting-children")).pendingChildrenCount, 1);
    await complete(store, "uncle");
    await assertState(store, "gp", "waiting");
  },

  "a child that will be retried does not apply its parent's policy": async (store) => {
    await saveTree(store, { id: "p", children: [{ id: "c", opts: { attempts: 2 } }] });
    const job = await claimJob(store, "c");
    await store.failJob(Q, "c", token(job), { failedReason: "flaky", retryDelay: 0 });
    assert.equal((await assertState(store, "p", "waiting-children")).pendingChildrenCount, 1);
    await complete(store, "c");
    await assertState(store, "p", "waiting");
  },

  "a child removed when it fails for good still applies its parent's policy": async (store) => {
    await saveTree(store, {
      id: "p",
      opts: { failParentOnChildFailure: "ignore" },
      children: [{ id: "c1", opts: { removeOnFail: true } }, { id: "c2" }],
    });
    await failForGood(store, "c1");
    await assertGone(store, "c1");
    assert.equal((await assertState(store, "p", "waiting-children")).pendingChildrenCount, 1);
    await complete(store, "c2");
    await assertState(store, "p", "waiting");
  },

  "a child failing in another queue applies its parent's policy": async (store) => {
    await saveTree(store, { id: "p", children: [{ id: "c", queue: Q2 }, { id: "s" }] });
    await failForGood(store, "c", Q2);
    await assertFailed(store, "p");
  },

  "a stalled child that fails for good applies its parent's policy": async (store) => {
    await saveTree(store, { id: "p", children: [{ id: "c" }] });
    await claimJob(store, "c", Q, "w1", SHORT);
    await sleep(EXPIRE);
    assert.deepEqual(await store.recoverStalledJobs(Q, 0), { recovered: [], failed: ["c"] });
    await assertFailed(store, "p");
  },

  "a parent failed by one child stays failed when another child completes": async (store) => {
    await saveTree(store, { id: "p", children: [{ id: "c1" }, { id: "c2" }] });
    const c2 = await claimJob(store, "c2");
    await failForGood(store, "c1");
    await assertFailed(store, "p");
    await store.completeJob(Q, "c2", token(c2), "late");
    assert.equal(await store.notifyChildCompleted(Q, "p", "c2"), false);
    await assertFailed(store, "p");
  },

  "failParentOnChildFailure with policy fail fails the parent": async (store) => {
    await saveTree(store, { id: "p", children: [{ id: "c1" }, { id: "c2" }] });
    await store.failParentOnChildFailure(Q, "p", "c1", "child c1 failed");
    await assertFailed(store, "p");
  },

  "failParentOnChildFailure with policy remove removes the parent": async (store) => {
    await saveTree(store, {
      id: "p",
      opts: { failParentOnChildFailure: "remove" },
      children: [{ id: "c1" }],
    });
    await store.failParentOnChildFailure(Q, "p", "c1", "child c1 failed");
    await assertGone(store, "p");
  },

  "failParentOnChildFailure counts each ignored child once": async (store) => {
    await saveTree(store, {
      id: "p",
      opts: { failParentOnChildFailure: "ignore" },
      children: [{ id: "c1" }, { id: "c2" }, { id: "c3" }],
    });
    await failForGood(store, "c1");
    assert.equal((await get(store, "p")).pendingChildrenCount, 2);
    await store.failParentOnChildFailure(Q, "p", "c1", "again");
    await store.failParentOnChildFailure(Q, "p", "c2", "c2 failed");
    await store.failParentOnChildFailure(Q, "p", "c2", "c2 failed again");
    assert.equal((await assertState(store, "p", "waiting-children")).pendingChildrenCount, 1);
  },
});
