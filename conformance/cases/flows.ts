import assert from "node:assert/strict";
import type { StoreInterface } from "@conveyor/shared";
import type { ConformanceCase } from "../case.ts";
import {
  add,
  assertGone,
  assertState,
  claim,
  claimJob,
  complete,
  defineCases,
  flowRecords,
  get,
  HOUR,
  LONG,
  Q,
  Q2,
  Q3,
  saveTree,
  token,
} from "../_helpers.ts";

async function pending(store: StoreInterface, id: string, queue = Q): Promise<number> {
  return (await get(store, id, queue)).pendingChildrenCount;
}

/** Flows: saving trees and counting children exactly (guarantee 4). */
export const flowCases: ConformanceCase[] = defineCases("flows", {
  "saveFlow saves the parent waiting-children and its leaf children waiting": async (store) => {
    await saveTree(store, { id: "p", children: [{ id: "c1" }, { id: "c2" }] });
    const parent = await assertState(store, "p", "waiting-children");
    assert.equal(parent.pendingChildrenCount, 2);
    assert.equal(parent.parentId, null);
    for (const id of ["c1", "c2"]) {
      const child = await assertState(store, id, "waiting");
      assert.equal(child.parentId, "p");
      assert.equal(child.parentQueueName, Q);
      assert.equal(child.pendingChildrenCount, 0);
    }
  },

  "saveFlow accepts the records in any order and answers in input order": async (store) => {
    const records = (await flowRecords({ id: "p", children: [{ id: "c1" }, { id: "c2" }] }))
      .reverse();
    assert.deepEqual(records.map((r) => r.id), ["p", "c2", "c1"]);
    const results = await store.saveFlow(records);
    assert.deepEqual(results, records.map((r) => ({ id: r.id, duplicate: false })));
    assert.equal(await pending(store, "p"), 2);
    await assertState(store, "c1", "waiting");
  },

  "a flow parent is not claimed while it waits for children": async (store) => {
    await saveTree(store, {
      id: "p",
      opts: { priority: 0 },
      children: [{ id: "c1" }, { id: "c2" }],
    });
    const claimed = [(await claim(store)).id, (await claim(store)).id].sort();
    assert.deepEqual(claimed, ["c1", "c2"]);
    assert.equal(await store.fetchNextJob(Q, "w1", LONG), null);
  },

  "a parent becomes waiting exactly when its last direct child completes": async (store) => {
    await saveTree(store, { id: "p", children: [{ id: "c1" }, { id: "c2" }, { id: "c3" }] });
    await complete(store, "c2");
    assert.equal((await assertState(store, "p", "waiting-children")).pendingChildrenCount, 2);
    await complete(store, "c1");
    assert.equal((await assertState(store, "p", "waiting-children")).pendingChildrenCount, 1);
    await complete(store, "c3");
    assert.equal((await assertState(store, "p", "waiting")).pendingChildrenCount, 0);
    assert.equal((await claim(store)).id, "p");
  },

  "a three-level tree is released level by level": async (store) => {
    await saveTree(store, {
      id: "root",
      children: [{ id: "mid", children: [{ id: "g1" }, { id: "g2" }] }, { id: "leaf" }],
    });
    await assertState(store, "mid", "waiting-children");
    await complete(store, "g1");
    await assertState(store, "mid", "waiting-children");
    await complete(store, "g2");
    await assertState(store, "mid", "waiting");
    assert.equal(await pending(store, "root"), 2, "a grandchild does not count for the root");
    await complete(store, "leaf");
    await assertState(store, "root", "waiting-children");
    await complete(store, "mid");
    await assertState(store, "root", "waiting");
  },

  "children in other queues release their parent": async (store) => {
    await saveTree(store, {
      id: "order",
      children: [{ id: "pay", queue: Q2 }, { id: "ship", queue: Q3 }],
    });
    const pay = await assertState(store, "pay", "waiting", Q2);
    assert.equal(pay.parentId, "order");
    assert.equal(pay.parentQueueName, Q);
    await complete(store, "pay", Q2);
    assert.equal(await pending(store, "order"), 1);
    await complete(store, "ship", Q3);
    await assertState(store, "order", "waiting");
  },

  "getChildrenJobs returns the direct children across queues by seq": async (store) => {
    await saveTree(store, {
      id: "root",
      children: [{ id: "a", queue: Q2, children: [{ id: "ga" }] }, { id: "b" }, {
        id: "c",
        queue: Q3,
      }],
    });
    const children = await store.getChildrenJobs(Q, "root");
    assert.deepEqual(children.map((c) => c.id).sort(), ["a", "b", "c"]);
    const seqs = children.map((c) => c.seq);
    assert.deepEqual(seqs, [...seqs].sort((x, y) => x - y), "ascending seq");
    assert.equal(children.find((c) => c.id === "a")?.queueName, Q2);
    assert.deepEqual((await store.getChildrenJobs(Q2, "a")).map((c) => c.id), ["ga"]);
    assert.deepEqual(await store.getChildrenJobs(Q, "b"), []);
  },

  "notifyChildCompleted after completeJob does not count the child again": async (store) => {
    await saveTree(store, { id: "p", children: [{ id: "c1" }, { id: "c2" }] });
    await complete(store, "c1");
    assert.equal(await store.notifyChildCompleted(Q, "p", "c1"), false);
    assert.equal((await assertState(store, "p", "waiting-children")).pendingChildrenCount, 1);
  },

  "a repeated notifyChildCompleted never double-counts": async (store) => {
    await saveTree(store, { id: "p", children: [{ id: "c1" }, { id: "c2" }] });
    assert.equal(await store.notifyChildCompleted(Q, "p", "c1"), false);
    assert.equal(await store.notifyChildCompleted(Q, "p", "c1"), false);
    assert.equal((await assertState(store, "p", "waiting-children")).pendingChildrenCount, 1);
    assert.equal(await store.notifyChildCompleted(Q, "p", "c2"), true);
    assert.equal(await store.notifyChildCompleted(Q, "p", "c2"), false);
    assert.equal((await assertState(store, "p", "waiting")).pendingChildrenCount, 0);
  },

  "notifyChildCompleted before completeJob counts the child once": async (store) => {
    await saveTree(store, { id: "p", children: [{ id: "c1" }, { id: "c2" }] });
    assert.equal(await store.notifyChildCompleted(Q, "p", "c1"), false);
    await complete(store, "c1");
    assert.equal((await assertState(store, "p", "waiting-children")).pendingChildrenCount, 1);
    await complete(store, "c2");
    await assertState(store, "p", "waiting");
  },

  "a retried child counts only on its final success": async (store) => {
    await saveTree(store, { id: "p", children: [{ id: "c", opts: { attempts: 3 } }, { id: "s" }] });
    const first = await claimJob(store, "c");
    await store.failJob(Q, "c", token(first), { failedReason: "flaky", retryDelay: 0 });
    assert.equal(await pending(store, "p"), 2);
    const second = await claimJob(store, "c");
    await store.failJob(Q, "c", token(second), { failedReason: "flaky", retryDelay: HOUR });
    assert.equal(await pending(store, "p"), 2);
    await store.promoteDelayedJobs(Q, Date.now() + 2 * HOUR);
    await complete(store, "c");
    assert.equal((await assertState(store, "p", "waiting-children")).pendingChildrenCount, 1);
  },

  "concurrent completions of sibling children release the parent exactly once": async (store) => {
    const children = Array.from({ length: 20 }, (_, i) => ({ id: `c${i}` }));
    await saveTree(store, { id: "p", children });
    const claimed = await store.fetchNextJobs(Q, "w1", LONG, 20);
    assert.equal(claimed.length, 20);
    const done = await Promise.all(claimed.map((j) => store.completeJob(Q, j.id, token(j), j.id)));
    assert.ok(done.every(Boolean));
    assert.equal((await assertState(store, "p", "waiting")).pendingChildrenCount, 0);
    assert.equal((await claim(store)).id, "p");
    assert.equal(await store.fetchNextJob(Q, "w2", LONG), null);
  },

  "concurrent repeated notifications release the parent exactly once": async (store) => {
    const children = Array.from({ length: 10 }, (_, i) => ({ id: `c${i}` }));
    await saveTree(store, { id: "p", children });
    const calls = children.flatMap((c) => [c.id, c.id, c.id]);
    const released = await Promise.all(calls.map((id) => store.notifyChildCompleted(Q, "p", id)));
    assert.equal(released.filter(Boolean).length, 1, "exactly one call released the parent");
    assert.equal((await assertState(store, "p", "waiting")).pendingChildrenCount, 0);
  },

  "a child removed on completion still counts once for its parent": async (store) => {
    await saveTree(store, {
      id: "p",
      children: [{ id: "c1", opts: { removeOnComplete: true } }, { id: "c2" }],
    });
    await complete(store, "c1");
    await assertGone(store, "c1");
    assert.equal((await assertState(store, "p", "waiting-children")).pendingChildrenCount, 1);
    await complete(store, "c2");
    await assertState(store, "p", "waiting");
  },

  "removing a pending child counts it as done for its parent": async (store) => {
    await saveTree(store, { id: "p", children: [{ id: "c1" }, { id: "c2" }] });
    assert.equal(await store.removeJob(Q, "c1"), true);
    assert.equal(await pending(store, "p"), 1);
    assert.equal(await store.removeJob(Q, "c2"), true);
    await assertState(store, "p", "waiting");
  },

  "removing a completed child does not count it again": async (store) => {
    await saveTree(store, { id: "p", children: [{ id: "c1" }, { id: "c2" }, { id: "c3" }] });
    await complete(store, "c1");
    assert.equal(await store.removeJob(Q, "c1"), true);
    assert.equal((await assertState(store, "p", "waiting-children")).pendingChildrenCount, 2);
  },

  "removing a flow parent removes its unfinished descendants that are not active": async (
    store,
  ) => {
    await saveTree(store, {
      id: "root",
      children: [
        { id: "mid", children: [{ id: "g1" }, { id: "g2", queue: Q2 }] },
        { id: "done" },
        { id: "running", queue: Q2 },
      ],
    });
    await complete(store, "done");
    const running = await claimJob(store, "running", Q2);
    assert.equal(await store.removeJob(Q, "root"), true);
    for (const [id, queue] of [["root", Q], ["mid", Q], ["g1", Q], ["g2", Q2]]) {
      await assertGone(store, id, queue);
    }
    await assertState(store, "done", "completed");
    await assertState(store, "running", "active", Q2);
    assert.equal(await store.completeJob(Q2, "running", token(running), "ok"), true);
    await assertState(store, "running", "completed", Q2);
  },

  "saveFlow stores a delayed child delayed and still counts it": async (store) => {
    await saveTree(store, {
      id: "p",
      children: [{ id: "later", opts: { delay: HOUR } }, { id: "now" }],
    });
    await assertState(store, "later", "delayed");
    await complete(store, "now");
    await assertState(store, "p", "waiting-children");
    await store.promoteDelayedJobs(Q, Date.now() + 2 * HOUR);
    await complete(store, "later");
    await assertState(store, "p", "waiting");
  },

  "saveFlow of a root whose id is held saves nothing and reports duplicates": async (store) => {
    await add(store, "root");
    const records = await flowRecords({
      id: "root",
      children: [{ id: "c1" }, { id: "c2", queue: Q2 }],
    });
    const results = await store.saveFlow(records);
    assert.equal(results.length, records.length);
    assert.ok(results.every((r) => r.duplicate), JSON.stringify(results));
    assert.equal(results[records.findIndex((r) => r.id === "root")].id, "root");
    await assertGone(store, "c1");
    await assertGone(store, "c2", Q2);
    const root = await assertState(store, "root", "waiting");
    assert.equal(root.pendingChildrenCount, 0);
  },

  "saveFlow of a root whose deduplication key is held reports the holder": async (store) => {
    await add(store, "holder", { deduplication: { id: "report-42" } });
    const records = await flowRecords({
      id: "root",
      opts: { deduplication: { id: "report-42" } },
      children: [{ id: "c1" }],
    });
    const results = await store.saveFlow(records);
    assert.ok(results.every((r) => r.duplicate), JSON.stringify(results));
    assert.equal(results[records.findIndex((r) => r.id === "root")].id, "holder");
    await assertGone(store, "root");
    await assertGone(store, "c1");
    assert.equal(await store.countJobs(Q), 1);
  },

  "saveFlow accepts a root that names an existing parent outside the list": async (store) => {
    await store.saveJob(Q2, {
      ...(await flowRecords({ id: "outer" }))[0],
      pendingChildrenCount: 1,
    });
    const records = await flowRecords({ id: "sub", children: [{ id: "leaf" }] });
    const root = records.find((r) => r.id === "sub")!;
    root.parentId = "outer";
    root.parentQueueName = Q2;
    const results = await store.saveFlow(records);
    assert.ok(results.every((r) => !r.duplicate));
    const sub = await assertState(store, "sub", "waiting-children");
    assert.equal(sub.parentId, "outer");
    assert.equal(sub.parentQueueName, Q2);
    await assertState(store, "leaf", "waiting");
  },

  "completing a child whose parent was removed still succeeds": async (store) => {
    await saveTree(store, { id: "p", children: [{ id: "c" }] });
    const child = await claim(store);
    assert.equal(await store.removeJob(Q, "p"), true);
    assert.equal(await store.completeJob(Q, "c", token(child), "ok"), true);
    await assertState(store, "c", "completed");
    await assertGone(store, "p");
  },
});
