/**
 * Entry point shared by every benchmark child process (Deno or Node 22). Parses `key=value`
 * arguments, arms a hard timeout, runs one workload and prints one `RESULT {json}` line.
 *
 * @module
 */

import process from "node:process";
import { createInterface } from "node:readline";
import type { Adapter, Measurement, Workload } from "./types.ts";
import { WORKLOADS } from "./types.ts";
import { now, runWorkload } from "./workloads.ts";
import type { RunOptions } from "./workloads.ts";

/** Thrown by an adapter factory when the system is not built yet; the table shows the reason. */
export class Unavailable extends Error {
  override name = "Unavailable";
}

/** Everything a child is told by the driver. */
export interface ChildOptions extends RunOptions {
  role: "producer" | "worker";
  timeoutMs: number;
  /** System-specific arguments (e.g. `store=pg`, `backend=redis`). */
  rest: Record<string, string>;
}

const int = (v: string | undefined, d: number): number => (v === undefined ? d : Number(v));

/** Parses `key=value` arguments; unknown keys land in `rest`. */
export function parseArgs(argv: string[]): ChildOptions {
  const kv: Record<string, string> = {};
  for (const a of argv) {
    const eq = a.indexOf("=");
    if (eq > 0) kv[a.slice(0, eq)] = a.slice(eq + 1);
  }
  const workload = (kv.workload ?? "process") as Workload;
  if (!WORKLOADS.includes(workload)) throw new RangeError(`unknown workload "${workload}"`);
  const { run, role, timeout, n, concurrency, chunk, samples, warmup, gap, ...rest } = kv;
  delete rest.workload;
  return {
    workload,
    runId: run ?? `${Date.now().toString(36)}_solo${Math.floor(Math.random() * 1e6)}`,
    role: role === "worker" ? "worker" : "producer",
    timeoutMs: int(timeout, 120_000),
    n: int(n, 10_000),
    concurrency: int(concurrency, 50),
    chunk: int(chunk, 1000),
    samples: int(samples, 50),
    warmup: int(warmup, 5),
    gapMs: int(gap, 20),
    rest,
  };
}

function write(line: string): Promise<void> {
  return new Promise((resolve) => process.stdout.write(line + "\n", () => resolve()));
}

/** Database to use; every run gets its own schema in it. */
export const PG_URL = process.env.BENCH_PG_URL ??
  "postgres://postgres@127.0.0.1:5432/conveyor_bench";
/** Redis to use; every run gets its own key prefix in it. */
export const REDIS_URL = process.env.BENCH_REDIS_URL ?? "redis://127.0.0.1:6379";

/** A schema or prefix name unique to this run, safe as a bare SQL identifier. */
export const runName = (o: ChildOptions): string =>
  `cvb_${o.runId.toLowerCase().replace(/[^a-z0-9_]/g, "_")}`;

/**
 * Runs a child: `make` builds the system's adapter, `versions` names what was measured.
 * Never returns: the process exits, so a library's stray timers cannot keep it alive.
 */
export async function main(
  make: (o: ChildOptions) => Adapter | Promise<Adapter>,
  versions: Record<string, string>,
): Promise<never> {
  let o: ChildOptions | undefined;
  try {
    o = parseArgs(process.argv.slice(2));
    const limit = o.timeoutMs;
    setTimeout(() => {
      console.error(`bench child: hard timeout after ${limit} ms`);
      process.exit(3);
    }, limit);
    if (o.role === "worker") await workerRole(await make(o), o);
    else {
      const result = await producerRole(await make(o), o);
      await write("RESULT " + JSON.stringify({ ...result, versions }));
    }
    process.exit(0);
  } catch (err) {
    if (err instanceof Unavailable) {
      await write("RESULT " + JSON.stringify({ workload: o?.workload, skipped: err.message }));
      process.exit(0);
    }
    console.error(err instanceof Error ? err.stack ?? err.message : err);
    if (o?.role !== "worker") {
      const msg = err instanceof Error ? err.message : String(err);
      await write("RESULT " + JSON.stringify({ workload: o?.workload, error: msg }));
    }
    process.exit(1);
  }
}

async function producerRole(a: Adapter, o: ChildOptions): Promise<Measurement> {
  if (o.workload === "flow" && !a.addFlow) return { workload: "flow", skipped: "no flows" };
  let opened = false;
  try {
    await a.open(true);
    opened = true;
    const m = await runWorkload(a, o);
    return { ...m, settings: a.settings };
  } finally {
    if (opened) await a.close(true);
  }
}

/** The latency workload's idle worker: reports handler starts until stdin closes. */
async function workerRole(a: Adapter, o: ChildOptions): Promise<void> {
  await a.open(false);
  await a.startWorker((d) => {
    process.stdout.write(`H ${d.i} ${now() - d.t}\n`);
  }, o.concurrency);
  await write("READY");
  await new Promise<void>((r) => createInterface({ input: process.stdin }).on("close", () => r()));
  await a.stopWorker();
  await a.close(false);
}
