// BullMQ on Redis (backend=redis, the default) or on its bundled PostgreSQL backend
// (backend=pg, createPostgresBackend with the pg driver). Documented settings: worker
// concurrency, and for PostgreSQL a pool sized for it; everything else is BullMQ's default.
import { createPostgresBackend, FlowProducer, Queue, runMigrations, Worker } from "bullmq";
import pg from "pg";
import { main, PG_URL, REDIS_URL, runName } from "../lib/child.ts";
import { dropSchema, versions } from "./_common.mjs";

const QUEUE = "bench";
const JOB = "noop";
const PENDING = ["wait", "active", "delayed", "prioritized", "waiting-children", "paused"];

function redisBackend(name) {
  const url = new URL(REDIS_URL);
  const connection = { host: url.hostname, port: Number(url.port || 6379) };
  return {
    opts: { connection, prefix: name },
    factory: undefined,
    settings: { backend: "redis (ioredis)" },
    async prepare() {},
    empty: (queue) => queue.obliterate({ force: true }),
    dropBeforeClose: (queue) => queue.obliterate({ force: true }),
    async dropAfterClose() {},
  };
}

function pgBackend(name, poolMax) {
  return {
    opts: { connection: { connectionString: PG_URL, schema: name, max: poolMax } },
    factory: createPostgresBackend,
    settings: { backend: "postgres (pg)", "pool max": poolMax },
    async prepare() {
      await dropSchema(name);
      const client = new pg.Client({ connectionString: PG_URL });
      await client.connect();
      try {
        await runMigrations(client, name);
      } finally {
        await client.end();
      }
    },
    async empty() {},
    async dropBeforeClose() {},
    dropAfterClose: () => dropSchema(name),
  };
}

await main((o) => {
  const name = runName(o);
  const backend = o.rest.backend === "pg" ? pgBackend(name, 20) : redisBackend(name);
  const make = (Class, ...args) =>
    backend.factory ? new Class(...args, backend.factory) : new Class(...args);
  let queue;
  let flows;
  let worker;
  return {
    settings: { ...backend.settings, concurrency: o.concurrency },
    async open(fresh) {
      if (fresh) await backend.prepare();
      queue = make(Queue, QUEUE, backend.opts);
      await queue.waitUntilReady();
      if (fresh) await backend.empty(queue);
    },
    async add(data) {
      await queue.add(JOB, data);
    },
    async addBulk(items) {
      await queue.addBulk(items.map((data) => ({ name: JOB, data })));
    },
    async addFlow(parent, children) {
      flows ??= make(FlowProducer, backend.opts);
      await flows.add({
        name: JOB,
        queueName: QUEUE,
        data: parent,
        children: children.map((data) => ({ name: JOB, queueName: QUEUE, data })),
      });
    },
    async startWorker(handler, concurrency) {
      worker = make(Worker, QUEUE, (job) => handler(job.data), { ...backend.opts, concurrency });
      worker.on("error", (err) => console.error("bullmq worker error:", err.message));
      await worker.waitUntilReady();
    },
    async stopWorker() {
      await worker?.close();
      worker = undefined;
    },
    async remaining() {
      const counts = await queue.getJobCounts(...PENDING);
      return Object.values(counts).reduce((a, b) => a + b, 0);
    },
    async close(drop) {
      await worker?.close();
      await flows?.close();
      if (drop) await backend.dropBeforeClose(queue);
      await queue.close();
      if (drop) await backend.dropAfterClose();
    },
  };
}, versions("bullmq", "ioredis", "pg"));
