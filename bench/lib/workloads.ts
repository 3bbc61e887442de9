/**
 * The workloads, written once against {@linkcode Adapter} so that every system runs the very same
 * loop. Runs under Deno and under Node 22.
 *
 * @module
 */

import type { Adapter, Handler, Measurement, Payload, Workload } from "./types.ts";
import { spawnLatencyWorker } from "./latency_worker.ts";

/** Settings of one run, parsed from the child's arguments. */
export interface RunOptions {
  workload: Workload;
  /** Unique per run: names the schema, Redis prefix or file (the latency worker gets the same). */
  runId: string;
  /** Jobs per workload (the flow workload uses n/10 parents with 10 children each). */
  n: number;
  /** Adds in flight for `enqueue-par`; worker concurrency everywhere. */
  concurrency: number;
  /** Chunk size for `enqueue-bulk` and for pre-enqueueing. */
  chunk: number;
  /** Latency samples kept, warm-up samples dropped before them, and the gap between samples. */
  samples: number;
  warmup: number;
  gapMs: number;
}

/** Wall-clock milliseconds with sub-millisecond resolution, comparable across processes. */
export const now = (): number => performance.timeOrigin + performance.now();

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The payload of job `i`. */
export function payload(i: number): Payload {
  return { i, t: now(), user: `user-${i % 1000}`, action: "noop" };
}

const rate = (jobs: number, ms: number): number => jobs / (ms / 1000);

/** How long one latency sample may take before the run fails. */
const SAMPLE_TIMEOUT_MS = 15_000;

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, expired]);
  } finally {
    clearTimeout(timer);
  }
}

/** Runs `fn(i)` for i in [0, n) with at most `inFlight` calls pending. */
export async function inParallel(
  n: number,
  inFlight: number,
  fn: (i: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < n) await fn(next++);
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, n) }, lane));
}

async function enqueueAll(a: Adapter, n: number, chunk: number, offset = 0): Promise<void> {
  for (let from = 0; from < n; from += chunk) {
    const size = Math.min(chunk, n - from);
    await a.addBulk(Array.from({ length: size }, (_, k) => payload(offset + from + k)));
  }
}

/** Fails loudly when the store does not hold what the workload put in: a harness bug guard. */
async function expectRemaining(a: Adapter, expected: number): Promise<void> {
  const got = await a.remaining();
  if (got !== expected) throw new Error(`store holds ${got} unfinished jobs, expected ${expected}`);
}

/** Resolves once `count()` reaches `target` and the store has nothing left to finish. */
async function drained(a: Adapter, done: Promise<void>): Promise<void> {
  await done;
  // The last completions are usually in flight when the handler count is reached: look again
  // after one turn of the event loop before falling back to a short sleep.
  if (await a.remaining() === 0) return;
  await sleep(0);
  while (await a.remaining() > 0) await sleep(2);
}

/** A handler that counts calls and resolves `done` at the `target`-th one. */
function counter(target: number): { handler: Handler; done: Promise<void>; calls: () => number } {
  let calls = 0;
  let resolve!: () => void;
  const done = new Promise<void>((r) => (resolve = r));
  const handler: Handler = () => {
    if (++calls === target) resolve();
  };
  return { handler, done, calls: () => calls };
}

async function timed(fn: () => Promise<void>): Promise<number> {
  const start = now();
  await fn();
  return now() - start;
}

/** Runs one workload on a freshly opened adapter and returns its measurement. */
export async function runWorkload(a: Adapter, o: RunOptions): Promise<Measurement> {
  const { n, workload } = o;
  const m = (value: number, extra?: Record<string, number | string>): Measurement => ({
    workload,
    value,
    unit: workload === "latency" ? "ms" : "jobs/s",
    extra,
  });
  switch (workload) {
    case "enqueue-serial": {
      const ms = await timed(async () => {
        for (let i = 0; i < n; i++) await a.add(payload(i));
      });
      await expectRemaining(a, n);
      return m(rate(n, ms), { ms });
    }
    case "enqueue-par": {
      const ms = await timed(() => inParallel(n, o.concurrency, (i) => a.add(payload(i))));
      await expectRemaining(a, n);
      return m(rate(n, ms), { ms });
    }
    case "enqueue-bulk": {
      const ms = await timed(() => enqueueAll(a, n, o.chunk));
      await expectRemaining(a, n);
      return m(rate(n, ms), { ms });
    }
    case "process": {
      await enqueueAll(a, n, o.chunk);
      await expectRemaining(a, n);
      const c = counter(n);
      const ms = await timed(async () => {
        await a.startWorker(c.handler, o.concurrency);
        await drained(a, c.done);
      });
      await a.stopWorker();
      return m(rate(n, ms), { ms, handled: c.calls() });
    }
    case "flow":
      return await runFlow(a, o, m);
    case "latency":
      return await runLatency(a, o, m);
  }
}

async function runFlow(
  a: Adapter,
  o: RunOptions,
  m: (value: number, extra?: Record<string, number | string>) => Measurement,
): Promise<Measurement> {
  const addFlow = a.addFlow?.bind(a);
  if (!addFlow) return { workload: "flow", skipped: "no flows" };
  const parents = Math.max(1, Math.round(o.n / 10));
  const jobs = parents * 11;
  const c = counter(jobs);
  const addMs = await timed(() =>
    inParallel(parents, o.concurrency, (p) => {
      const kids = Array.from({ length: 10 }, (_, k) => payload(parents + p * 10 + k));
      return addFlow(payload(p), kids);
    })
  );
  await expectRemaining(a, jobs);
  const processMs = await timed(async () => {
    await a.startWorker(c.handler, o.concurrency);
    await drained(a, c.done);
  });
  await a.stopWorker();
  const ms = addMs + processMs;
  return m(rate(jobs, ms), { ms, addMs, processMs, parents, jobs, handled: c.calls() });
}

async function runLatency(
  a: Adapter,
  o: RunOptions,
  m: (value: number, extra?: Record<string, number | string>) => Measurement,
): Promise<Measurement> {
  // The idle worker lives in another process when the store allows it, in this one otherwise.
  const waiters = new Map<number, (ms: number) => void>();
  const onStart = (i: number, ms: number) => waiters.get(i)?.(ms);
  let stop: () => Promise<void>;
  if (a.inProcessOnly) {
    await a.startWorker((d) => onStart(d.i, now() - d.t), 1);
    stop = () => a.stopWorker();
  } else {
    stop = await spawnLatencyWorker(o.runId, onStart);
  }
  const samples: number[] = [];
  try {
    for (let i = 0; i < o.warmup + o.samples; i++) {
      const started = new Promise<number>((r) => waiters.set(i, r));
      await a.add(payload(i));
      const ms = await withTimeout(started, SAMPLE_TIMEOUT_MS, `job ${i} did not start`);
      waiters.delete(i);
      if (i >= o.warmup) samples.push(ms);
      await sleep(o.gapMs);
    }
  } finally {
    await stop();
  }
  samples.sort((x, y) => x - y);
  const q = (p: number) => samples[Math.min(samples.length - 1, Math.floor(p * samples.length))];
  const median = samples.length % 2
    ? samples[(samples.length - 1) / 2]
    : (samples[samples.length / 2 - 1] + samples[samples.length / 2]) / 2;
  return m(median, {
    min: samples[0],
    p90: q(0.9),
    max: samples[samples.length - 1],
    samples: samples.length,
    where: a.inProcessOnly ? "same process" : "other process",
  });
}
