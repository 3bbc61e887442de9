/**
 * The idle worker of the `latency` workload: a second process running the same system, started by
 * the producer with the command the driver gave it (`BENCH_SELF`), reporting each handler start.
 *
 * Protocol on its stdout: `READY` once the worker runs, then `H <i> <ms>` per job, where `ms` is
 * handler start minus the payload's add timestamp. Closing its stdin stops it.
 *
 * @module
 */

import { spawn } from "node:child_process";
import process from "node:process";
import { createInterface } from "node:readline";

/** Starts the worker process; resolves with a stop function once it reports READY. */
export async function spawnLatencyWorker(
  runId: string,
  onStart: (i: number, ms: number) => void,
): Promise<() => Promise<void>> {
  const self = JSON.parse(process.env.BENCH_SELF ?? "null") as string[] | null;
  if (!self) throw new Error("BENCH_SELF is not set: run children through bench/run.ts");
  const args = [...self.slice(1), ...process.argv.slice(2), `run=${runId}`, "role=worker"];
  const child = spawn(self[0], args, { stdio: ["pipe", "pipe", "inherit"] });
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  let ready!: () => void;
  const isReady = new Promise<void>((r) => (ready = r));
  createInterface({ input: child.stdout! }).on("line", (line: string) => {
    if (line === "READY") return ready();
    const [tag, i, ms] = line.split(" ");
    if (tag === "H") onStart(Number(i), Number(ms));
  });
  await Promise.race([
    isReady,
    exited.then(() => Promise.reject(new Error("latency worker exited before READY"))),
  ]);
  return async () => {
    child.stdin!.end();
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    await exited;
    clearTimeout(timer);
  };
}
