// graphile-worker on PostgreSQL, configured as its performance page's benchmark is: 24 concurrent
// jobs on a pool of 25, a local queue of 500 (jobs fetched and locked in batches) and batched
// completion/failure (completeJobBatchDelay and failJobBatchDelay at 0). It has no flows.
import { Logger, makeWorkerUtils, run } from "graphile-worker";
import { main, PG_URL, runName } from "../lib/child.ts";
import { countPool, countRows, dropSchema, versions } from "./_common.mjs";

const TASK = "bench";
const quiet = new Logger(() => (level, message) => {
  if (level === "error") console.error("graphile-worker:", message);
});

await main((o) => {
  const schema = runName(o);
  const worker = {
    concurrentJobs: 24,
    maxPoolSize: 25,
    localQueue: { size: 500 },
    completeJobBatchDelay: 0,
    failJobBatchDelay: 0,
  };
  const settings = { ...worker, pollInterval: 2000 };
  let utils;
  let runner;
  let pool;
  return {
    settings,
    async open(fresh) {
      if (fresh) await dropSchema(schema);
      utils = await makeWorkerUtils({ connectionString: PG_URL, schema, logger: quiet });
      if (fresh) await utils.migrate();
      pool = countPool();
    },
    async add(data) {
      await utils.addJob(TASK, data);
    },
    async addBulk(items) {
      await utils.addJobs(items.map((payload) => ({ identifier: TASK, payload })));
    },
    async startWorker(handler) {
      runner = await run({
        connectionString: PG_URL,
        schema,
        logger: quiet,
        noHandleSignals: true,
        taskList: { [TASK]: (payload) => handler(payload) },
        preset: { worker: { ...worker, connectionString: PG_URL, schema, logger: quiet } },
      });
    },
    async stopWorker() {
      await runner?.stop();
      runner = undefined;
    },
    remaining() {
      return countRows(pool, `select count(*)::int as n from ${schema}._private_jobs`);
    },
    async close(drop) {
      await runner?.stop();
      await utils.release();
      await pool.end();
      if (drop) await dropSchema(schema);
    },
  };
}, versions("graphile-worker"));
