/**
 * Writes RESULTS.md: the machine, versions and settings, the main table, the scaling check and
 * the micro-benchmarks.
 *
 * @module
 */

import type { Sizes, System } from "./_matrix.ts";
import { type Cell, fmt, type Grid, mainTable, markdown, notes, scalingTable } from "./_report.ts";
import { BENCH_DIR, type ChildResult, denoPath, ROOT_DIR } from "./_spawn.ts";
import type { Workload } from "./lib/types.ts";

function tryText(fn: () => string): string {
  try {
    return fn().trim();
  } catch {
    return "?";
  }
}

function git(args: string[]): string {
  const out = new Deno.Command("git", { args, cwd: ROOT_DIR, stdout: "piped", stderr: "null" })
    .outputSync();
  return new TextDecoder().decode(out.stdout).trim();
}

const loadAtStart = Deno.loadavg().map((x) => x.toFixed(2)).join(" ");

/** The host, as far as the harness can tell. */
export function machineInfo(): Record<string, string> {
  const cpu = tryText(() =>
    /model name\s*:\s*(.+)/.exec(Deno.readTextFileSync("/proc/cpuinfo"))?.[1] ?? "?"
  );
  const gib = (Deno.systemMemoryInfo().total / 2 ** 30).toFixed(1);
  const dirty = tryText(() => git(["status", "--porcelain", "--", "core", "shared", "stores"]));
  return {
    cpu: `${cpu} × ${navigator.hardwareConcurrency}`,
    memory: `${gib} GiB`,
    os: `${Deno.build.os} ${Deno.osRelease()}`,
    "load average (1/5/15 min) at start": loadAtStart,
    "load average at end": Deno.loadavg().map((x) => x.toFixed(2)).join(" "),
    deno: `${Deno.version.deno} (V8 ${Deno.version.v8})`,
    "conveyor commit": tryText(() => git(["rev-parse", "--short", "HEAD"])) +
      (dirty ? " + uncommitted changes" : ""),
  };
}

/** One `deno bench` result. */
export interface MicroResult {
  group?: string;
  name: string;
  avgNs?: number;
  p75Ns?: number;
  error?: string;
}

/** Runs bench/micro_bench.ts with `deno bench --json` (smaller sizes in smoke mode). */
export async function runMicro(smoke: boolean): Promise<MicroResult[]> {
  const out = await new Deno.Command(denoPath(), {
    args: [
      "bench",
      "-A",
      "--config",
      `${ROOT_DIR}/deno.json`,
      "--json",
      `${BENCH_DIR}/micro_bench.ts`,
    ],
    cwd: ROOT_DIR,
    env: { NO_COLOR: "1", ...(smoke ? { BENCH_MICRO_SMOKE: "1" } : {}) },
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(600_000),
  }).output().catch((e) => ({ success: false, stdout: new Uint8Array(), stderr: e.message }));
  const text = new TextDecoder().decode(out.stdout);
  try {
    const json = JSON.parse(text) as {
      benches: { group?: string; name: string; results: { ok?: { avg: number; p75: number } }[] }[];
    };
    return json.benches.map((b) => {
      const ok = b.results[0]?.ok;
      if (b.name.endsWith("(not available yet)")) {
        return {
          group: b.group,
          name: b.name.replace(/ \(not available yet\)$/, ""),
          error: "not available yet",
        };
      }
      return ok
        ? { group: b.group, name: b.name, avgNs: ok.avg, p75Ns: ok.p75 }
        : { group: b.group, name: b.name, error: "failed" };
    });
  } catch {
    const err = typeof out.stderr === "string" ? out.stderr : new TextDecoder().decode(out.stderr);
    return [{
      name: "micro_bench.ts",
      error: err.trim().split("\n").slice(-3).join(" ") || "no output",
    }];
  }
}

const count = (n: number): string => Math.round(n).toLocaleString("en-US");

function duration(ns: number): string {
  if (ns >= 1e6) return `${(ns / 1e6).toFixed(2)} ms`;
  if (ns >= 1e3) return `${(ns / 1e3).toFixed(2)} µs`;
  return `${ns.toFixed(0)} ns`;
}

function microTable(rs: MicroResult[]): string {
  return markdown(
    ["group", "benchmark", "time/iter (avg)", "p75", "iter/s"],
    rs.map((r) => [
      r.group ?? "",
      r.name,
      r.avgNs === undefined ? `n/a (${r.error})` : duration(r.avgNs),
      r.p75Ns === undefined ? "" : duration(r.p75Ns),
      r.avgNs === undefined ? "" : fmt(1e9 / r.avgNs),
    ]),
  );
}

/** Per system: the settings and versions its children reported. */
function systemsTable(systems: System[], raw: Map<string, Map<Workload, ChildResult[]>>): string {
  const rows = systems.map((s) => {
    const rs = [...(raw.get(s.id)?.values() ?? [])].flat();
    const settings = rs.find((r) => r.settings)?.settings ?? {};
    const versions = rs.find((r) => r.versions)?.versions ?? {};
    const kv = (o: Record<string, unknown>) =>
      Object.entries(o).map(([k, v]) => `${k}: ${JSON.stringify(v)}`).join(", ");
    return [s.label, `${s.runtime} · ${kv(versions)}`, kv(settings) || "–"];
  });
  return markdown(["system", "runtime · versions", "settings"], rows);
}

/** How each peer is set up and why: its documented fast settings. */
const PEER_NOTES = [
  "- **pg-boss**: the worker fetches `batchSize` jobs per query and, with `burstWhenBatchFull`, " +
  "fetches again at once while batches come back full; `useListenNotify` plus the queue's " +
  "`notify` wakes idle workers at once. Both polling intervals are at their 0.5 s minimum, since " +
  "a parent freed by its last child gets no NOTIFY and would otherwise wait the 30 s default.",
  "- **graphile-worker**: the configuration of its performance page (`concurrentJobs` 24, " +
  "`maxPoolSize` 25, `localQueue.size` 500, `completeJobBatchDelay` and `failJobBatchDelay` 0). " +
  "It has no parent/child flows.",
  "- **BullMQ**: worker `concurrency` 50, defaults otherwise. Its PostgreSQL backend is the one " +
  "BullMQ 6 ships in the `bullmq` package itself (`createPostgresBackend`, with `pg` as the " +
  "driver, migrated with `runMigrations` into the run's schema); no separate npm package is " +
  "needed (and no separate one shows up on npm). Its pool has `max` 20, as its tuning notes advise " +
  "sizing the pool for the concurrency.",
  "- **Conveyor**: each store with its defaults, worker `concurrency` 50. On PostgreSQL the " +
  "worker also has `prefetch` 450 (a local queue of leased jobs: 500 held in all, as " +
  "graphile-worker's `localQueue.size`). Completed jobs are kept (as BullMQ and pg-boss keep " +
  "them), except in the row marked `removeOnComplete`, where each job is deleted as it " +
  "completes, as graphile-worker does with every job. The SQLite store wakes workers in other " +
  "processes by polling (200 ms by default), which is its latency.",
  "- Every peer runs under Node 22 and every Conveyor row under Deno. PostgreSQL runs with its " +
  "defaults (`synchronous_commit` on), so one-at-a-time adds are bound by commit flushes; the " +
  "machine is shared with other work, so compare rows of one run rather than runs.",
];

/** Everything writeResults needs. */
export interface Report {
  out: string;
  smoke: boolean;
  sizes: Sizes;
  systems: System[];
  workloads: Workload[];
  grid: Grid;
  scaling: Map<string, Map<number, Cell>>;
  micro?: MicroResult[];
  raw: Map<string, Map<Workload, ChildResult[]>>;
  machine: Record<string, string>;
  minutes: number;
  errors: number;
  /** Repetitions done, and why fewer than asked (the time budget), if so. */
  reps: number;
  budgetNote: string;
}

/** Renders the report, writes it to `r.out`, and returns the markdown. */
export function writeResults(r: Report): string {
  const z = r.sizes;
  const when = new Date().toISOString().replace(/\.\d+Z$/, "Z");
  const parts = [
    `# Conveyor benchmark results${
      r.smoke ? " (smoke run: sizes too small to mean anything)" : ""
    }`,
    "",
    `Written by \`deno task ${r.smoke ? "bench:smoke" : "bench"}\` on ${when}; the run took ` +
    `${r.minutes.toFixed(1)} minutes with ${r.errors} failed child runs. Each cell is the median ` +
    `of ${r.reps} runs, each in a fresh process, [min–max] beside it` +
    (r.budgetNote ? ` (${r.budgetNote}).` : "."),
    "",
    mainTable(r.systems, r.grid, r.workloads),
    "",
    "`↳ … ÷ best peer` is Conveyor's speed relative to the fastest other system on the same backend " +
    "(for latency: the best peer's latency divided by Conveyor's): above 1.00× Conveyor is faster. " +
    "On the in-process backend the only other row is the bare loop, a ceiling rather than a peer.",
    ...(notes(r.systems, r.grid).length
      ? ["", "Cells without a number:", "", ...notes(r.systems, r.grid)]
      : []),
  ];
  if (r.scaling.size) {
    parts.push("", "## Scaling: `process` by job count", "", scalingTable(r.systems, r.scaling));
  }
  if (r.micro) {
    parts.push(
      "",
      "## Micro-benchmarks (`deno bench bench/micro_bench.ts`)",
      "",
      microTable(r.micro),
    );
  }
  parts.push(
    "",
    "## Workloads",
    "",
    `- \`enqueue-serial\`: ${count(z.n)} adds, one at a time. \`enqueue-par\`: the same with ` +
      `${z.concurrency} adds in flight. \`enqueue-bulk\`: bulk adds in chunks of ${
        count(z.chunk)
      }.`,
    `- \`process\`: ${
      count(z.n)
    } jobs pre-enqueued, then one worker (concurrency ${z.concurrency} ` +
      "unless a peer's settings say otherwise) in the same process; wall clock from starting the " +
      "worker until the store reports every job completed.",
    `- \`latency\`: an idle worker in another process; median of ${z.samples} samples (after ` +
      `${z.warmup} warm-up) of add → handler start, ${z.gapMs} ms apart. Stores that cannot be ` +
      "shared between processes (memory, the bare loop) run the worker in the same process.",
    `- \`flow\`: ${count(z.n / 10)} parents × 10 children added through the system's flow API ` +
      `(${z.concurrency} in flight), then processed; jobs/s over adding + processing all ` +
      `${count(z.n * 1.1)} jobs.`,
    "- Every job carries the same small payload (`{ i, t, user, action }`) and a no-op handler. " +
      "Each run gets its own PostgreSQL schema or Redis prefix, dropped afterwards.",
    "",
    "## Systems, versions and settings",
    "",
    systemsTable(r.systems, r.raw),
    "",
    ...PEER_NOTES,
    "",
    "## Machine",
    "",
    markdown(["", ""], Object.entries(r.machine).map(([k, v]) => [k, v])),
    "",
  );
  const text = parts.join("\n");
  Deno.mkdirSync(r.out.replace(/\/[^/]+$/, ""), { recursive: true });
  Deno.writeTextFileSync(r.out, text);
  return text;
}
