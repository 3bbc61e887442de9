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
 * Flags: `--smoke`, `--reps=N`, `--n=N`, `--systems=a,b`, `--workloads=a,b`, `--no-scaling`,
 * `--no-micro`, `--out=FILE`. Smoke mode exits non-zero when any child errors (never on speed).
 *
 * @module
 */

import { FULL, type Sizes, SMOKE, type System, SYSTEMS, timeoutFor } from "./_matrix.ts";
import { type Grid, summarize } from "./_report.ts";
import { BENCH_DIR, type ChildResult, nodePath, ROOT_DIR, runChild } from "./_spawn.ts";
import { machineInfo, runMicro, writeResults } from "./_results.ts";
import { type Workload, WORKLOADS } from "./lib/types.ts";

interface Flags {
  smoke: boolean;
  sizes: Sizes;
  systems: System[];
  workloads: Workload[];
  scaling: boolean;
  micro: boolean;
  out: string;
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
const runId = () => `${Date.now().toString(36)}${(runCounter++).toString(36)}`;

function progress(i: number, total: number, s: System, label: string, r: ChildResult): void {
  const what = r.value !== undefined
    ? `${r.value.toFixed(r.unit === "ms" ? 2 : 0)} ${r.unit}`
    : r.skipped
    ? `skipped: ${r.skipped}`
    : `ERROR: ${r.error}`;
  const secs = (r.wallMs / 1000).toFixed(1);
  console.error(`[${i}/${total}] ${s.id} ${label}: ${what} (${secs}s)`);
}

async function main(): Promise<number> {
  const f = parseFlags(Deno.args);
  const started = Date.now();
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

  // Repetition outermost and systems innermost, so a burst of noise spreads over every system.
  const raw = new Map<string, Map<Workload, ChildResult[]>>();
  const scalingSystems = f.systems.filter((s) => s.scaling);
  const sizes = f.scaling
    ? z.scaling.filter((n) => n !== z.n || !f.workloads.includes("process"))
    : [];
  const total = z.reps *
    (f.workloads.length * f.systems.length + sizes.length * scalingSystems.length);
  let i = 0;
  for (let rep = 1; rep <= z.reps; rep++) {
    for (const w of f.workloads) {
      for (const s of f.systems) {
        const r = await runChild(
          s,
          { ...common, workload: w, run: runId() },
          timeoutFor(z.n * 1.1),
        );
        progress(++i, total, s, `${w} #${rep}`, r);
        const byW = raw.get(s.id) ?? raw.set(s.id, new Map()).get(s.id)!;
        byW.set(w, [...(byW.get(w) ?? []), r]);
        if (r.error) await cleanup().catch(() => {});
      }
    }
  }
  const scaling = new Map<string, Map<number, ChildResult[]>>();
  for (let rep = 1; rep <= z.reps; rep++) {
    for (const n of sizes) {
      for (const s of scalingSystems) {
        const args = { ...common, n, workload: "process", run: runId() };
        const r = await runChild(s, args, timeoutFor(n));
        progress(++i, total, s, `process n=${n} #${rep}`, r);
        const byN = scaling.get(s.id) ?? scaling.set(s.id, new Map()).get(s.id)!;
        byN.set(n, [...(byN.get(n) ?? []), r]);
        if (r.error) await cleanup().catch(() => {});
      }
    }
  }
  // The main `process` runs double as the scaling check's point at n.
  if (f.scaling && f.workloads.includes("process")) {
    for (const s of scalingSystems) {
      const runs = raw.get(s.id)?.get("process");
      if (runs) (scaling.get(s.id) ?? scaling.set(s.id, new Map()).get(s.id)!).set(z.n, runs);
    }
  }
  const micro = f.micro ? await runMicro(f.smoke) : undefined;
  await cleanup().catch((e) => console.error(`bench: final cleanup failed: ${e.message}`));

  const grid: Grid = new Map(
    [...raw].map(([id, byW]) => [id, new Map([...byW].map(([w, rs]) => [w, summarize(rs)]))]),
  );
  const scalingCells = new Map(
    [...scaling].map(([id, byN]) => [id, new Map([...byN].map(([n, rs]) => [n, summarize(rs)]))]),
  );
  const errors = [...raw.values(), ...scaling.values()]
    .flatMap((m) => [...m.values()].flat())
    .filter((r) => r.error).length;
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
    errors,
  });
  // Tables as `deno fmt` lays them out, so the committed file passes the root format check.
  await sh(Deno.execPath(), ["fmt", "-q", "--config", `${ROOT_DIR}/deno.json`, f.out], 60_000)
    .catch((e) => console.error(`bench: could not format ${f.out}: ${e.message}`));
  console.log(await Deno.readTextFile(f.out).catch(() => markdown));
  console.error(`bench: wrote ${f.out} (${errors} failed runs)`);
  return f.smoke && errors ? 1 : 0;
}

Deno.exit(await main());
