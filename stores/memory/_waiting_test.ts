import assert from "node:assert/strict";
import type { JobData } from "@conveyor/shared";
import { heapStats } from "./_heap.ts";
import type { Rec } from "./_queue.ts";
import { WaitingIndex } from "./_waiting.ts";
import { MemoryStore } from "./mod.ts";
import { newJob } from "./_test_util.ts";

/** A bare waiting record: only the fields the index reads. */
function waitingRec(seq: number, fields: Partial<JobData> = {}): Rec {
  const job = {
    id: `j${seq}`,
    name: "task",
    priority: 0,
    groupId: null,
    state: "waiting",
    seq,
    ...fields,
  } as JobData;
  return { job, gen: 1, order: seq, counted: null };
}

function indexOf(n: number, paused = new Set<string>()): WaitingIndex {
  const index = new WaitingIndex((name) => paused.has(name));
  for (let i = 1; i <= n; i++) index.add(waitingRec(i, { priority: i % 10 }));
  return index;
}

/** Take the next job as a claim would, and count the heap comparisons it cost. */
function claimCost(index: WaitingIndex, groupLimit?: number): { rec: Rec | null; cost: number } {
  const before = heapStats.compares;
  const rec = index.next(groupLimit);
  if (rec) {
    rec.gen++;
    rec.job.state = "active";
  }
  return { rec, cost: heapStats.compares - before };
}

Deno.test("WaitingIndex claim from 1,000,000 waiting jobs costs about what it costs from 1,000", () => {
  const small = indexOf(1_000);
  const large = indexOf(1_000_000);
  let smallCost = 0;
  let largeCost = 0;
  for (let i = 0; i < 100; i++) {
    smallCost += claimCost(small).cost;
    largeCost += claimCost(large).cost;
  }
  // A heap pop is O(log n): log2(1e6) / log2(1e3) = 2. A scan would be 1000 times dearer.
  assert.ok(largeCost <= 2.5 * smallCost, `1e3: ${smallCost} compares, 1e6: ${largeCost}`);
  assert.ok(largeCost / 100 <= 2 * 20 + 5, `${largeCost / 100} compares per claim`);
});

Deno.test("MemoryStore fetchNextJob cost grows with log n, not n", async () => {
  async function costPerFetch(n: number): Promise<number> {
    const store = new MemoryStore();
    const jobs = Array.from({ length: n }, (_, i) => newJob(`j${i}`, { priority: i % 5 }));
    for (let i = 0; i < n; i += 10_000) await store.saveBulk("q", jobs.slice(i, i + 10_000));
    const before = heapStats.compares;
    for (let i = 0; i < 50; i++) await store.fetchNextJob("q", "w", 1000);
    return (heapStats.compares - before) / 50;
  }
  const small = await costPerFetch(1_000);
  const large = await costPerFetch(100_000);
  assert.ok(large <= 2.5 * small, `1e3: ${small} compares per fetch, 1e5: ${large}`);
});

Deno.test("WaitingIndex sets jobs of a paused name aside once, not on every claim", () => {
  const paused = new Set(["bulk"]);
  const index = new WaitingIndex((name) => paused.has(name));
  for (let i = 1; i <= 10_000; i++) index.add(waitingRec(i, { name: i <= 5000 ? "tmp" : "bulk" }));
  paused.add("tmp");
  for (let i = 10_001; i <= 10_010; i++) index.add(waitingRec(i, { name: "other", priority: 1 }));
  const first = claimCost(index);
  assert.equal(first.rec?.job.name, "other");
  // Later claims no longer meet the 5,000 "tmp" jobs that were ahead of "other".
  const second = claimCost(index);
  assert.equal(second.rec?.job.name, "other");
  assert.ok(second.cost < 50, `second claim cost ${second.cost} compares`);
  assert.equal(index.parked.get("tmp")?.size, 5000);
  // Jobs added while paused go straight aside.
  assert.equal(index.parked.get("bulk")?.size, 5000);
  paused.delete("tmp");
  index.resumeName("tmp");
  assert.equal(index.parked.has("tmp"), false);
  assert.equal(claimCost(index).rec?.job.id, "j1");
});

Deno.test("WaitingIndex sets a group at its limit aside until one of its jobs stops", () => {
  const index = new WaitingIndex(() => false);
  const g = index.group("g");
  for (let i = 1; i <= 10_000; i++) {
    index.add(waitingRec(i, { groupId: "g" }));
    g.waiting++;
  }
  for (let i = 10_001; i <= 10_005; i++) index.add(waitingRec(i, { priority: 1 }));
  const first = claimCost(index, 1);
  assert.equal(first.rec?.job.id, "j1");
  g.waiting--;
  g.active++;
  const second = claimCost(index, 1);
  assert.equal(second.rec?.job.id, "j10001");
  assert.equal(g.saturated, true);
  const third = claimCost(index, 1);
  assert.equal(third.rec?.job.id, "j10002");
  assert.ok(third.cost < 20, `a claim after the group was set aside cost ${third.cost}`);
  g.active--;
  index.slotFreed(g);
  assert.equal(claimCost(index, 1).rec?.job.id, "j2");
});

Deno.test("MemoryStore brings a saturated group back when its active job finishes", async () => {
  const store = new MemoryStore();
  await store.saveBulk("q", [
    newJob("g1", { groupId: "g" }),
    newJob("g2", { groupId: "g" }),
    newJob("x", { priority: 3 }),
  ]);
  const opts = { groupConcurrency: 1 };
  const g1 = (await store.fetchNextJob("q", "w", 1000, opts))!;
  assert.equal((await store.fetchNextJob("q", "w", 1000, opts))?.id, "x");
  assert.equal(await store.fetchNextJob("q", "w", 1000, opts), null);
  await store.failJob("q", "g1", g1.lockToken!, { failedReason: "x", retryDelay: 0 });
  assert.equal((await store.fetchNextJob("q", "w", 1000, opts))?.id, "g1");
  assert.equal(await store.fetchNextJob("q", "w", 1000, opts), null);
});

Deno.test("MemoryStore lets a claim with a higher group limit take from a group set aside", async () => {
  const store = new MemoryStore();
  await store.saveBulk("q", [newJob("g1", { groupId: "g" }), newJob("g2", { groupId: "g" })]);
  await store.fetchNextJob("q", "w", 1000, { groupConcurrency: 1 });
  assert.equal(await store.fetchNextJob("q", "w", 1000, { groupConcurrency: 1 }), null);
  assert.equal((await store.fetchNextJob("q", "w2", 1000, { groupConcurrency: 2 }))?.id, "g2");
  await store.saveJob("q", newJob("g3", { groupId: "g" }));
  assert.equal(await store.fetchNextJob("q", "w2", 1000, { groupConcurrency: 2 }), null);
  assert.equal((await store.fetchNextJob("q", "w3", 1000))?.id, "g3");
});

Deno.test("WaitingIndex drops stale entries when removed jobs outnumber live ones", () => {
  const index = indexOf(10_000);
  const recs = [...index.records()];
  for (const rec of recs.slice(0, 9_000)) {
    rec.gen++;
    rec.job.state = "completed";
  }
  index.compact(1_000);
  assert.equal(index.main.size, 1_000);
  assert.equal([...index.records()].length, 1_000);
});

Deno.test("MemoryStore keeps counters and indexes exact under random operations", async () => {
  let seed = 12345;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  const clock = { now: 0 };
  const store = new MemoryStore({ clock: () => clock.now });
  const names = ["a", "b", "c"];
  const groups = [undefined, "g1", "g2"];
  const tokens = new Map<string, string>();
  let next = 0;
  for (let step = 0; step < 3000; step++) {
    clock.now += rand(3);
    const op = rand(10);
    if (op < 3) {
      const id = `j${next++}`;
      const opts = {
        priority: rand(3),
        lifo: rand(4) === 0,
        delay: rand(5) === 0 ? rand(20) : 0,
        ...(groups[rand(3)] ? { groupId: groups[rand(3)] ?? "g1" } : {}),
      };
      await store.saveJob("q", { id, name: names[rand(3)], data: {}, opts });
    } else if (op < 5) {
      const opts = rand(2) ? { groupConcurrency: 1 + rand(2) } : {};
      for (const job of await store.fetchNextJobs("q", "w", 50, 1 + rand(3), opts)) {
        assert.ok(!tokens.has(job.id), `job ${job.id} leased twice`);
        tokens.set(job.id, job.lockToken!);
      }
    } else if (op < 7 && tokens.size > 0) {
      const [id, token] = [...tokens][rand(tokens.size)];
      tokens.delete(id);
      const r = rand(4);
      if (r === 0) await store.completeJob("q", id, token, null);
      else if (r === 1) await store.releaseLock("q", id, token);
      else {await store.failJob("q", id, token, {
          failedReason: "x",
          retryDelay: [null, 0, 5][rand(3)],
        });}
    } else if (op === 7) {
      const name = names[rand(3)];
      if (rand(2)) await store.pauseJobName("q", name);
      else await store.resumeJobName("q", name);
    } else if (op === 8) {
      await store.promoteDelayedJobs("q");
      const id = `j${rand(next + 1)}`;
      const job = await store.getJob("q", id);
      if (job && job.state !== "active") await store.removeJob("q", id);
    } else {
      clock.now += 30;
      const { recovered, failed } = await store.recoverStalledJobs("q", 1);
      for (const id of [...recovered, ...failed]) tokens.delete(id);
    }
    // Counters agree with the jobs themselves.
    if (step % 100 === 99) {
      const all = await store.listJobs("q", undefined, { limit: 1_000_000 });
      for (const state of ["waiting", "delayed", "active", "completed", "failed"] as const) {
        assert.equal(
          await store.countJobs("q", state),
          all.filter((j) => j.state === state).length,
        );
      }
      for (const g of ["g1", "g2"]) {
        const mine = all.filter((j) => j.groupId === g);
        assert.equal(
          await store.getGroupActiveCount("q", g),
          mine.filter((j) => j.state === "active").length,
        );
        assert.equal(
          await store.getWaitingGroupCount("q", g),
          mine.filter((j) => j.state === "waiting").length,
        );
      }
    }
  }
  // Once everything is resumed and due, every waiting job is claimable, each exactly once.
  for (const name of names) await store.resumeJobName("q", name);
  clock.now += 1000;
  await store.promoteDelayedJobs("q");
  const waiting = (await store.listJobs("q", "waiting", { limit: 1_000_000 })).map((j) => j.id);
  const claimed = (await store.fetchNextJobs("q", "w", 50, 1_000_000)).map((j) => j.id);
  assert.deepEqual([...claimed].sort(), [...waiting].sort());
  assert.equal(await store.countJobs("q", "waiting"), 0);
});
