import assert from "node:assert/strict";
import { deferred, fakeTime, newStore, settle, withOverrides } from "./_test_util.ts";
import type { Job } from "./job.ts";
import { Queue } from "./queue.ts";
import { Worker } from "./worker.ts";
import { enqueueNextRun, nextSlot, registryQueueName } from "./_scheduler.ts";

const T0 = Date.UTC(2026, 0, 1, 0, 0, 0); // Thursday, 1 January 2026, 00:00 UTC

Deno.test("nextSlot follows cron patterns in their time zone and every-intervals on the epoch grid", () => {
  assert.equal(nextSlot({ pattern: "0 3 * * *", tz: "Europe/Paris" }, T0), Date.UTC(2026, 0, 1, 2));
  assert.equal(
    nextSlot({ pattern: "0 3 * * *", tz: "America/New_York" }, T0),
    Date.UTC(2026, 0, 1, 8),
  );
  assert.equal(nextSlot({ pattern: "*/10 * * * * *" }, T0), T0 + 10_000);
  assert.equal(nextSlot({ every: 5000 }, T0 + 1234), T0 + 5000);
  assert.equal(nextSlot({ every: 5000 }, T0 + 5000), T0 + 10_000, "strictly after");
});

Deno.test("Queue.cron enqueues a delayed run at the next slot of its time zone", async () => {
  const clock = fakeTime(T0);
  const store = await newStore();
  const queue = new Queue("reports", { store });
  try {
    const info = await queue.cron("0 3 * * *", "nightly", { full: true }, { tz: "Europe/Paris" });
    const slot = Date.UTC(2026, 0, 1, 2);
    assert.deepEqual(info, {
      key: "nightly",
      name: "nightly",
      pattern: "0 3 * * *",
      tz: "Europe/Paris",
      count: 1,
      next: slot,
    });
    const [run] = await queue.listJobs("delayed");
    assert.equal(run.id, `repeat:nightly:${slot}`);
    assert.equal(run.delayUntil, slot);
    assert.deepEqual(run.data, { full: true });
    assert.equal(run.opts.repeat?.slot, slot);
  } finally {
    await queue.close();
    await store.disconnect();
    clock.uninstall();
  }
});

Deno.test("Queue.cron registered again at start-up does not duplicate the schedule", async () => {
  const clock = fakeTime(T0);
  const store = await newStore();
  try {
    for (let restart = 0; restart < 3; restart++) {
      const queue = new Queue("q", { store });
      await queue.cron("*/5 * * * *", "tick", null, { attempts: 2 });
      await queue.close();
      await clock.tickAsync(1000);
    }
    const queue = new Queue("q", { store });
    assert.equal(await queue.countJobs(), 1);
    assert.equal((await queue.listRepeatables()).length, 1);
    await queue.close();
  } finally {
    await store.disconnect();
    clock.uninstall();
  }
});

Deno.test("Queue.cron with a changed pattern or payload replaces the schedule", async () => {
  const clock = fakeTime(T0);
  const store = await newStore();
  const queue = new Queue("q", { store });
  try {
    await queue.cron("0 * * * *", "sync", { v: 1 });
    const info = await queue.cron("*/15 * * * *", "sync", { v: 2 });
    assert.equal(info.pattern, "*/15 * * * *");
    assert.equal(info.next, T0 + 15 * 60_000);
    const jobs = await queue.listJobs("delayed");
    assert.deepEqual(jobs.map((j) => [j.id, j.data]), [[`repeat:sync:${T0 + 900_000}`, { v: 2 }]]);
    assert.equal((await queue.listRepeatables())[0].pattern, "*/15 * * * *");
  } finally {
    await queue.close();
    await store.disconnect();
    clock.uninstall();
  }
});

Deno.test("Worker runs one job per cron slot across workers and enqueues the next when a run starts", async () => {
  const clock = fakeTime(T0);
  const store = await newStore();
  const queue = new Queue("q", { store });
  const runs: number[] = [];
  const processor = (job: Job) => {
    runs.push(job.opts.repeat!.slot);
  };
  const workers = [1, 2, 3].map(() =>
    new Worker("q", processor, { store, concurrency: 2, pollInterval: 60_000 })
  );
  try {
    await queue.cron("*/10 * * * * *", "beat", null);
    await clock.tickAsync(35_000);
    await settle(clock, () => runs.length === 3);
    assert.deepEqual(runs, [T0 + 10_000, T0 + 20_000, T0 + 30_000]);
    const pending = await queue.listJobs("delayed");
    assert.deepEqual(pending.map((j) => j.id), [`repeat:beat:${T0 + 40_000}`]);
    assert.equal((await queue.listRepeatables())[0].count, 4);
  } finally {
    await Promise.all(workers.map((w) => w.close()));
    await queue.close();
    await store.disconnect();
    clock.uninstall();
  }
});

Deno.test("Worker keeps a schedule going when a run fails", async () => {
  const clock = fakeTime(T0);
  const store = await newStore();
  const queue = new Queue("q", { store });
  let runs = 0;
  const worker = new Worker("q", () => {
    runs++;
    throw new Error("run failed");
  }, { store, pollInterval: 60_000 });
  try {
    await queue.every("1m", "flaky", null);
    await clock.tickAsync(3 * 60_000);
    await settle(clock, () => runs === 3);
    assert.equal(await queue.countJobs("failed"), 3);
    assert.equal(await queue.countJobs("delayed"), 1);
  } finally {
    await worker.close();
    await queue.close();
    await store.disconnect();
    clock.uninstall();
  }
});

Deno.test("Queue.every stops after `limit` runs and after `endDate`", async () => {
  const clock = fakeTime(T0);
  const store = await newStore();
  const queue = new Queue("q", { store });
  let runs = 0;
  const worker = new Worker("q", () => {
    runs++;
  }, { store, pollInterval: 60_000 });
  try {
    await queue.every(1000, "limited", null, { limit: 3 });
    await queue.every("1s", "ending", null, { endDate: new Date(T0 + 2000) });
    await clock.tickAsync(10_000);
    await settle(clock, () => runs === 5);
    const done = await queue.listJobs("completed", { limit: 100 });
    assert.equal(done.filter((j) => j.name === "limited").length, 3);
    assert.equal(done.filter((j) => j.name === "ending").length, 2);
    assert.equal(await queue.countJobs("delayed"), 0);
    const infos = await queue.listRepeatables();
    assert.deepEqual(infos.map((i) => [i.key, i.count, i.next]), [
      ["ending", 2, null],
      ["limited", 3, null],
    ]);
  } finally {
    await worker.close();
    await queue.close();
    await store.disconnect();
    clock.uninstall();
  }
});

Deno.test("Queue.removeRepeatable removes the schedule, and a run in progress does not revive it", async () => {
  const clock = fakeTime(T0);
  const store = await newStore();
  const queue = new Queue("q", { store });
  const gate = deferred();
  const started = deferred();
  const worker = new Worker("q", async () => {
    started.resolve();
    await gate.promise;
  }, { store, pollInterval: 60_000 });
  try {
    await queue.every("10s", "job", null, { key: "k" });
    await queue.every("10s", "other", null);
    await clock.tickAsync(10_000);
    await started.promise;
    assert.equal(await queue.removeRepeatable("k"), true);
    assert.equal(await queue.removeRepeatable("k"), false);
    gate.resolve();
    await clock.tickAsync(30_000);
    const names = (await queue.listJobs()).filter((j) => j.state !== "completed").map((j) =>
      j.name
    );
    assert.ok(!names.includes("job"), `no pending run of the removed schedule: ${names}`);
    assert.deepEqual((await queue.listRepeatables()).map((i) => i.key), ["other"]);
  } finally {
    await worker.close();
    await queue.close();
    await store.disconnect();
    clock.uninstall();
  }
});

Deno.test("Queue.cron re-seeds a schedule whose pending run was removed", async () => {
  const clock = fakeTime(T0);
  const store = await newStore();
  const queue = new Queue("q", { store });
  try {
    const info = await queue.every("1h", "hourly", null);
    await queue.removeJob(`repeat:hourly:${info.next}`);
    assert.equal(await queue.countJobs(), 0);
    const again = await queue.every("1h", "hourly", null);
    assert.equal(again.next, info.next);
    assert.equal(await queue.countJobs("delayed"), 1);
  } finally {
    await queue.close();
    await store.disconnect();
    clock.uninstall();
  }
});

Deno.test("Queue.cron and every refuse bad patterns, time zones and options", async () => {
  const store = await newStore();
  const queue = new Queue("q", { store });
  await assert.rejects(() => queue.cron("every day", "x", null), {
    name: "RangeError",
    message: /^Cannot schedule job "x": invalid cron pattern "every day"/,
  });
  await assert.rejects(() => queue.cron("0 3 * * *", "x", null, { tz: "Mars/Olympus" }), {
    name: "RangeError",
    message: /time zone "Mars\/Olympus"/,
  });
  await assert.rejects(() => queue.cron("", "x", null), { name: "TypeError" });
  await assert.rejects(() => queue.every(0, "x", null), { name: "RangeError" });
  await assert.rejects(() => queue.every("1m", "x", null, { tz: "UTC" }), { name: "TypeError" });
  await assert.rejects(() => queue.every("1m", "x", null, { jobId: "j" } as never), {
    message: /option "jobId" cannot be used with a repeat schedule/,
  });
  await assert.rejects(() => queue.every("1m", "x", null, { limit: 0 }), { name: "RangeError" });
  await assert.rejects(() => queue.every("1m", "x", null, { key: "" }), { name: "RangeError" });
  await assert.rejects(() => queue.every("1m", "x", () => 1), { name: "TypeError" });
  assert.deepEqual(await queue.listRepeatables(), []);
  await queue.close();
  await store.disconnect();
});

Deno.test("enqueueNextRun takes its run back when the schedule is removed meanwhile", async () => {
  const clock = fakeTime(T0);
  const store = await newStore();
  const queue = new Queue("q", { store });
  try {
    const info = await queue.every("1h", "hourly", null);
    const racing = withOverrides(store, {
      saveJob: async (...args: Parameters<typeof store.saveJob>) => {
        const result = await store.saveJob(...args);
        if (args[0] === "q") await store.removeJob(registryQueueName("q"), "hourly");
        return result;
      },
    });
    clock.tick(3_600_000);
    assert.equal(await enqueueNextRun(racing, "q", "hourly", info.next!), null);
    const pending = await queue.listJobs("delayed");
    assert.deepEqual(pending.map((j) => j.id), [`repeat:hourly:${info.next}`]);
  } finally {
    await queue.close();
    await store.disconnect();
    clock.uninstall();
  }
});
