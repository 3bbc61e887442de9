import assert from "node:assert/strict";
import { FlowError, type FlowJobRecord, type StoredJobOptions } from "@conveyor/shared";
import { MemoryStore } from "./mod.ts";
import { collect, flushEvents, storeWithClock } from "./_test_util.ts";

function rec(
  queueName: string,
  id: string,
  parent: [string, string] | null,
  pendingChildrenCount = 0,
  opts: StoredJobOptions = {},
): FlowJobRecord {
  return {
    queueName,
    id,
    name: id,
    data: { id },
    opts,
    parentQueueName: parent?.[0] ?? null,
    parentId: parent?.[1] ?? null,
    pendingChildrenCount,
  };
}

/** root(ops) ← build(ops) ← compile(ops), lint(ops); root ← test(ci). */
function tree(rootOpts: StoredJobOptions = {}, buildOpts: StoredJobOptions = {}): FlowJobRecord[] {
  return [
    rec("ops", "compile", ["ops", "build"]),
    rec("ops", "lint", ["ops", "build"]),
    rec("ops", "build", ["ops", "root"], 2, buildOpts),
    rec("ci", "test", ["ops", "root"]),
    rec("ops", "root", null, 2, rootOpts),
  ];
}

async function finish(store: MemoryStore, queue: string, id: string, fail = false) {
  const job = await store.fetchNextJob(queue, "w", 1000);
  assert.equal(job?.id, id, `expected to claim ${id}`);
  if (fail) {
    return store.failJob(queue, id, job!.lockToken!, { failedReason: "bad", retryDelay: null });
  }
  return store.completeJob(queue, id, job!.lockToken!, { from: id });
}

async function state(store: MemoryStore, queue: string, id: string) {
  return (await store.getJob(queue, id))?.state ?? "gone";
}

Deno.test("MemoryStore saveFlow saves a tree across queues and releases parents level by level", async () => {
  const store = new MemoryStore();
  const events = collect(store, "ops");
  const results = await store.saveFlow(tree());
  assert.deepEqual(results.map((r) => r.id), ["compile", "lint", "build", "test", "root"]);
  assert.ok(results.every((r) => !r.duplicate));
  assert.equal(await state(store, "ops", "root"), "waiting-children");
  assert.equal(await state(store, "ops", "build"), "waiting-children");
  assert.equal(await state(store, "ci", "test"), "waiting");
  assert.deepEqual(
    (await store.getChildrenJobs("ops", "root")).map((j) => [j.queueName, j.id]),
    [["ops", "build"], ["ci", "test"]],
  );
  await finish(store, "ops", "compile");
  await finish(store, "ops", "lint");
  assert.equal(await state(store, "ops", "build"), "waiting");
  await finish(store, "ops", "build");
  assert.equal((await store.getJob("ops", "root"))?.pendingChildrenCount, 1);
  await finish(store, "ci", "test");
  assert.equal(await state(store, "ops", "root"), "waiting");
  assert.deepEqual(
    (await store.getChildrenJobs("ops", "root")).map((j) => j.returnValue),
    [{ from: "build" }, { from: "test" }],
  );
  await flushEvents();
  assert.ok(events.some((e) => e.type === "waiting-children"));
  assert.ok(events.some((e) => e.type === "waiting" && e.jobId === "root"));
});

Deno.test("MemoryStore saveFlow rejects a bad tree with FlowError and saves nothing", async () => {
  const store = new MemoryStore();
  const bad: FlowJobRecord[][] = [
    [...tree(), rec("ops", "lint", ["ops", "build"])],
    tree().map((r) => r.id === "build" ? { ...r, pendingChildrenCount: 3 } : r),
    tree().filter((r) => r.id !== "build"),
    [rec("ops", "a", ["ops", "b"], 1), rec("ops", "b", ["ops", "a"], 1)],
    [rec("ops", "root", ["ops", "nowhere"])],
  ];
  for (const records of bad) {
    await assert.rejects(store.saveFlow(records), FlowError);
    assert.equal(await store.countJobs("ops"), 0);
    assert.equal(await store.countJobs("ci"), 0);
  }
  await store.saveJob("ci", { id: "test", name: "t", data: null, opts: {} });
  await assert.rejects(store.saveFlow(tree()), /already exists/);
  assert.equal(await store.countJobs("ops"), 0);
});

Deno.test("MemoryStore saveFlow reports every job as a duplicate when the root is held", async () => {
  const store = new MemoryStore();
  await store.saveFlow(tree());
  const again = await store.saveFlow(tree());
  assert.deepEqual(again, [
    { id: "compile", duplicate: true },
    { id: "lint", duplicate: true },
    { id: "build", duplicate: true },
    { id: "test", duplicate: true },
    { id: "root", duplicate: true },
  ]);
  assert.equal(await store.countJobs("ops"), 4);
});

Deno.test("MemoryStore notifyChildCompleted counts each child once", async () => {
  const store = new MemoryStore();
  await store.saveJob("p", {
    id: "parent",
    name: "p",
    data: null,
    opts: {},
    pendingChildrenCount: 2,
  });
  assert.equal(await store.notifyChildCompleted("p", "parent", "c1"), false);
  assert.equal(await store.notifyChildCompleted("p", "parent", "c1"), false);
  assert.equal((await store.getJob("p", "parent"))?.pendingChildrenCount, 1);
  assert.equal(await store.notifyChildCompleted("p", "parent", "c2"), true);
  assert.equal(await state(store, "p", "parent"), "waiting");
  assert.equal(await store.notifyChildCompleted("p", "parent", "c3"), false);
  assert.equal(await store.notifyChildCompleted("p", "missing", "c1"), false);
});

Deno.test("MemoryStore completeJob after a repeated notification does not double-count", async () => {
  const store = new MemoryStore();
  await store.saveFlow(tree());
  await store.notifyChildCompleted("ops", "build", "compile");
  await finish(store, "ops", "compile");
  assert.equal((await store.getJob("ops", "build"))?.pendingChildrenCount, 1);
  assert.equal(await state(store, "ops", "build"), "waiting-children");
});

Deno.test("MemoryStore fails parents up the tree under the fail policy", async () => {
  const store = new MemoryStore();
  await store.saveFlow(tree());
  await finish(store, "ops", "compile", true);
  const build = await store.getJob("ops", "build");
  assert.equal(build?.state, "failed");
  assert.match(build?.failedReason ?? "", /compile/);
  assert.equal(await state(store, "ops", "root"), "failed");
  // The other children go on; their completion no longer touches the failed parents.
  await finish(store, "ops", "lint");
  assert.equal(await state(store, "ops", "build"), "failed");
});

Deno.test("MemoryStore ignore policy lets the parent proceed without the failed child", async () => {
  const store = new MemoryStore();
  await store.saveFlow(tree({}, { failParentOnChildFailure: "ignore" }));
  await finish(store, "ops", "compile", true);
  assert.equal(await state(store, "ops", "build"), "waiting-children");
  await finish(store, "ops", "lint");
  assert.equal(await state(store, "ops", "build"), "waiting");
});

Deno.test("MemoryStore remove policy removes the parent, which counts as failed for its parent", async () => {
  const store = new MemoryStore();
  await store.saveFlow(tree({ failParentOnChildFailure: "ignore" }, {
    failParentOnChildFailure: "remove",
  }));
  await finish(store, "ops", "compile", true);
  assert.equal(await state(store, "ops", "build"), "gone");
  assert.equal(await state(store, "ops", "lint"), "gone", "unfinished descendants go too");
  assert.equal((await store.getJob("ops", "root"))?.pendingChildrenCount, 1);
  await finish(store, "ci", "test");
  assert.equal(await state(store, "ops", "root"), "waiting");
});

Deno.test("MemoryStore failParentOnChildFailure applies a policy once per child", async () => {
  const store = new MemoryStore();
  await store.saveJob("p", {
    id: "parent",
    name: "p",
    data: null,
    opts: { failParentOnChildFailure: "ignore" },
    pendingChildrenCount: 2,
  });
  await store.failParentOnChildFailure("p", "parent", "c1", "x");
  await store.failParentOnChildFailure("p", "parent", "c1", "x");
  assert.equal((await store.getJob("p", "parent"))?.pendingChildrenCount, 1);
  await store.failParentOnChildFailure("p", "parent", "c2", "x");
  assert.equal(await state(store, "p", "parent"), "waiting");
});

Deno.test("MemoryStore removeJob of a parent removes its unfinished, non-active descendants", async () => {
  const store = new MemoryStore();
  await store.saveFlow(tree());
  const compile = await store.fetchNextJob("ops", "w", 1000);
  assert.equal(compile?.id, "compile");
  assert.equal(await store.removeJob("ops", "root"), true);
  assert.equal(await state(store, "ops", "build"), "gone");
  assert.equal(await state(store, "ops", "lint"), "gone");
  assert.equal(await state(store, "ci", "test"), "gone");
  assert.equal(await state(store, "ops", "compile"), "active");
  assert.equal(await store.completeJob("ops", "compile", compile!.lockToken!, null), true);
});

Deno.test("MemoryStore removeJob of a pending child counts it as done for its parent", async () => {
  const store = new MemoryStore();
  await store.saveFlow(tree());
  await store.removeJob("ops", "compile");
  await store.removeJob("ops", "lint");
  assert.equal(await state(store, "ops", "build"), "waiting");
});

Deno.test("MemoryStore applies the parent policy when a stalled child fails for good", async () => {
  const { store, clock } = storeWithClock(0);
  await store.saveFlow(tree());
  await store.fetchNextJob("ops", "w", 10);
  clock.now = 100;
  assert.deepEqual(await store.recoverStalledJobs("ops", 0), {
    recovered: [],
    failed: ["compile"],
  });
  assert.equal(await state(store, "ops", "build"), "failed");
  assert.equal(await state(store, "ops", "root"), "failed");
});

Deno.test("MemoryStore delays a released parent that has a delay option", async () => {
  const { store, clock } = storeWithClock(0);
  await store.saveFlow([rec("q", "c", ["q", "p"]), rec("q", "p", null, 1, { delay: 500 })]);
  assert.equal(await state(store, "q", "p"), "waiting-children");
  clock.now = 100;
  await finish(store, "q", "c");
  const parent = await store.getJob("q", "p");
  assert.equal(parent?.state, "delayed");
  assert.equal(parent?.delayUntil, 600);
});

Deno.test("MemoryStore saveFlow attaches a root to an existing parent outside the flow", async () => {
  const store = new MemoryStore();
  await store.saveFlow([rec("q", "c1", ["q", "p"]), rec("q", "p", null, 1)]);
  await store.saveFlow([rec("q", "c2", ["q", "p"])]);
  assert.equal((await store.getJob("q", "p"))?.pendingChildrenCount, 2);
  await finish(store, "q", "c1");
  assert.equal(await state(store, "q", "p"), "waiting-children");
  await finish(store, "q", "c2");
  assert.equal(await state(store, "q", "p"), "waiting");
});
