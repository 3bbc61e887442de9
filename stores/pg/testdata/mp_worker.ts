// A worker process for the multi-process test: claims jobs of queue "mp" in batches with a
// group limit, holds each briefly, completes it, and records each successful completion in
// the test's `completions` table. Exits when the queue has nothing waiting or active.
//
// Usage: deno run -A mp_worker.ts <url> <schema> <worker-name> <concurrency> <group-limit>
import postgres from "postgres";
import { PgStore } from "../pg_store.ts";

const [url, schema, name, concurrencyArg, groupArg] = Deno.args;
const concurrency = Number(concurrencyArg);
const groupConcurrency = Number(groupArg);
const Q = "mp";

const sql = postgres(url, { max: 4, onnotice: () => {} });
const store = new PgStore({ connection: url, schema });
await store.connect();

let inFlight = 0;
let wake: (() => void) | undefined;
const nap = (ms: number) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      wake = undefined;
      resolve();
    }, ms);
    wake = () => {
      clearTimeout(timer);
      wake = undefined;
      resolve();
    };
  });
store.subscribe(Q, (event) => {
  if (event.type === "waiting" || event.type === "completed") wake?.();
});

async function run(job: { id: string; lockToken: string | null }): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, Math.random() * 2));
  const ok = await store.completeJob(Q, job.id, job.lockToken!, { by: name });
  if (ok) {
    await sql.unsafe(
      `insert into "${schema}".completions (job_id, n) values ($1, 1)
       on conflict (job_id) do update set n = completions.n + 1`,
      [job.id],
    );
  }
}

const running = new Set<Promise<void>>();
for (;;) {
  const free = concurrency - inFlight;
  if (free > 0) {
    const jobs = await store.fetchNextJobs(Q, name, 30_000, free, { groupConcurrency });
    for (const job of jobs) {
      inFlight++;
      const p = run(job).finally(() => {
        inFlight--;
        running.delete(p);
        wake?.();
      });
      running.add(p);
    }
    if (jobs.length > 0) continue;
  }
  if (inFlight === 0) {
    const left = await store.countJobs(Q, "waiting") + await store.countJobs(Q, "active");
    if (left === 0) break;
  }
  await nap(inFlight > 0 ? 20 : 10);
}
await Promise.all(running);
await store.disconnect();
await sql.end();
