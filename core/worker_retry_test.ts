import assert from "node:assert/strict";
import { JobTimeoutError, UnrecoverableError } from "@conveyor/shared";
import { type Clock, fakeTime, newStore, settle } from "./_test_util.ts";
import type { WorkerFailedDetail } from "./events.ts";
import { Queue } from "./queue.ts";
import { Worker } from "./worker.ts";
import type { BackoffStrategy, Processor } from "./worker_options.ts";
import type { MemoryStore } from "@conveyor/store-memory";

interface Harness {
  clock: Clock;
  store: MemoryStore;
  queue: Queue;
  worker: Worker;
  starts: number[];
  failures: WorkerFailedDetail[];
  close(): Promise<void>;
}

async function harness(
  processor: Processor,
  backoffStrategies?: Record<string, BackoffStrategy>,
): Promise<Harness> {
  const clock = fakeTime();
  const store = await newStore();
  const queue = new Queue("q", { store });
  const starts: number[] = [];
  const worker = new Worker("q", (job, signal) => {
    starts.push(Date.now());
    return processor(job, signal);
  }, { store, pollInterval: 60_000, ...(backoffStrategies ? { backoffStrategies } : {}) });
  const failures: WorkerFailedDetail[] = [];
  worker.events.on("failed", (e) => {
    failures.push(e.detail);
  });
  return {
    clock,
    store,
    queue,
    worker,
    starts,
    failures,
    async close() {
      await worker.close();
      await queue.close();
      await store.disconnect();
      clock.uninstall();
    },
  };
}

Deno.test("Worker retries a failed job with fixed backoff", async () => {
  let runs = 0;
  const h = await harness(() => {
    if (++runs < 3) throw new Error(`attempt ${runs} failed`);
    return "ok";
  });
  const delayed: number[] = [];
  h.worker.events.on("delayed", (e) => {
    delayed.push(e.detail.delay);
  });
  try {
    const t0 = Date.now();
    const job = await h.queue.add("x", null, { attempts: 3, backoff: 1000 });
    await h.clock.tickAsync(2000);
    await settle(h.clock, () => h.starts.length === 3);
    assert.equal(await job.waitUntilFinished(), "ok");
    assert.deepEqual(h.starts.map((t) => t - t0), [0, 1000, 2000]);
    assert.deepEqual(h.failures.map((f) => [f.attemptsMade, f.willRetry, f.retryDelay]), [
      [1, true, 1000],
      [2, true, 1000],
    ]);
    assert.deepEqual(delayed, [1000, 1000]);
    const stored = await h.queue.getJob(job.id);
    assert.equal(stored?.attemptsMade, 3);
    assert.equal(stored?.stacktrace.length, 2);
  } finally {
    await h.close();
  }
});

Deno.test("Worker retries a failed job with exponential backoff", async () => {
  const h = await harness(() => {
    throw new Error("still failing");
  });
  try {
    const t0 = Date.now();
    const job = await h.queue.add("x", null, {
      attempts: 4,
      backoff: { type: "exponential", delay: 100 },
    });
    await h.clock.tickAsync(1000);
    await assert.rejects(() => job.waitUntilFinished(), {
      name: "JobFailedError",
      message: /failed: still failing/,
    });
    assert.deepEqual(h.starts.map((t) => t - t0), [0, 100, 300, 700]);
    assert.deepEqual(h.failures.map((f) => f.retryDelay), [100, 200, 400, undefined]);
    assert.equal(h.failures.at(-1)?.willRetry, false);
    assert.equal(await job.getState(), "failed");
  } finally {
    await h.close();
  }
});

Deno.test("Worker applies backoff jitter within its bounds", async () => {
  const h = await harness(() => {
    throw new Error("no");
  });
  try {
    for (let i = 0; i < 20; i++) {
      await h.queue.add("x", i, {
        attempts: 2,
        backoff: { type: "exponential", delay: 1000, jitter: 0.5 },
      });
    }
    await settle(h.clock, () => h.failures.length === 20);
    const delays = h.failures.map((f) => f.retryDelay!);
    assert.ok(delays.every((d) => d >= 500 && d <= 1000), `delays in [500, 1000]: ${delays}`);
    assert.ok(new Set(delays).size > 1, "jitter spreads the delays");
  } finally {
    await h.close();
  }
});

Deno.test("Worker uses a custom backoff strategy registered by name", async () => {
  const calls: [number, string][] = [];
  const h = await harness(() => {
    throw new Error("flaky");
  }, {
    linear: (attemptsMade, error) => {
      calls.push([attemptsMade, error.message]);
      return attemptsMade < 3 ? attemptsMade * 250 : -1;
    },
  });
  try {
    const t0 = Date.now();
    const job = await h.queue.add("x", null, { attempts: 10, backoff: { type: "linear" } });
    await h.clock.tickAsync(1000);
    await assert.rejects(() => job.waitUntilFinished());
    assert.deepEqual(h.starts.map((t) => t - t0), [0, 250, 750]);
    assert.deepEqual(calls, [[1, "flaky"], [2, "flaky"], [3, "flaky"]]);
    assert.deepEqual(h.failures.map((f) => f.willRetry), [true, true, false]);
  } finally {
    await h.close();
  }
});

Deno.test("Worker fails a job whose backoff strategy it does not know, and reports why", async () => {
  const h = await harness(() => {
    throw new Error("boom");
  });
  const errors: string[] = [];
  h.worker.events.on("error", (e) => {
    errors.push(e.detail.error.message);
  });
  try {
    const job = await h.queue.add("x", null, { attempts: 3, backoff: { type: "mystery" } });
    await assert.rejects(() => job.waitUntilFinished(), { message: /boom/ });
    assert.equal(h.starts.length, 1);
    assert.match(errors[0], /backoff strategy "mystery", which this worker does not know/);
  } finally {
    await h.close();
  }
});

Deno.test("Worker does not retry a job that throws UnrecoverableError", async () => {
  const h = await harness(() => {
    throw new UnrecoverableError("bad input");
  });
  try {
    const job = await h.queue.add("x", null, { attempts: 5, backoff: 10 });
    await assert.rejects(() => job.waitUntilFinished(), { message: /bad input/ });
    assert.equal(h.starts.length, 1);
    assert.equal(h.failures[0].willRetry, false);
    assert.equal((await h.queue.getJob(job.id))?.attemptsMade, 1);
  } finally {
    await h.close();
  }
});

Deno.test("Worker aborts the processor's signal when a job times out and fails the attempt", async () => {
  let reason: unknown;
  const h = await harness((_job, signal) =>
    new Promise((_resolve, reject) => {
      signal.addEventListener("abort", () => {
        reason = signal.reason;
        reject(signal.reason);
      });
    })
  );
  try {
    const job = await h.queue.add("slow", null, { timeout: 500, attempts: 2 });
    await h.clock.tickAsync(499);
    assert.equal(h.failures.length, 0);
    await h.clock.tickAsync(1);
    await settle(h.clock, () => h.failures.length === 1);
    assert.ok(reason instanceof JobTimeoutError);
    assert.ok(h.failures[0].error instanceof JobTimeoutError);
    assert.equal(h.failures[0].failedReason, `Job "${job.id}" timed out after 500 ms`);
    await h.clock.tickAsync(500);
    await assert.rejects(() => job.waitUntilFinished(), { message: /timed out after 500 ms/ });
    assert.equal(h.starts.length, 2);
  } finally {
    await h.close();
  }
});

Deno.test("Worker fails a timed-out job even when the processor ignores its signal", async () => {
  const h = await harness(() => new Promise(() => {}));
  try {
    const job = await h.queue.add("stuck", null, { timeout: 100 });
    await h.clock.tickAsync(100);
    await assert.rejects(() => job.waitUntilFinished(), { name: "JobFailedError" });
    assert.equal(h.worker.activeCount, 0, "the slot is free again");
  } finally {
    await h.close();
  }
});

Deno.test("Worker sets no timer for jobs without a timeout", async () => {
  const h = await harness(() => "ok");
  try {
    const job = await h.queue.add("x", null);
    await job.waitUntilFinished();
    // poll + stalled-check timers only (the lease timer ends when nothing runs)
    await h.clock.tickAsync(0);
    assert.ok(h.clock.countTimers() <= 3, `timers: ${h.clock.countTimers()}`);
  } finally {
    await h.close();
  }
});
