/**
 * Micro-benchmarks of Conveyor's hot paths: `deno bench -A --config deno.json bench/micro_bench.ts`.
 *
 * - memory store claim (`fetchNextJob`) with 1k vs 1M jobs waiting: should cost about the same;
 * - payload validation on add (`createNewJob`, `assertJsonValue`);
 * - event emission (`EventBus.emit`), next to a bare `EventTarget` for scale.
 *
 * `BENCH_MICRO_SMOKE=1` shrinks the big queue to 10k so CI can run it in seconds. A hot path whose
 * package is not built yet shows as an empty bench named "… (not available yet)".
 *
 * @module
 */

const SMOKE = Deno.env.get("BENCH_MICRO_SMOKE") === "1";
const BIG = SMOKE ? 10_000 : 1_000_000;
const payload = { i: 1, t: 1_700_000_000_000, user: "user-1", action: "noop" };

type Mod = Record<string, unknown>;
async function load(specifier: () => Promise<unknown>): Promise<Mod | undefined> {
  try {
    return await specifier() as Mod;
  } catch {
    return undefined;
  }
}
const [shared, memory, core] = await Promise.all([
  load(() => import("@conveyor/shared")),
  load(() => import("@conveyor/store-memory")),
  load(() => import("@conveyor/core")),
]);

/** Keeps the row in the table (as n/a) while the package is not built yet. */
function unavailable(group: string, name: string): void {
  Deno.bench({ group, name: `${name} (not available yet)`, fn() {} });
}

// ── memory fetch ────────────────────────────────────────────────────────────────────────────

interface MemoryStore {
  connect(): Promise<void>;
  saveBulk(queue: string, jobs: unknown[]): Promise<unknown>;
  saveJob(queue: string, job: unknown): Promise<unknown>;
  fetchNextJob(queue: string, worker: string, lockMs: number): Promise<unknown>;
}

let seq = 0;
const newJob = () => ({ id: `j${seq++}`, name: "noop", data: payload, opts: {} });

async function filledStore(waiting: number): Promise<MemoryStore> {
  const Store = memory!.MemoryStore as new () => MemoryStore;
  const store = new Store();
  await store.connect();
  for (let from = 0; from < waiting; from += 10_000) {
    const size = Math.min(10_000, waiting - from);
    await store.saveBulk("q", Array.from({ length: size }, newJob));
  }
  return store;
}

if (typeof memory?.MemoryStore === "function") {
  for (const [label, waiting] of [["1k", 1_000], [SMOKE ? "10k" : "1M", BIG]] as const) {
    const store = await filledStore(waiting);
    Deno.bench({
      group: "memory fetch",
      name: `fetchNextJob, ${label} waiting`,
      baseline: waiting === 1_000,
      async fn(b) {
        await store.saveJob("q", newJob()); // keeps the queue at `waiting`; not timed
        b.start();
        await store.fetchNextJob("q", "w1", 30_000);
        b.end();
      },
    });
  }
} else unavailable("memory fetch", "fetchNextJob");

// ── payload validation ──────────────────────────────────────────────────────────────────────

const wide = Object.fromEntries(Array.from({ length: 100 }, (_, k) => [`field${k}`, `value ${k}`]));
if (typeof shared?.createNewJob === "function" && typeof shared.assertJsonValue === "function") {
  const createNewJob = shared.createNewJob as (
    n: string,
    d: unknown,
    o?: object,
  ) => Promise<unknown>;
  const assertJson = shared.assertJsonValue as (v: unknown, what: string) => void;
  Deno.bench({
    group: "validation",
    name: "createNewJob, small payload",
    baseline: true,
    async fn() {
      await createNewJob("noop", payload);
    },
  });
  Deno.bench({
    group: "validation",
    name: "assertJsonValue, small payload",
    fn: () => assertJson(payload, "payload"),
  });
  Deno.bench({
    group: "validation",
    name: "assertJsonValue, 100-field payload",
    fn: () => assertJson(wide, "payload"),
  });
  Deno.bench({
    group: "validation",
    name: "JSON.stringify, small payload (scale)",
    fn: () => void JSON.stringify(payload),
  });
} else unavailable("validation", "createNewJob");

// ── event emission ──────────────────────────────────────────────────────────────────────────

type Bus = { on(t: string, l: (e: Event) => void): () => void; emit(t: string, d: unknown): void };
if (typeof core?.EventBus === "function") {
  const Bus = core.EventBus as new () => Bus;
  const silent = new Bus();
  const heard = new Bus();
  let n = 0;
  heard.on("completed", () => void n++);
  const detail = { jobId: "j1", name: "noop", returnvalue: null };
  Deno.bench({
    group: "events",
    name: "EventBus.emit, no listener",
    fn: () => silent.emit("completed", detail),
  });
  Deno.bench({
    group: "events",
    name: "EventBus.emit, 1 listener",
    baseline: true,
    fn: () => heard.emit("completed", detail),
  });
} else unavailable("events", "EventBus.emit");
const target = new EventTarget();
let hits = 0;
target.addEventListener("completed", () => void hits++);
Deno.bench({
  group: "events",
  name: "EventTarget.dispatchEvent(CustomEvent), 1 listener (scale)",
  fn: () => void target.dispatchEvent(new CustomEvent("completed", { detail: payload })),
});
