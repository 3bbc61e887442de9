/**
 * Conveyor's benchmark harness: runs every (system, workload, repetition) in a fresh process,
 * prints one table and writes bench/RESULTS.md (or bench/out/smoke.md with `--smoke`).
 *
 * ```sh
 * deno run -A bench/run.ts            # full matrix, 3 repetitions (~20 min on 2 cores)
 * deno run -A bench/run.ts --smoke    # a few hundred jobs per workload, one repetition (CI)
 * deno run -A bench/run.ts --systems=conveyor-pg,pg-boss --workloads=process --reps=5
 * ```
 *
 * Flags: `--smoke`, `--reps=N` (default 3), `--n=N`, `--systems=a,b`, `--workloads=a,b`,
 * `--no-scaling`, `--no-micro`, `--out=FILE`, `--budget=MINUTES` (default 20: no repetition after
 * the first starts unless it can end within it, and no run at all starts past 1.5 × it), `--strict` (a Conveyor row that cannot load
 * counts as a failure). Exits non-zero when any child failed; never because of a speed.
 *
 * @module
 */

import { FULL, type Sizes, SMOKE, type System, SYSTEMS, timeoutFor } from "./_matrix.ts";
import { type Grid, summarize } from "./_report.ts";
import {
  assertNode,
  BENCH_DIR,
  type ChildResult,
  denoPath,
  killChildren,
  nodePath,
  ROOT_DIR,
  runChild,
} from "./_spawn.ts";
import { machineInfo, type MicroResult, runMicro, writeResults } from "./_results.ts";
import { type Workload, WORKLOADS } from "./lib/types.ts";

interface Flags {
  smoke: boolean;
  sizes: Sizes;
  systems: System[];
  workloads: Workload[];
  scaling: boolean;
  micro: boolean;
  out: string;
  /** No new repetition starts when it would end past this many ms after the start. */
  budgetMs: number;
  /** Count a Conveyor row that is "not available yet" as a failure. */
  strict: boolean;
}

function parseFlags(args: string[]): Flags {
  const kv = new Map<string, string>();
  for (const a of args) {
    const [k, v] = a.replace(/^--/, "").split("=", 2);
    kv.set(k, v ?? "true");
  }
  const smoke = kv.has("smoke");
  const sizes = { ...(smoke ? SMOKE : FULL) };
  if (kv.has("reps")) sizes.reps = Number(kv.get("reps"));
  if (kv.has("n")) sizes.n = Number(kv.get("n"));
  const list = (k: string) => kv.get(k)?.split(",").filter(Boolean);
  const ids = list("systems");
  const unknown = ids?.filter((id) => !SYSTEMS.some((s) => s.id === id));
  if (unknown?.length) throw new RangeError(`unknown system(s): ${unknown}`);
  const ws = (list("workloads") ?? [...WORKLOADS]) as Workload[];
  const badW = ws.filter((w) => !WORKLOADS.includes(w));
  if (badW.length) throw new RangeError(`unknown workload(s): ${badW}`);
  return {
    smoke,
    sizes,
    systems: ids ? SYSTEMS.filter((s) => ids.includes(s.id)) : SYSTEMS,
    workloads: ws,
    scaling: !kv.has("no-scaling"),
    micro: !kv.has("no-micro"),
    out: kv.get("out") ?? (smoke ? `${BENCH_DIR}/out/smoke.md` : `${BENCH_DIR}/RESULTS.md`),
    budgetMs: Number(kv.get("budget") ?? 20) * 60_000,
    strict: kv.has("strict"),
  };
}

async function sh(cmd: string, args: string[], timeoutMs: number): Promise<string> {
  const out = await new Deno.Command(cmd, {
    args,
    cwd: ROOT_DIR,
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(timeoutMs),
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  if (!out.success) {
    throw new Error(`${cmd} ${args.join(" ")} failed: ${new TextDecoder().decode(out.stderr)}`);
  }
  return text;
}

/** Installs the peers from bench/package-lock.json when they are missing. */
async function ensurePeers(): Promise<void> {
  try {
    Deno.statSync(`${BENCH_DIR}/node_modules/.package-lock.json`);
  } catch {
    console.error("bench: installing peers (npm ci --prefix bench) …");
    await sh("npm", ["ci", "--prefix", BENCH_DIR, "--no-audit", "--no-fund"], 300_000);
  }
}

/** Creates the bench database, drops leftovers, and returns the servers' versions. */
async function cleanup(): Promise<Record<string, string>> {
  const out = await sh(nodePath(), [`${BENCH_DIR}/peers/cleanup.mjs`], 90_000);
  const line = out.split("\n").find((l) => l.startsWith("INFO "));
  return line ? JSON.parse(line.slice(5)) : {};
}

let runCounter = 0;
/** `<base-36 start time>_<n>`: unique, and tells cleanup how old a leftover is. */
const runId = () => `${Date.now().toString(36)}_${(runCounter++).toString(36)}`;

function progress(i: number, total: number, s: System, label: string, r: ChildResult): void {
  const what = r.value !== undefined
    ? `${r.value.toFixed(r.unit === "ms" ? 2 : 0)} ${r.unit}`
    : r.skipped
    ? `skipped: ${r.skipped}`
    : `ERROR: ${r.error}`;
  const secs = (r.wallMs / 1000).toFixed(1);
  console.error(`[${i}/${total}] ${s.id} ${label}: ${what} (${secs}s)`);
}

/** JSON.stringify replacer that writes Maps as objects. */
const mapJson = (_: string, v: unknown) => (v instanceof Map ? Object.fromEntries(v) : v);

/** Appends `r` to the list under `outer` → `inner`. */
function record<K>(m: Map<string, Map<K, ChildResult[]>>, outer: string, inner: K, r: ChildResult) {
  const byKey = m.get(outer) ?? m.set(outer, new Map()).get(outer)!;
  byKey.set(inner, [...(byKey.get(inner) ?? []), r]);
}

async function main(): Promise<number> {
  const f = parseFlags(Deno.args);
  const started = Date.now();
  assertNode();
  await ensurePeers();
  const servers = await cleanup();
  const z = f.sizes;
  const common = {
    n: z.n,
    concurrency: z.concurrency,
    chunk: z.chunk,
    samples: z.samples,
    warmup: z.warmup,
    gap: z.gapMs,
  };
  const raw = new Map<string, Map<Workload, ChildResult[]>>();
  const scaling = new Map<string, Map<number, ChildResult[]>>();
  const scalingSystems = f.systems.filter((s) => s.scaling);
  // The main `process` runs double as the scaling check's point at n.
  const sizes = f.scaling
    ? z.scaling.filter((n) => n !== z.n || !f.workloads.includes("process"))
    : [];
  const perRep = f.workloads.length * f.systems.length + sizes.length * scalingSystems.length;
  let i = 0;
  // Past 1.5 × the budget no child starts at all: its cell says so instead of a number.
  const hardStop = started + f.budgetMs * 1.5;
  let cut = 0;
  const one = async (s: System, args: Record<string, string | number>, label: string) => {
    if (Date.now() > hardStop) {
      cut++;
      const workload = args.workload as Workload;
      return { workload, skipped: "time budget", wallMs: 0 } satisfies ChildResult;
    }
    const limit = timeoutFor((Number(args.n) || z.n) * 1.1);
    const r = await runChild(s, { ...common, ...args, run: runId() }, limit);
    progress(++i, perRep * z.reps, s, label, r);
    if (r.error) await cleanup().catch(() => {});
    return r;
  };

  // A repetition is the whole matrix once, systems innermost so that a burst of noise spreads
  // over every system. Another repetition starts only if it fits in the time budget.
  let micro: MicroResult[] | undefined;
  let reps = 0;
  let slowestRepMs = 0;
  let budgetNote = "";
  for (let rep = 1; rep <= z.reps; rep++) {
    const elapsed = Date.now() - started;
    if (rep > 1 && elapsed + slowestRepMs > f.budgetMs) {
      budgetNote = `stopped after ${reps} of ${z.reps} repetitions: another would pass the ` +
        `${f.budgetMs / 60_000}-minute budget`;
      console.error(`bench: ${budgetNote}`);
      break;
    }
    const repStart = Date.now();
    for (const w of f.workloads) {
      for (const s of f.systems) {
        record(raw, s.id, w, await one(s, { workload: w }, `${w} #${rep}`));
      }
    }
    for (const n of sizes) {
      for (const s of scalingSystems) {
        record(
          scaling,
          s.id,
          n,
          await one(s, { workload: "process", n }, `process n=${n} #${rep}`),
        );
      }
    }
    slowestRepMs = Math.max(slowestRepMs, Date.now() - repStart);
    reps++;
    if (rep === 1 && f.micro) micro = await runMicro(f.smoke);
  }
  if (cut) {
    budgetNote = `${budgetNote ? budgetNote + "; " : ""}${cut} runs not started: past 1.5 × the ` +
      `${f.budgetMs / 60_000}-minute budget`;
  }
  if (f.scaling && f.workloads.includes("process")) {
    for (const s of scalingSystems) {
      for (const r of raw.get(s.id)?.get("process") ?? []) record(scaling, s.id, z.n, r);
    }
  }
  await cleanup().catch((e) => console.error(`bench: final cleanup failed: ${e.message}`));

  const grid: Grid = new Map(
    [...raw].map(([id, byW]) => [id, new Map([...byW].map(([w, rs]) => [w, summarize(rs)]))]),
  );
  const scalingCells = new Map(
    [...scaling].map(([id, byN]) => [id, new Map([...byN].map(([n, rs]) => [n, summarize(rs)]))]),
  );
  const all = [...raw.values(), ...scaling.values()].flatMap((m) => [...m.values()].flat());
  const errors = all.filter((r) => r.error).length;
  const unavailable = all.filter((r) => r.skipped?.startsWith("not available yet")).length;
  const markdown = writeResults({
    out: f.out,
    smoke: f.smoke,
    sizes: z,
    systems: f.systems,
    workloads: f.workloads,
    grid,
    scaling: scalingCells,
    micro,
    raw,
    machine: { ...machineInfo(), ...servers },
    minutes: (Date.now() - started) / 60_000,
    reps,
    budgetNote,
    errors,
  });
  // Every child's own report, for digging into a surprising cell (bench/out is not committed).
  await Deno.mkdir(`${BENCH_DIR}/out`, { recursive: true });
  await Deno.writeTextFile(
    `${BENCH_DIR}/out/last-run.json`,
    JSON.stringify({ raw: Object.fromEntries(raw), scaling: Object.fromEntries(scaling) }, mapJson),
  );
  // Tables as `deno fmt` lays them out, so the committed file passes the root format check.
  await sh(denoPath(), ["fmt", "-q", "--config", `${ROOT_DIR}/deno.json`, f.out], 60_000)
    .catch((e) => console.error(`bench: could not format ${f.out}: ${e.message}`));
  console.log(await Deno.readTextFile(f.out).catch(() => markdown));
  console.error(`bench: wrote ${f.out} (${errors} failed runs)`);
  if (unavailable) console.error(`bench: ${unavailable} runs of Conveyor rows not available yet`);
  return errors || (f.strict && unavailable) ? 1 : 0;
}

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  Deno.addSignalListener(signal, () => {
    console.error(`bench: ${signal}: stopping children`);
    killChildren();
    Deno.exit(130);
  });
}
Deno.exit(await main());
