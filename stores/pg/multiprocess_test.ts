// Four OS processes claim and complete 10,000 jobs with groups and priorities; every job must
// complete exactly once and no group may ever run more jobs at once than its limit.
import assert from "node:assert/strict";
import { createNewJob } from "@conveyor/shared";
import { PgStore } from "./pg_store.ts";
import { admin, dropSchema, freshSchema, PG_URL, pgTest } from "./_test_utils.ts";

const JOBS = 10_000;
const PROCESSES = 4;
const GROUPS = 20;
const GROUP_LIMIT = 3;

pgTest("PgStore: 4 processes complete 10,000 grouped, prioritised jobs exactly once", async () => {
  const schema = freshSchema("conveyor_mp");
  const store = new PgStore({ connection: PG_URL, schema, listen: false });
  try {
    await store.connect();
    await admin((sql) =>
      sql.unsafe(`create table "${schema}".completions (job_id text primary key, n int not null)`)
    );
    for (let start = 0; start < JOBS; start += 1000) {
      const batch = await Promise.all(
        Array.from({ length: 1000 }, (_, k) => {
          const i = start + k;
          return createNewJob("work", { i }, {
            jobId: `job-${i}`,
            priority: i % 3,
            groupId: i % 10 === 0 ? undefined : `g${i % GROUPS}`,
            lifo: i % 7 === 0,
          });
        }),
      );
      const results = await store.saveBulk("mp", batch);
      assert.equal(results.filter((r) => !r.duplicate).length, 1000);
    }
    const worker = new URL("./testdata/mp_worker.ts", import.meta.url).pathname;
    const children = Array.from({ length: PROCESSES }, (_, i) =>
      new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", worker, PG_URL, schema, `proc-${i}`, "16", String(GROUP_LIMIT)],
        stdout: "piped",
        stderr: "piped",
      }).spawn());
    // When one process fails the others would wait for its jobs forever: stop them all.
    const outputs = await Promise.all(children.map(async (child) => {
      const out = await child.output();
      if (out.code !== 0) {
        for (const other of children) {
          try {
            other.kill();
          } catch { /* already exited */ }
        }
      }
      return out;
    }));
    outputs.forEach((out, i) => {
      assert.equal(out.code, 0, `process ${i} failed:\n${new TextDecoder().decode(out.stderr)}`);
    });

    assert.equal(await store.countJobs("mp", "completed"), JOBS);
    await admin(async (sql) => {
      const [counts] = await sql.unsafe(
        `select count(*)::int as jobs, min(n)::int as min, max(n)::int as max
         from "${schema}".completions`,
      );
      assert.deepEqual(counts, { jobs: JOBS, min: 1, max: 1 }, "each job completed exactly once");
      const [byProcess] = await sql.unsafe(
        `select count(distinct locked_by_last)::int as n from (
           select return_value->>'by' as locked_by_last from "${schema}".jobs) x`,
      );
      assert.equal(byProcess.n, PROCESSES, "every process did some of the work");
      // Peak concurrency per group, from the database's own claim and finish times: a sweep
      // over +1 (claimed) and -1 (finished) events, finishes first when times are equal.
      const [peak] = await sql.unsafe(
        `select coalesce(max(running), 0)::int as peak from (
           select sum(delta) over (partition by group_id order by t, delta
                                   rows unbounded preceding) as running
           from (select group_id, processed_at as t, 1 as delta from "${schema}".jobs
                 where group_id is not null
                 union all
                 select group_id, finished_at, -1 from "${schema}".jobs
                 where group_id is not null) events
         ) sweep`,
      );
      assert.ok(peak.peak <= GROUP_LIMIT, `a group ran ${peak.peak} jobs at once`);
      assert.ok(peak.peak >= 2, `groups should run jobs concurrently, peak ${peak.peak}`);
    });
  } finally {
    await store.disconnect();
    await dropSchema(schema);
  }
});
