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

function die(why: string, error?: unknown): never {
  console.error(`[${name}] ${why}`, error ?? "");
  Deno.exit(1);
}
globalThis.addEventListener("unhandledrejection", (e) => die("unhandled rejection", e.reason));

const sql = postgres(url, { max: 4, onnotice: () => {} });
const store = new PgStore({ connection: url, schema, onError: (e) => die("store error", e) });
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

// Successful completions, counted per job and added to the table in batches.
const completed = new Map<string, number>();
let recording: Promise<void> | undefined;
function record(): Promise<void> {
  recording ??= (async () => {
    while (completed.size > 0) {
      const batch = [...completed];
      completed.clear();
      await sql.unsafe(
        `insert into "${schema}".completions (job_id, n)
         select * from unnest($1::text[], $2::int[])
         on conflict (job_id) do update set n = completions.n + excluded.n`,
        [batch.map(([id]) => id), batch.map(([, n]) => n)],
      );
    }
    recording = undefined;
  })();
  return recording;
}

async function run(job: { id: string; lockToken: string | null }): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, Math.random() * 2));
  const ok = await store.completeJob(Q, job.id, job.lockToken!, { by: name });
  progress = Date.now();
  if (ok) {
    completed.set(job.id, (completed.get(job.id) ?? 0) + 1);
    void record();
  }
}

// Fail loudly instead of hanging: no claim or completion for 60 s means something is stuck.
let progress = Date.now();
const watchdog = setInterval(() => {
  if (Date.now() - progress > 60_000) die(`no progress for 60 s (in flight: ${inFlight})`);
}, 1000);

const running = new Set<Promise<void>>();
for (;;) {
  const free = concurrency - inFlight;
  if (free > 0) {
    const jobs = await store.fetchNextJobs(Q, name, 30_000, free, { groupConcurrency });
    if (jobs.length > 0) progress = Date.now();
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
clearInterval(watchdog);
while (recording || completed.size > 0) await (recording ?? record());
await store.disconnect();
await sql.end();
