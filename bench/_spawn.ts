/**
 * Launches one benchmark child in a fresh process and reads its `RESULT` line. The child stops
 * itself at its own timeout; this kills it a little later if it did not.
 *
 * @module
 */

import type { System } from "./_matrix.ts";
import type { Measurement } from "./lib/types.ts";

export const BENCH_DIR = new URL(".", import.meta.url).pathname.replace(/\/$/, "");
export const ROOT_DIR = BENCH_DIR.replace(/\/bench$/, "");

/** Node 22 from tools/ when installed there, else whatever `node` is on PATH. */
export function nodePath(): string {
  const pinned = `${ROOT_DIR}/tools/node_modules/.bin/node`;
  try {
    Deno.statSync(pinned);
    return pinned;
  } catch {
    return "node";
  }
}

/** This Deno, even when its binary was replaced in place (`npm ci --prefix tools`) meanwhile. */
export const denoPath = (): string => Deno.execPath().replace(/ \(deleted\)$/, "");

/** Fails unless `node` can run the peers: Node 22.18+ strips the types of bench/lib/*.ts. */
export function assertNode(): void {
  const out = new Deno.Command(nodePath(), { args: ["--version"], stdout: "piped" }).outputSync();
  const version = new TextDecoder().decode(out.stdout).trim();
  const [major, minor] = version.replace(/^v/, "").split(".").map(Number);
  if (!(major > 22 || (major === 22 && minor >= 18))) {
    throw new Error(`bench: peers need Node >= 22.18 (npm ci --prefix tools), found ${version}`);
  }
}

/** The command (without `key=value` arguments) that runs a system's script. */
export function commandFor(system: System): string[] {
  const script = `${BENCH_DIR}/${system.script}`;
  if (system.runtime === "node") return [nodePath(), script];
  return [denoPath(), "run", "-A", "--config", `${ROOT_DIR}/deno.json`, script];
}

const running = new Set<Deno.ChildProcess>();

/** Kills every child still running (the driver was interrupted). */
export function killChildren(): void {
  for (const child of running) {
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
  }
}

/** What one child run produced. */
export interface ChildResult extends Measurement {
  error?: string;
  /** Wall time of the whole child, including start-up and teardown. */
  wallMs: number;
}

/** Runs one child with `args` and a hard limit; never throws. */
export async function runChild(
  system: System,
  args: Record<string, string | number>,
  timeoutMs: number,
): Promise<ChildResult> {
  const [cmd, ...base] = commandFor(system);
  const kv = Object.entries(args).map(([k, v]) => `${k}=${v}`);
  const started = performance.now();
  const child = new Deno.Command(cmd, {
    args: [...base, ...system.args, ...kv, `timeout=${timeoutMs}`],
    cwd: ROOT_DIR,
    env: { BENCH_SELF: JSON.stringify(commandFor(system)), RUST_BACKTRACE: "0", NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  running.add(child);
  let killed = false;
  const killer = setTimeout(() => {
    killed = true;
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
  }, timeoutMs + 15_000);
  const out = await child.output();
  clearTimeout(killer);
  running.delete(child);
  const wallMs = performance.now() - started;
  const stdout = new TextDecoder().decode(out.stdout);
  const stderr = new TextDecoder().decode(out.stderr).trim();
  const line = stdout.split("\n").reverse().find((l) => l.startsWith("RESULT "));
  const workload = String(args.workload) as Measurement["workload"];
  // Messages, not stack frames: the lines of stderr that do not start with "at ".
  const gist = stderr.split("\n").filter((l) => l.trim() && !/^\s+at /.test(l)).slice(-3).join(" ");
  if (!line) {
    const why = killed ? `killed after ${timeoutMs + 15_000} ms` : `exit code ${out.code}`;
    return { workload, error: `${why}: ${gist || "no output"}`, wallMs };
  }
  const parsed = JSON.parse(line.slice(7)) as ChildResult;
  return { ...parsed, wallMs };
}
