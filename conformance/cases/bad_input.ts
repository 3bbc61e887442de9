import assert from "node:assert/strict";
import type { FlowJobRecord, StoreInterface } from "@conveyor/shared";
import type { ConformanceCase } from "../case.ts";
import {
  add,
  assertState,
  claim,
  countAll,
  defineCases,
  flowRecords,
  get,
  newJob,
  Q,
  Q2,
  Q3,
  rejectsWithCode,
  token,
} from "../_helpers.ts";

/** The async methods of the contract other than connect/disconnect. */
type AsyncMethod = Exclude<
  keyof StoreInterface,
  "contractVersion" | "connect" | "disconnect" | "subscribe" | "unsubscribe"
>;

/** Assert saveFlow rejects with FlowError and that no queue gained a job. */
async function assertFlowRefused(
  store: StoreInterface,
  records: FlowJobRecord[],
  jobsBefore = 0,
): Promise<void> {
  await rejectsWithCode(() => store.saveFlow(records), "FLOW_INVALID", "saveFlow");
  assert.equal(await countAll(store), jobsBefore, "saveFlow saved nothing");
}

/** Payloads that cannot round-trip through JSON (DESIGN guarantee 8). */
function notJson(): [string, unknown][] {
  const cycle: Record<string, unknown> = { name: "loop" };
  cycle.self = cycle;
  return [
    ["a BigInt", { amount: 10n }],
    ["a function", { callback: () => 1 }],
    ["a cycle", cycle],
  ];
}

/**
 * Every kind of payload `assertJsonValue` refuses, as core's add relies on the store to refuse
 * it (the payload itself, not a field of one, may be `undefined` here).
 */
function allNotJson(): [string, unknown][] {
  class Point {
    x = 1;
  }
  return [
    ...notJson(),
    ["NaN", { n: NaN }],
    ["Infinity", [1, Infinity]],
    ["undefined as the payload", undefined],
    ["undefined in an array", [undefined]],
    ["a symbol", { s: Symbol("s") }],
    ["a Date", { at: new Date(0) }],
    ["a Map", new Map()],
    ["a class instance", { p: new Point() }],
    ["a deep bad value", { a: [{ b: { c: () => 1 } }] }],
  ];
}

/** What stores must refuse: wrong states, invalid flows, and use after disconnect. */
export const badInputCases: ConformanceCase[] = defineCases("bad-input", {
  "removeJob of an active job throws InvalidJobStateError and keeps the job": async (store) => {
    await add(store, "a");
    const job = await claim(store);
    await rejectsWithCode(() => store.removeJob(Q, "a"), "INVALID_JOB_STATE", "removeJob");
    const stored = await assertState(store, "a", "active");
    assert.equal(stored.lockToken, job.lockToken);
    assert.equal(await store.completeJob(Q, "a", token(job), null), true);
  },

  "saveFlow with an id twice in the list rejects with FlowError and saves nothing": async (
    store,
  ) => {
    const records = await flowRecords({
      id: "p",
      children: [{ id: "c1" }, { id: "c2", queue: Q2 }, { id: "c3" }],
    });
    const twin = records.find((r) => r.id === "c3")!;
    twin.id = "c1";
    twin.opts = { ...twin.opts, jobId: "c1" };
    await assertFlowRefused(store, records);
  },

  "saveFlow with a duplicate id deep in a large tree saves nothing": async (store) => {
    const records = await flowRecords({
      id: "root",
      queue: Q3,
      children: Array.from({ length: 10 }, (_, i) => ({
        id: `mid${i}`,
        queue: i % 2 ? Q2 : Q,
        children: [{ id: `leaf${i}-a` }, { id: `leaf${i}-b`, queue: Q2 }],
      })),
    });
    const last = records.findLast((r) => r.id.startsWith("leaf9"))!;
    last.id = "leaf0-a";
    last.queueName = Q;
    await assertFlowRefused(store, records);
  },

  "saveFlow with a wrong pendingChildrenCount rejects with FlowError and saves nothing": async (
    store,
  ) => {
    const tooMany = await flowRecords({ id: "p", children: [{ id: "c1" }, { id: "c2" }] });
    tooMany.find((r) => r.id === "p")!.pendingChildrenCount = 3;
    await assertFlowRefused(store, tooMany);
    const leafWithCount = await flowRecords({ id: "p", children: [{ id: "c1" }] });
    leafWithCount.find((r) => r.id === "c1")!.pendingChildrenCount = 1;
    await assertFlowRefused(store, leafWithCount);
    const tooFew = await flowRecords({ id: "p", children: [{ id: "c1" }, { id: "c2" }] });
    tooFew.find((r) => r.id === "p")!.pendingChildrenCount = 1;
    await assertFlowRefused(store, tooFew);
  },

  "saveFlow with a child whose parent is missing rejects with FlowError and saves nothing": async (
    store,
  ) => {
    const records = await flowRecords({ id: "p", children: [{ id: "c1" }, { id: "c2" }] });
    const orphan = records.find((r) => r.id === "c2")!;
    orphan.parentId = "nobody";
    records.find((r) => r.id === "p")!.pendingChildrenCount = 1;
    await assertFlowRefused(store, records);
  },

  "saveFlow whose root names a parent that does not exist rejects with FlowError": async (
    store,
  ) => {
    const records = await flowRecords({ id: "sub", children: [{ id: "leaf" }] });
    const root = records.find((r) => r.id === "sub")!;
    root.parentId = "ghost";
    root.parentQueueName = Q2;
    await assertFlowRefused(store, records);
  },

  "saveFlow with a child whose id is held rejects with FlowError and saves nothing": async (
    store,
  ) => {
    await add(store, "c2", {}, Q2);
    const records = await flowRecords({
      id: "p",
      children: [{ id: "c1" }, { id: "c2", queue: Q2 }],
    });
    await assertFlowRefused(store, records, 1);
    const existing = await get(store, "c2", Q2);
    assert.equal(existing.parentId, null, "the existing job is untouched");
  },

  "saveFlow with a child whose deduplication key is held rejects with FlowError": async (store) => {
    await add(store, "holder", { deduplication: { id: "k" } });
    const records = await flowRecords({
      id: "p",
      children: [{ id: "c1" }, { id: "c2", opts: { deduplication: { id: "k" } } }],
    });
    await assertFlowRefused(store, records, 1);
    assert.equal((await store.findByDeduplicationKey(Q, "k"))?.id, "holder");
  },

  "saveJob refuses a payload that is not JSON with a TypeError and saves nothing": async (
    store,
  ) => {
    for (const [what, data] of allNotJson()) {
      const job = { ...(await newJob("bad")), data };
      await assert.rejects(() => store.saveJob(Q, job), TypeError, `payload with ${what}`);
    }
    assert.equal(await store.countJobs(Q), 0);
    assert.equal(await store.getJob(Q, "bad"), null);
  },

  "saveBulk refuses a batch holding a payload that is not JSON and saves none of it": async (
    store,
  ) => {
    const good = await newJob("good");
    const bad = { ...(await newJob("bad")), data: { n: 1n } };
    await assert.rejects(() => store.saveBulk(Q, [good, bad]), TypeError);
    assert.equal(await store.countJobs(Q), 0);
  },

  "updateJob refuses a payload that is not JSON and changes nothing": async (store) => {
    await add(store, "a");
    for (const [what, data] of notJson()) {
      await assert.rejects(
        () => store.updateJob(Q, "a", { data }),
        TypeError,
        `payload with ${what}`,
      );
    }
    assert.deepEqual((await get(store, "a")).data, { id: "a" });
  },

  "fetchNextJobs refuses bad fetch options with a TypeError or RangeError and claims nothing":
    async (store) => {
      await add(store, "a");
      const bad: [string, unknown, typeof TypeError | typeof RangeError][] = [
        ["options that are not an object", "fast", TypeError],
        ["a groupConcurrency below 1", { groupConcurrency: 0 }, RangeError],
        ["a maxGlobalConcurrency that is not an integer", { maxGlobalConcurrency: 1.5 }, TypeError],
        ["a rateLimit without max", { rateLimit: { duration: 1000 } }, TypeError],
        ["a handoff that is not a boolean", { handoff: "yes" }, TypeError],
      ];
      for (const [what, opts, type] of bad) {
        await assert.rejects(
          () => Promise.resolve().then(() => store.fetchNextJobs(Q, "w1", 1000, 1, opts as never)),
          type,
          what,
        );
      }
      await assertState(store, "a", "waiting");
    },

  "extendLock and releaseLock of a job that is not active return false": async (store) => {
    await add(store, "a");
    assert.equal(await store.extendLock(Q, "a", "no-lease", 1000), false);
    assert.equal(await store.releaseLock(Q, "a", "no-lease"), false);
    await assertState(store, "a", "waiting");
  },

  "fenced operations on an unknown job return false": async (store) => {
    assert.equal(await store.completeJob(Q, "missing", "t", null), false);
    assert.equal(
      await store.failJob(Q, "missing", "t", { failedReason: "x", retryDelay: 0 }),
      false,
    );
    assert.equal(await store.extendLock(Q, "missing", "t", 1000), false);
    assert.equal(await store.releaseLock(Q, "missing", "t"), false);
    assert.equal(await store.countJobs(Q), 0);
  },

  "every method rejects with StoreClosedError after disconnect": async (store) => {
    const job = await newJob("a");
    const flow = await flowRecords({ id: "p", children: [{ id: "c" }] });
    await store.disconnect();
    const calls: Record<AsyncMethod, () => Promise<unknown>> = {
      saveJob: () => store.saveJob(Q, job),
      saveBulk: () => store.saveBulk(Q, [job]),
      getJob: () => store.getJob(Q, "a"),
      updateJob: () => store.updateJob(Q, "a", { progress: 1 }),
      removeJob: () => store.removeJob(Q, "a"),
      fetchNextJob: () => store.fetchNextJob(Q, "w1", 1000),
      fetchNextJobs: () => store.fetchNextJobs(Q, "w1", 1000, 2),
      extendLock: () => store.extendLock(Q, "a", "t", 1000),
      releaseLock: () => store.releaseLock(Q, "a", "t"),
      completeJob: () => store.completeJob(Q, "a", "t", null),
      failJob: () => store.failJob(Q, "a", "t", { failedReason: "x", retryDelay: null }),
      addLog: () => store.addLog(Q, "a", "line"),
      listJobs: () => store.listJobs(Q),
      countJobs: () => store.countJobs(Q),
      getActiveCount: () => store.getActiveCount(Q),
      getNextDelayedTimestamp: () => store.getNextDelayedTimestamp(Q),
      promoteDelayedJobs: () => store.promoteDelayedJobs(Q),
      pauseJobName: () => store.pauseJobName(Q, "send"),
      resumeJobName: () => store.resumeJobName(Q, "send"),
      getPausedJobNames: () => store.getPausedJobNames(Q),
      getStalledJobs: () => store.getStalledJobs(Q),
      recoverStalledJobs: () => store.recoverStalledJobs(Q, 1),
      clean: () => store.clean(Q, "completed", 0),
      drain: () => store.drain(Q),
      publish: () => store.publish({ type: "drained", queueName: Q }),
      saveFlow: () => store.saveFlow(flow),
      notifyChildCompleted: () => store.notifyChildCompleted(Q, "p", "c"),
      failParentOnChildFailure: () => store.failParentOnChildFailure(Q, "p", "c", "x"),
      getChildrenJobs: () => store.getChildrenJobs(Q, "p"),
      findByDeduplicationKey: () => store.findByDeduplicationKey(Q, "k"),
      getGroupActiveCount: () => store.getGroupActiveCount(Q, "g"),
      getWaitingGroupCount: () => store.getWaitingGroupCount(Q, "g"),
    };
    for (const [method, call] of Object.entries(calls)) {
      await rejectsWithCode(call, "STORE_CLOSED", method);
    }
  },
});
