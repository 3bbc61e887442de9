import assert from "node:assert/strict";
import {
  type FlowJobRecord,
  type NewJob,
  type SaveResult,
  supportsTransactions,
  type TransactionalStore,
  type TransactionScope,
} from "@conveyor/shared";
import type { MemoryStore } from "@conveyor/store-memory";
import { newStore, withOverrides } from "./_test_util.ts";
import { FlowProducer } from "./flow_producer.ts";
import { Queue } from "./queue.ts";
import { Worker } from "./worker.ts";

/** A caller's transaction of the fake backend: saves are replayed on the store at commit. */
class FakeTx {
  readonly ops: (() => Promise<unknown>)[] = [];
  /** What the scope was asked to save, for assertions. */
  readonly saved: (NewJob | FlowJobRecord)[] = [];
}

/** Run `fn` in a fake transaction: commit (replay its saves) if it resolves, else roll back. */
async function begin<T>(fn: (tx: FakeTx) => Promise<T>): Promise<T> {
  const tx = new FakeTx();
  const result = await fn(tx); // a throw rolls back: the ops are dropped
  for (const op of tx.ops) await op();
  return result;
}

/**
 * A MemoryStore with the TransactionalStore capability of a fake backend, and counts of what
 * went where.
 */
async function transactionalStore() {
  const memory = await newStore();
  const calls = { withTransaction: 0, storeSaves: 0, scopeGetJob: 0 };
  const scopeOf = (tx: FakeTx): TransactionScope => ({
    async saveJob(queueName: string, job: NewJob): Promise<SaveResult> {
      tx.saved.push(job);
      if (await memory.getJob(queueName, job.id)) return { id: job.id, duplicate: true };
      tx.ops.push(() => memory.saveJob(queueName, job));
      return { id: job.id, duplicate: false };
    },
    saveBulk(queueName: string, jobs: NewJob[]): Promise<SaveResult[]> {
      tx.saved.push(...jobs);
      tx.ops.push(() => memory.saveBulk(queueName, jobs));
      return Promise.resolve(jobs.map((job) => ({ id: job.id, duplicate: false })));
    },
    saveFlow(jobs: FlowJobRecord[]): Promise<SaveResult[]> {
      tx.saved.push(...jobs);
      tx.ops.push(() => memory.saveFlow(jobs));
      return Promise.resolve(jobs.map((job) => ({ id: job.id, duplicate: false })));
    },
    getJob(queueName: string, jobId: string) {
      calls.scopeGetJob++;
      return memory.getJob(queueName, jobId);
    },
  });
  const count = <A extends unknown[], R>(fn: (...args: A) => R) => (...args: A): R => {
    calls.storeSaves++;
    return fn(...args);
  };
  const store = withOverrides(memory as MemoryStore & TransactionalStore, {
    withTransaction(tx: unknown): TransactionScope {
      calls.withTransaction++;
      if (!(tx instanceof FakeTx)) throw new TypeError("withTransaction needs a FakeTx");
      return scopeOf(tx);
    },
    saveJob: count(memory.saveJob.bind(memory)),
    saveBulk: count(memory.saveBulk.bind(memory)),
    saveFlow: count(memory.saveFlow.bind(memory)),
  });
  return { store, memory, calls };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

Deno.test("supportsTransactions tells a store with withTransaction from one without", async () => {
  const { store, memory } = await transactionalStore();
  assert.equal(supportsTransactions(store), true);
  assert.equal(supportsTransactions(memory), false);
  await memory.disconnect();
});

Deno.test("Queue.add with a transaction saves through the scope; the job exists at commit", async () => {
  const { store, memory, calls } = await transactionalStore();
  const queue = new Queue<{ order: number }, string>("emails", { store });
  const worker = new Worker<{ order: number }, string>(
    "emails",
    (job) => `receipt ${job.data.order}`,
    { store, pollInterval: 60_000 }, // only a wake-up can start the job in time
  );
  const waiting: string[] = [];
  queue.events.on("waiting", (e) => {
    if (e.detail.jobId) waiting.push(e.detail.jobId);
  });
  try {
    let saved: NewJob | FlowJobRecord | undefined;
    const job = await begin(async (tx) => {
      const job = await queue.add("receipt", { order: 42 }, {
        jobId: "r42",
        attempts: 2,
        transaction: tx,
      });
      saved = tx.saved[0];
      assert.equal(await memory.getJob("emails", "r42"), null, "not saved before the commit");
      assert.equal(await queue.getJob("r42"), null);
      return job;
    });
    assert.equal(calls.withTransaction, 1);
    assert.equal(calls.storeSaves, 0, "the store's own saveJob was not used");
    assert.deepEqual(saved?.opts, { jobId: "r42", attempts: 2 }, "transaction is not stored");
    assert.equal(job.id, "r42");
    assert.equal(job.state, "waiting");
    assert.equal(job.isDuplicate, false);
    assert.equal("transaction" in job.opts, false);
    assert.equal(await job.waitUntilFinished(1000), "receipt 42", "a worker ran it after commit");
    assert.deepEqual(waiting, ["r42"]);
    assert.deepEqual((await queue.getJob("r42"))?.opts, { jobId: "r42", attempts: 2 });
  } finally {
    await worker.close();
    await queue.close();
    await memory.disconnect();
  }
});

Deno.test("Queue.add with a transaction that rolls back leaves no job and wakes nothing", async () => {
  const { store, memory } = await transactionalStore();
  const queue = new Queue("emails", { store });
  const processed: string[] = [];
  const worker = new Worker("emails", (job) => {
    processed.push(job.id);
  }, { store, pollInterval: 60_000 });
  const events: string[] = [];
  queue.events.on("waiting", () => {
    events.push("waiting");
  });
  queue.events.on("delayed", () => {
    events.push("delayed");
  });
  try {
    await assert.rejects(
      () =>
        begin(async (tx) => {
          await queue.add("receipt", { order: 1 }, { jobId: "gone", transaction: tx });
          await queue.add("later", { order: 1 }, { jobId: "later", delay: 5, transaction: tx });
          throw new Error("payment declined");
        }),
      { message: "payment declined" },
    );
    await sleep(30);
    assert.equal(await memory.countJobs("emails"), 0);
    assert.deepEqual(events, []);
    assert.deepEqual(processed, []);
  } finally {
    await worker.close();
    await queue.close();
    await memory.disconnect();
  }
});

Deno.test("Queue.add with transaction undefined saves at once, without storing the key", async () => {
  const { store, memory, calls } = await transactionalStore();
  const queue = new Queue("q", { store });
  const job = await queue.add("a", null, { priority: 2, transaction: undefined });
  assert.equal(calls.withTransaction, 0);
  assert.equal(calls.storeSaves, 1);
  assert.deepEqual((await memory.getJob("q", job.id))?.opts, { priority: 2 });
  // Without the capability, an undefined transaction is no transaction either.
  const plain = new Queue("q", { store: memory });
  await plain.add("b", null, { transaction: undefined });
  assert.equal(await memory.countJobs("q"), 2);
  await queue.close();
  await plain.close();
  await memory.disconnect();
});

Deno.test("Queue.add with a transaction reports a duplicate, read through the scope", async () => {
  const { store, memory, calls } = await transactionalStore();
  const queue = new Queue("q", { store });
  await queue.add("a", { v: 1 }, { jobId: "same" });
  const again = await begin((tx) => queue.add("a", { v: 2 }, { jobId: "same", transaction: tx }));
  assert.equal(again.isDuplicate, true);
  assert.deepEqual(again.data, { v: 1 });
  assert.equal(calls.scopeGetJob, 1);
  assert.equal(await memory.countJobs("q"), 1);
  await queue.close();
  await memory.disconnect();
});

Deno.test("Queue.addBulk with a transaction saves all jobs at commit only", async () => {
  const { store, memory, calls } = await transactionalStore();
  const queue = new Queue("q", { store });
  const jobs = await begin(async (tx) => {
    const jobs = await queue.addBulk([
      { name: "a", data: 1 },
      { name: "b", data: 2, opts: { priority: 1 } },
    ], { transaction: tx });
    assert.equal(await memory.countJobs("q"), 0);
    return jobs;
  });
  assert.deepEqual(jobs.map((j) => j.name), ["a", "b"]);
  assert.equal(calls.withTransaction, 1);
  assert.equal(calls.storeSaves, 0);
  assert.equal(await memory.countJobs("q", "waiting"), 2);

  await assert.rejects(() =>
    begin(async (tx) => {
      await queue.addBulk([{ name: "c", data: 3 }], { transaction: tx });
      throw new Error("rollback");
    })
  );
  assert.equal(await memory.countJobs("q"), 2);

  await assert.rejects(() => queue.addBulk([], { tx: 1 } as never), {
    name: "TypeError",
    message: 'Cannot add jobs to queue "q": unknown option "tx" (expected one of transaction)',
  });
  await assert.rejects(() => queue.addBulk([], "tx" as never), {
    name: "TypeError",
    message: /options must be an object/,
  });
  await queue.close();
  await memory.disconnect();
});

Deno.test("FlowProducer.add with a transaction saves the tree at commit only", async () => {
  const { store, memory, calls } = await transactionalStore();
  const flow = new FlowProducer({ store });
  const tree = {
    name: "parent",
    queueName: "reports",
    data: null,
    opts: { jobId: "p" },
    children: [{ name: "child", queueName: "reports", data: null, opts: { jobId: "c" } }],
  };
  const result = await begin(async (tx) => {
    const result = await flow.add(tree, { transaction: tx });
    assert.equal(await memory.countJobs("reports"), 0);
    return result;
  });
  assert.equal(calls.withTransaction, 1);
  assert.equal(calls.storeSaves, 0);
  assert.equal(result.job.id, "p");
  assert.equal(result.children?.[0].job.id, "c");
  assert.equal((await memory.getJob("reports", "p"))?.state, "waiting-children");
  assert.equal((await memory.getJob("reports", "c"))?.state, "waiting");

  await assert.rejects(() =>
    begin(async (tx) => {
      await flow.add({ ...tree, opts: { jobId: "p2" }, children: [] }, { transaction: tx });
      throw new Error("rollback");
    })
  );
  assert.equal(await memory.getJob("reports", "p2"), null);

  await assert.rejects(() => flow.add(tree, { transaction: "nope" }), {
    name: "TypeError",
    message: "withTransaction needs a FakeTx",
  });
  await assert.rejects(() => flow.add(tree, { other: 1 } as never), {
    name: "TypeError",
    message: /^Cannot add flow: unknown option "other"/,
  });
  await memory.disconnect();
});

Deno.test("a transaction on a store without the capability is refused naming the store", async () => {
  const store = await newStore();
  const queue = new Queue("q", { store });
  const flow = new FlowProducer({ store });
  const tx = {};
  const expected = (context: string) => ({
    name: "TypeError",
    message: `${context}the transaction option needs a store that can save inside your ` +
      "transaction (a withTransaction(tx) method), and MemoryStore has none",
  });
  await assert.rejects(
    () => queue.add("a", null, { transaction: tx }),
    expected('Cannot add job "a": '),
  );
  await assert.rejects(
    () => queue.addBulk([{ name: "a", data: null }], { transaction: tx }),
    expected('Cannot add jobs to queue "q": '),
  );
  await assert.rejects(
    () => flow.add({ name: "a", queueName: "q", data: null }, { transaction: tx }),
    expected("Cannot add flow: "),
  );
  assert.equal(await store.countJobs("q"), 0, "nothing was saved outside the transaction");
  // defaultJobOptions never carry a transaction.
  assert.throws(
    () => new Queue("q", { store, defaultJobOptions: { transaction: tx } as never }),
    { name: "TypeError", message: /unknown option "transaction"/ },
  );
  await queue.close();
  await store.disconnect();
});
