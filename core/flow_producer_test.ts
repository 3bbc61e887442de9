import assert from "node:assert/strict";
import { FlowError, type StoreEvent } from "@conveyor/shared";
import { deferred, newStore, withOverrides } from "./_test_util.ts";
import { FlowProducer } from "./flow_producer.ts";
import type { Job } from "./job.ts";
import { Queue } from "./queue.ts";
import { Worker } from "./worker.ts";

const reportFlow = {
  name: "assemble-report",
  queueName: "reports",
  data: { reportId: 42 },
  children: [
    { name: "fetch-sales", queueName: "reports", data: { source: "sales" } },
    { name: "fetch-inventory", queueName: "reports", data: { source: "inv" } },
  ],
};

Deno.test("FlowProducer.add saves a tree with parents waiting for their children", async () => {
  const store = await newStore();
  const flow = new FlowProducer({ store });
  const result = await flow.add(reportFlow);
  assert.equal(result.job.name, "assemble-report");
  assert.equal(result.job.state, "waiting-children");
  assert.equal(result.job.pendingChildrenCount, 2);
  assert.equal(result.children?.length, 2);
  const [sales, inventory] = result.children!;
  assert.equal(sales.job.name, "fetch-sales");
  assert.equal(sales.job.state, "waiting");
  assert.equal(sales.job.parentId, result.job.id);
  assert.equal(inventory.job.parentQueueName, "reports");
  assert.equal(sales.children, undefined);
  const parent = await store.getJob("reports", result.job.id);
  assert.equal(parent?.state, "waiting-children");
  assert.equal(parent?.pendingChildrenCount, 2);
  assert.equal(await store.countJobs("reports"), 3);
  await store.disconnect();
});

Deno.test("FlowProducer.add validates the whole tree before saving anything", async () => {
  const store = await newStore();
  const flow = new FlowProducer({ store });
  const leaf = (name: string, opts = {}) => ({ name, queueName: "q", data: null, opts });
  await assert.rejects(
    () =>
      flow.add({ ...leaf("root"), children: [leaf("a"), { ...leaf("b"), children: [leaf("")] }] }),
    {
      name: "RangeError",
      message: "Cannot add flow: flow.children[1].children[0]: job name must not be empty",
    },
  );
  await assert.rejects(
    () =>
      flow.add({
        ...leaf("root"),
        children: [leaf("a", { jobId: "same" }), leaf("b", { jobId: "same" })],
      }),
    (error) => {
      assert.ok(error instanceof FlowError);
      assert.match(
        error.message,
        /job id "same" in queue "q" is used by both flow.children\[0\] and flow.children\[1\]/,
      );
      return true;
    },
  );
  await assert.rejects(
    () => flow.add({ ...leaf("root"), children: [leaf("a", { attempts: 0 })] }),
    { name: "RangeError", message: /attempts must be >= 1, got 0/ },
  );
  await assert.rejects(() => flow.add({ ...leaf("root"), children: "x" as never }), {
    name: "TypeError",
    message: /children must be an array/,
  });
  await assert.rejects(() => flow.add({ ...leaf("root"), queueName: "" }), { name: "RangeError" });
  const cyclic: Record<string, unknown> = { ...leaf("root") };
  cyclic.children = [cyclic];
  await assert.rejects(() => flow.add(cyclic as never), FlowError);
  assert.equal(await store.countJobs("q"), 0, "nothing was saved");
  await store.disconnect();
});

Deno.test("FlowProducer.add reports a duplicate root and saves nothing", async () => {
  const store = await newStore();
  const flow = new FlowProducer({ store });
  const tree = { ...reportFlow, opts: { jobId: "report-42" } };
  const first = await flow.add(tree);
  const again = await flow.add(tree);
  assert.equal(first.job.isDuplicate, false);
  assert.equal(again.job.isDuplicate, true);
  assert.equal(again.job.id, "report-42");
  assert.equal(again.children, undefined);
  assert.equal(await store.countJobs("reports"), 3);
  await store.disconnect();
});

Deno.test("Worker runs a flow's children first and the parent reads their values", async () => {
  const store = await newStore();
  const flow = new FlowProducer({ store });
  const order: string[] = [];
  let parentInfo: unknown;
  const worker = new Worker("reports", async (job) => {
    order.push(job.name);
    if (job.name === "fetch-sales") {
      parentInfo = [job.parentId, job.parentQueueName];
      return { sales: 1_000_000 };
    }
    if (job.name === "fetch-inventory") return { sales: 5 };
    const children = await job.getDependencies();
    const values = await job.getChildrenValues<{ sales: number }>();
    return {
      children: children.map((c) => c.name),
      total: values.reduce((s, v) => s + v.sales, 0),
    };
  }, { store, concurrency: 4 });
  const result = await flow.add(reportFlow);
  const report = await result.job.waitUntilFinished();
  assert.deepEqual(report, { children: ["fetch-sales", "fetch-inventory"], total: 1_000_005 });
  assert.equal(order.at(-1), "assemble-report");
  assert.deepEqual(parentInfo, [result.job.id, "reports"]);
  await worker.close();
  await store.disconnect();
});

Deno.test("Worker runs a nested three-level flow level by level", async () => {
  const store = await newStore();
  const flow = new FlowProducer({ store });
  const finished: string[] = [];
  const worker = new Worker("ops", async (job) => {
    await new Promise((r) => setTimeout(r, 1));
    finished.push(job.name);
    return job.name;
  }, { store, concurrency: 10 });
  const result = await flow.add({
    name: "deploy",
    queueName: "ops",
    data: { version: "2.0" },
    children: [
      {
        name: "build",
        queueName: "ops",
        data: { target: "production" },
        children: [
          { name: "compile", queueName: "ops", data: { lang: "ts" } },
          { name: "lint", queueName: "ops", data: { strict: true } },
        ],
      },
      { name: "run-tests", queueName: "ops", data: { suite: "integration" } },
    ],
  });
  assert.equal(result.children![0].job.state, "waiting-children");
  assert.equal(result.children![0].children![0].job.state, "waiting");
  await result.job.waitUntilFinished();
  const at = (name: string) => finished.indexOf(name);
  assert.equal(finished.length, 5);
  assert.ok(at("compile") < at("build") && at("lint") < at("build"));
  assert.ok(at("build") < at("deploy") && at("run-tests") < at("deploy"));
  assert.equal(finished.at(-1), "deploy");
  await worker.close();
  await store.disconnect();
});

Deno.test("Worker runs cross-queue children and releases the parent once", async () => {
  const store = await newStore();
  const flow = new FlowProducer({ store });
  const ran: string[] = [];
  const processor = (job: Job) => {
    ran.push(`${job.queueName}/${job.name}`);
    return job.queueName;
  };
  const workers = ["orders", "payments", "inventory", "emails"].map((q) =>
    new Worker(q, processor, { store })
  );
  const result = await flow.add({
    name: "process-order",
    queueName: "orders",
    data: { orderId: 123 },
    children: [
      { name: "charge-payment", queueName: "payments", data: { amount: 99 } },
      { name: "reserve-stock", queueName: "inventory", data: { sku: "ABC" } },
      { name: "send-confirmation", queueName: "emails", data: { to: "a@example.com" } },
    ],
  });
  await result.job.waitUntilFinished();
  assert.deepEqual(ran.slice(0, 3).sort(), [
    "emails/send-confirmation",
    "inventory/reserve-stock",
    "payments/charge-payment",
  ]);
  assert.deepEqual(ran.slice(3), ["orders/process-order"]);
  assert.deepEqual((await result.job.getChildrenValues()).sort(), [
    "emails",
    "inventory",
    "payments",
  ]);
  await Promise.all(workers.map((w) => w.close()));
  await store.disconnect();
});

async function runPolicy(policy: "fail" | "ignore" | "remove") {
  const store = await newStore();
  const flow = new FlowProducer({ store });
  const ran: string[] = [];
  const worker = new Worker("q", (job) => {
    ran.push(job.name);
    if (job.name === "bad") throw new Error("child broke");
    return job.name;
  }, { store });
  const result = await flow.add({
    name: "parent",
    queueName: "q",
    data: null,
    opts: { failParentOnChildFailure: policy },
    children: [
      { name: "bad", queueName: "q", data: null, opts: { attempts: 2 } },
      { name: "good", queueName: "q", data: null },
    ],
  });
  const outcome = await result.job.waitUntilFinished().then(
    (value) => ({ value }),
    (error) => ({ error: error as Error }),
  );
  const parent = await store.getJob("q", result.job.id);
  await worker.close();
  await store.disconnect();
  return { ran, outcome, parent, result };
}

Deno.test("A flow parent with policy 'fail' fails when a child fails for good", async () => {
  const { ran, outcome, parent } = await runPolicy("fail");
  assert.ok("error" in outcome);
  assert.equal(parent?.state, "failed");
  assert.ok(!ran.includes("parent"));
  assert.equal(ran.filter((n) => n === "bad").length, 2, "the child used its retries first");
});

Deno.test("A flow parent with policy 'ignore' runs when the other children finish", async () => {
  const { ran, outcome, parent } = await runPolicy("ignore");
  assert.deepEqual(outcome, { value: "parent" });
  assert.equal(parent?.state, "completed");
  assert.equal(ran.at(-1), "parent");
});

Deno.test("A flow parent with policy 'remove' is removed when a child fails for good", async () => {
  const { ran, outcome, parent } = await runPolicy("remove");
  assert.ok("error" in outcome);
  assert.equal(parent, null);
  assert.ok(!ran.includes("parent"));
});

Deno.test("A flow child that fails and then succeeds on retry releases its parent", async () => {
  const store = await newStore();
  const flow = new FlowProducer({ store });
  let childRuns = 0;
  const worker = new Worker("q", (job) => {
    if (job.name === "child" && ++childRuns === 1) throw new Error("transient");
    return job.name;
  }, { store });
  const result = await flow.add({
    name: "parent",
    queueName: "q",
    data: null,
    children: [{ name: "child", queueName: "q", data: null, opts: { attempts: 3 } }],
  });
  assert.equal(await result.job.waitUntilFinished(), "parent");
  assert.equal(childRuns, 2);
  await worker.close();
  await store.disconnect();
});

Deno.test("A flow parent is released exactly once when a worker dies between child completion and parent update", async () => {
  const store = await newStore();
  const flow = new FlowProducer({ store });
  const result = await flow.add({
    name: "parent",
    queueName: "q",
    data: null,
    children: [
      { name: "a", queueName: "q", data: null },
      { name: "b", queueName: "q", data: null },
    ],
  });
  const [a, b] = result.children!.map((c) => c.job.id);
  // A worker whose store connection drops right after the completion committed: the worker
  // sees an error, and a repair process replays the parent notification.
  let dropped = false;
  const flaky = withOverrides(store, {
    completeJob: async (...args: Parameters<typeof store.completeJob>) => {
      const ok = await store.completeJob(...args);
      if (args[1] === a && !dropped) {
        dropped = true;
        throw new Error("connection lost after commit");
      }
      return ok;
    },
  });
  const parentWaiting: StoreEvent[] = [];
  store.subscribe("q", (event) => {
    if (event.type === "waiting" && event.jobId === result.job.id) parentWaiting.push(event);
  });
  const parentRuns: string[] = [];
  const errors: string[] = [];
  const gate = deferred();
  const worker = new Worker("q", async (job) => {
    if (job.name === "parent") parentRuns.push(job.id);
    if (job.name === "b") await gate.promise;
  }, { store: flaky, concurrency: 2 });
  worker.events.on("error", (e) => {
    errors.push(e.detail.error.message);
  });
  while ((await store.getJob("q", a))?.state !== "completed") {
    await new Promise((r) => setTimeout(r, 1));
  }
  // Repair replays the notification for a, more than once: it counts once.
  assert.equal(await store.notifyChildCompleted("q", result.job.id, a), false);
  assert.equal(await store.notifyChildCompleted("q", result.job.id, a), false);
  assert.equal((await store.getJob("q", result.job.id))?.pendingChildrenCount, 1);
  gate.resolve();
  await result.job.waitUntilFinished();
  assert.equal(await store.notifyChildCompleted("q", result.job.id, b), false);
  assert.deepEqual(parentRuns, [result.job.id]);
  assert.equal(parentWaiting.length, 1, "the parent became waiting once");
  assert.deepEqual(errors, ["connection lost after commit"]);
  await worker.close();
  await store.disconnect();
});

Deno.test("A flow child re-run after its worker died completes the parent once", async () => {
  let skew = 0;
  const { MemoryStore } = await import("@conveyor/store-memory");
  const store = new MemoryStore({ clock: () => Date.now() + skew });
  await store.connect();
  const flow = new FlowProducer({ store });
  const result = await flow.add({
    name: "parent",
    queueName: "q",
    data: null,
    children: [{ name: "child", queueName: "q", data: null }],
  });
  const childId = result.children![0].job.id;
  // The first worker claims the child, runs it, and dies before reporting completion.
  const [claimed] = await store.fetchNextJobs("q", "dead-worker", 1000, 1);
  assert.equal(claimed.id, childId);
  skew = 5000;
  const runs: string[] = [];
  const worker = new Worker("q", (job) => {
    runs.push(job.name);
    return job.name;
  }, { store, lockDuration: 1000 });
  assert.equal(await result.job.waitUntilFinished(), "parent");
  // The dead worker's late completion is refused: nothing is counted twice.
  assert.equal(await store.completeJob("q", childId, claimed.lockToken!, "late"), false);
  assert.deepEqual(runs, ["child", "parent"]);
  assert.equal((await store.getJob("q", childId))?.returnValue, "child");
  await worker.close();
  await store.disconnect();
});

Deno.test("Queue.events reports waiting-children for a flow parent and waiting when it is released", async () => {
  const store = await newStore();
  const queue = new Queue("reports", { store });
  const flow = new FlowProducer({ store });
  const seen: string[] = [];
  const worker = new Worker("reports", () => "ok", { store, autorun: false });
  let parentId = "";
  queue.events.on("waiting-children", (e) => {
    seen.push(`waiting-children:${e.detail.jobId}`);
  });
  queue.events.on("waiting", (e) => {
    if (e.detail.jobId === parentId) seen.push(`waiting:${e.detail.jobId}`);
  });
  const added = await flow.add(reportFlow);
  parentId = added.job.id;
  worker.run();
  await added.job.waitUntilFinished();
  assert.deepEqual(seen, [`waiting-children:${added.job.id}`, `waiting:${added.job.id}`]);
  await worker.close();
  await queue.close();
  await store.disconnect();
});

Deno.test("FlowProducer honours JobOptions on every node", async () => {
  const store = await newStore();
  const flow = new FlowProducer({ store });
  const result = await flow.add({
    name: "parent",
    queueName: "q",
    data: null,
    opts: { priority: 1, attempts: 4, jobId: "p1" },
    children: [
      { name: "later", queueName: "q", data: null, opts: { delay: "1h" } },
      { name: "first", queueName: "q", data: null, opts: { priority: 0, lifo: true } },
    ],
  });
  assert.equal(result.job.id, "p1");
  assert.equal(result.job.opts.attempts, 4);
  assert.equal(result.children![0].job.state, "delayed");
  assert.equal((await store.getJob("q", result.children![0].job.id))?.state, "delayed");
  assert.equal(result.children![1].job.opts.lifo, true);
  await assert.rejects(() => flow.add({ ...reportFlow, opts: { repeat: {} } as never }), {
    name: "TypeError",
  });
  await flow.close();
  await assert.rejects(() => flow.add(reportFlow), { name: "StoreClosedError" });
  await store.disconnect();
});
