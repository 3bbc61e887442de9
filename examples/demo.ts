/**
 * The main demo: a small web shop for a few seconds. A producer places orders (some express),
 * a worker charges, packs and ships them with live progress, flaky payments are retried with
 * backoff, declined cards fail at once, slow gateways time out, receipts are e-mailed later
 * (delayed, deduplicated, rate-limited), a cron job snapshots metrics, and a flow assembles the
 * end-of-day report from one child per region. A summary closes the run.
 *
 * Runs on the embedded default store (SQLite, in a scratch file removed at the end).
 *
 * Run: deno task demo   (or: deno run -A examples/demo.ts)
 *
 * @module
 */

import { FlowProducer, JobTimeoutError, Queue, UnrecoverableError, Worker } from "@conveyor/core";
import { SqliteDenoStore } from "@conveyor/store-sqlite-deno";

interface Order {
  order: number;
  customer: string;
  region: "eu" | "us" | "asia";
  amount: number;
  express: boolean;
}

const ORDERS = 600;
const PLACING_MS = 2000;
const tty = Deno.stdout.isTerminal();
const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(timer);
      reject(signal.reason);
    }, { once: true });
  });
const pick = <T>(items: readonly T[]) => items[Math.floor(Math.random() * items.length)];

// ── Setup: the embedded default store, SQLite in a scratch file; swap this line for another ────
const dir = await Deno.makeTempDir({ prefix: "conveyor-demo-" });
const store = new SqliteDenoStore({ filename: `${dir}/demo.db` });
await store.connect();

const orders = new Queue<Order>("orders", { store });
const emails = new Queue<{ to: string; order: number }>("emails", { store });
const reports = new Queue("reports", { store });

// ── State shown on screen ────────────────────────────────────────────────────────────────────
const started = Date.now();
const active = new Map<string, { order: number; step: string; pct: number; express: boolean }>();
const recent: string[] = [];
const addedAt = new Map<string, number>();
const latencies: number[] = [];
const failures = new Map<string, number>();
let placed = 0;
let completed = 0;
let failed = 0;
let retries = 0;
let timeouts = 0;
let duplicates = 0;
let emailsSent = 0;
let snapshots = 0;
let revenue = 0;
const regionRevenue = { eu: 0, us: 0, asia: 0 };
const note = (line: string) => {
  recent.unshift(line);
  recent.length = Math.min(recent.length, 6);
};

// ── Workers ──────────────────────────────────────────────────────────────────────────────────
const STEPS = [["validating", 5], ["charging card", 15], ["packing", 10], ["shipping", 5]] as const;

const orderWorker = new Worker<Order, { shipped: number }>("orders", async (job, signal) => {
  for (let i = 0; i < STEPS.length; i++) {
    const [step, ms] = STEPS[i];
    active.set(job.id, {
      order: job.data.order,
      step,
      pct: (i / STEPS.length) * 100,
      express: job.data.express,
    });
    await job.updateProgress(Math.round((i / STEPS.length) * 100));
    if (step === "charging card") {
      const roll = Math.random();
      if (roll < 0.02) throw new UnrecoverableError("card declined");
      if (roll < 0.10 && job.attemptsMade === 0) throw new Error("payment gateway timeout");
      if (roll < 0.12 && job.attemptsMade === 0) await sleep(5000, signal); // hangs: times out
    }
    await sleep(ms * (0.5 + Math.random()), signal);
  }
  await job.updateProgress(100);
  return { shipped: Date.now() };
}, {
  store,
  concurrency: 24,
});

orderWorker.events.on("progress", ({ detail }) => {
  const entry = active.get(detail.jobId);
  if (entry && typeof detail.progress === "number") entry.pct = detail.progress;
});
orderWorker.events.on("completed", ({ detail }) => {
  active.delete(detail.jobId);
  completed++;
  const order = detail.job.data as Order;
  revenue += order.amount;
  regionRevenue[order.region] += order.amount;
  latencies.push(Date.now() - (addedAt.get(detail.jobId) ?? Date.now()));
  note(
    `✔ order #${order.order} shipped in ${detail.duration} ms${order.express ? " (express)" : ""}`,
  );
  // A receipt a little later; one thank-you mail per customer while one is pending.
  emails.add("receipt", { to: order.customer, order: order.order }, {
    delay: 100 + Math.random() * 300,
  });
  emails.add("thank-you", { to: order.customer, order: order.order }, {
    deduplication: { id: `thanks:${order.customer}` },
    delay: 200,
  }).then((job) => {
    if (job.isDuplicate) duplicates++;
  });
});
orderWorker.events.on("failed", ({ detail }) => {
  active.delete(detail.jobId);
  const order = (detail.job.data as Order).order;
  if (detail.error instanceof JobTimeoutError) timeouts++;
  if (detail.willRetry) {
    retries++;
    note(`↻ order #${order}: ${detail.failedReason}, retry in ${detail.retryDelay} ms`);
  } else {
    failed++;
    const reason = detail.error instanceof JobTimeoutError ? "timed out" : detail.failedReason;
    failures.set(reason, (failures.get(reason) ?? 0) + 1);
    note(`✖ order #${order}: ${detail.failedReason}, not retried`);
  }
});

const emailWorker = new Worker("emails", async () => {
  await sleep(2);
  emailsSent++;
}, { store, concurrency: 8, limiter: { max: 150, duration: 500 } });

const reportWorker = new Worker("reports", async (job) => {
  if (job.name === "metrics-snapshot") {
    snapshots++;
    return { completed, failed };
  }
  if (job.name === "region-sales") {
    await sleep(20);
    return { region: job.data.region, revenue: job.data.revenue };
  }
  const values = await job.getChildrenValues<{ region: string; revenue: number }>();
  return { total: values.reduce((sum, v) => sum + v.revenue, 0), regions: values.length };
}, { store, concurrency: 4 });

for (const worker of [orderWorker, emailWorker, reportWorker]) {
  worker.events.on("error", ({ detail }) => note(`! ${detail.error.message}`));
}

await reports.every("500ms", "metrics-snapshot", null);

// ── Producer ─────────────────────────────────────────────────────────────────────────────────
const customers = Array.from({ length: 150 }, (_, i) => `customer${i}@example.com`);
const producer = (async () => {
  const ticks = PLACING_MS / 20;
  for (let t = 0; t < ticks && placed < ORDERS; t++) {
    const batch = Array.from({ length: Math.min(ORDERS / ticks, ORDERS - placed) }, () => {
      const express = Math.random() < 0.1;
      const data: Order = {
        order: ++placed,
        customer: pick(customers),
        region: pick(["eu", "us", "asia"] as const),
        amount: Math.round(10 + Math.random() * 190),
        express,
      };
      return {
        name: "process-order",
        data,
        opts: {
          priority: express ? 0 : 5,
          attempts: 3,
          backoff: { type: "exponential", delay: 40, jitter: 0.3 },
          timeout: 1000,
        },
      };
    });
    for (const job of await orders.addBulk(batch)) addedAt.set(job.id, Date.now());
    await sleep(20);
  }
})();

// ── Live view ────────────────────────────────────────────────────────────────────────────────
const bar = (pct: number, width = 20) => {
  const full = Math.round((pct / 100) * width);
  return "█".repeat(full) + "░".repeat(width - full);
};
let drawnLines = 0;
async function render(final = false) {
  const [o, e] = await Promise.all([orders.getJobCounts(), emails.getJobCounts()]);
  const secs = (Date.now() - started) / 1000;
  const lines = [
    `Conveyor demo — memory store — ${secs.toFixed(1)} s`,
    "",
    ` orders  ${bar(((completed + failed) / ORDERS) * 100)} ${completed + failed}/${ORDERS}` +
    `  waiting ${o.waiting}  active ${o.active}  delayed ${o.delayed}  failed ${failed}` +
    `  ${Math.round(completed / secs)} orders/s`,
    ` emails  sent ${emailsSent}  waiting ${e.waiting}  delayed ${e.delayed}` +
    `  (rate limit 150 per 500 ms)   metrics snapshots ${snapshots}`,
    "",
    " running now:",
    ...[...active.values()].slice(0, 6).map((a) =>
      `   #${String(a.order).padStart(4, "0")} ${bar(a.pct, 10)} ${
        String(Math.round(a.pct)).padStart(3)
      }% ${a.step}${a.express ? " ⚡" : ""}`
    ),
    ...Array(Math.max(0, 6 - Math.min(active.size, 6))).fill("   ·"),
    "",
    " recent:",
    ...recent.map((line) => `   ${line}`),
    ...Array(6 - recent.length).fill(""),
  ];
  if (tty) {
    const out = (drawnLines ? `\x1b[${drawnLines}A` : "") + lines.map((l) =>
      `\x1b[2K${l}`
    ).join("\n") + "\n";
    Deno.stdout.writeSync(new TextEncoder().encode(out));
    drawnLines = lines.length;
  } else if (final || Math.round(secs * 10) % 5 === 0) {
    console.log(
      `${secs.toFixed(1)} s: ${completed} shipped, ${failed} failed, ${retries} retries, ${
        o.waiting + o.active + o.delayed
      } in flight, ${emailsSent} mails`,
    );
  }
}

const screen = setInterval(() => render(), 100);
await producer;
while (true) {
  const [o, e] = await Promise.all([orders.getJobCounts(), emails.getJobCounts()]);
  if (o.waiting + o.active + o.delayed + e.waiting + e.active + e.delayed === 0) break;
  await sleep(50);
}

// ── End of day: a flow with one child per region, then the report ────────────────────────────
const flow = new FlowProducer({ store });
const report = await flow.add({
  name: "daily-report",
  queueName: "reports",
  data: { day: new Date().toISOString().slice(0, 10) },
  children: (["eu", "us", "asia"] as const).map((region) => ({
    name: "region-sales",
    queueName: "reports",
    data: { region, revenue: regionRevenue[region] },
  })),
});
const daily = await report.job.waitUntilFinished() as { total: number; regions: number };
clearInterval(screen);
await render(true);

await reports.removeRepeatable("metrics-snapshot");
await Promise.all([orderWorker.close(), emailWorker.close(), reportWorker.close()]);
await Promise.all([orders.close(), emails.close(), reports.close()]);
await store.disconnect();
await Deno.remove(dir, { recursive: true });

// ── Summary ──────────────────────────────────────────────────────────────────────────────────
latencies.sort((a, b) => a - b);
const pct = (p: number) =>
  latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))] ?? 0;
const elapsed = (Date.now() - started) / 1000;
console.log(`
Summary (${elapsed.toFixed(1)} s)
  orders placed        ${placed}
  shipped              ${completed}   (revenue $${revenue.toLocaleString("en-US")})
  failed for good      ${failed}   ${[...failures].map(([r, n]) => `${r}: ${n}`).join(", ")}
  retries              ${retries}   (of which timeouts: ${timeouts})
  order latency        p50 ${pct(0.5)} ms, p95 ${pct(0.95)} ms (added → shipped, incl. retries)
  e-mails sent         ${emailsSent}   (thank-you mails deduplicated: ${duplicates})
  metric snapshots     ${snapshots}   (cron every 500 ms)
  daily report (flow)  ${daily.regions} regions, total $${daily.total.toLocaleString("en-US")}
`);
