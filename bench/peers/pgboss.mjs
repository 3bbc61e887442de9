// pg-boss on PostgreSQL, with its documented fast settings: batch fetch (batchSize) with burst
// re-fetch while batches come back full, and LISTEN/NOTIFY wake-up for idle workers.
import { PgBoss } from "pg-boss";
import { main, PG_URL, runName } from "../lib/child.ts";
import { countPool, countRows, dropSchema, versions } from "./_common.mjs";

const QUEUE = "bench";

await main((o) => {
  const schema = runName(o);
  const batchSize = o.concurrency;
  const settings = {
    batchSize,
    burstWhenBatchFull: true,
    useListenNotify: true,
    "queue.notify": true,
    pollingIntervalSeconds: 0.5,
    notifyPollingIntervalSeconds: 0.5,
    localConcurrency: 1,
    max: 10,
  };
  let boss;
  let pool;
  return {
    settings,
    async open(fresh) {
      if (fresh) await dropSchema(schema);
      boss = new PgBoss({ connectionString: PG_URL, schema, useListenNotify: true, max: 10 });
      boss.on("error", (err) => console.error("pg-boss error:", err.message));
      await boss.start();
      if (fresh) await boss.createQueue(QUEUE, { notify: true });
      pool = countPool();
    },
    async add(data) {
      await boss.send(QUEUE, data);
    },
    async addBulk(items) {
      await boss.insert(QUEUE, items.map((data) => ({ data })));
    },
    async addFlow(parent, children) {
      const refs = children.map((_, k) => `c${k}`);
      await boss.flow([
        ...children.map((data, k) => ({ ref: refs[k], name: QUEUE, data })),
        { ref: "p", name: QUEUE, data: parent, dependsOn: refs },
      ]);
    },
    async startWorker(handler) {
      const options = {
        batchSize,
        burstWhenBatchFull: true,
        pollingIntervalSeconds: 0.5,
        notifyPollingIntervalSeconds: 0.5,
        localConcurrency: 1,
      };
      await boss.work(QUEUE, options, async (jobs) => {
        await Promise.all(jobs.map((job) => handler(job.data)));
      });
    },
    async stopWorker() {
      await boss.offWork(QUEUE, { wait: true });
    },
    remaining() {
      const q =
        `select count(*)::int as n from ${schema}.job where name = $1 and state <> 'completed'`;
      return countRows(pool, q, [QUEUE]);
    },
    async close(drop) {
      await boss.stop({ graceful: false, close: true, timeout: 5000 });
      await pool.end();
      if (drop) await dropSchema(schema);
    },
  };
}, versions("pg-boss"));
