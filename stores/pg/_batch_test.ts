import assert from "node:assert/strict";
import { createNewJob } from "@conveyor/shared";
import { Coalescer } from "./_batch.ts";
import { admin, eventually, PG_URL, pgTest, sleep, withStore } from "./_test_utils.ts";
import { PgStore } from "./pg_store.ts";

Deno.test("Coalescer runs a lone call at once and gathers calls that arrive meanwhile", async () => {
  const batches: number[][] = [];
  const coalescer = new Coalescer<number, number>(async (items) => {
    batches.push(items);
    await new Promise((resolve) => setTimeout(resolve, 5));
    return items.map((i) => i * 10);
  });
  const first = coalescer.push(1);
  const rest = [2, 3, 4].map((i) => coalescer.push(i));
  assert.deepEqual(await Promise.all([first, ...rest]), [10, 20, 30, 40]);
  assert.deepEqual(batches, [[1], [2, 3, 4]]);
  await coalescer.idle();
});

Deno.test("Coalescer rejects every call of a failed batch and carries on", async () => {
  let calls = 0;
  const coalescer = new Coalescer<number, number>((items) => {
    calls++;
    return calls === 1 ? Promise.reject(new Error("boom")) : Promise.resolve(items);
  });
  await assert.rejects(() => coalescer.push(1), /boom/);
  assert.equal(await coalescer.push(2), 2);
});

pgTest("PgStore.completeJob: concurrent completions each get their own answer", async () => {
  await withStore(async (store) => {
    const jobs = await Promise.all(
      Array.from({ length: 40 }, (_, i) => createNewJob("t", { i }, { jobId: `j${i}` })),
    );
    await store.saveBulk("q", jobs);
    const claimed = await store.fetchNextJobs("q", "w", 60_000, 40);
    assert.equal(claimed.length, 40);
    const results = await Promise.all(claimed.flatMap((job, i) => {
      if (i % 4 === 0) return [store.completeJob("q", job.id, "forged", "x")];
      if (i % 4 === 1) {
        // The same completion twice at once: exactly one applies.
        return [
          store.completeJob("q", job.id, job.lockToken!, { i }),
          store.completeJob("q", job.id, job.lockToken!, { i }),
        ];
      }
      return [store.completeJob("q", job.id, job.lockToken!, { i })];
    }));
    let k = 0;
    claimed.forEach((job, i) => {
      if (i % 4 === 0) assert.equal(results[k++], false, `forged token of ${job.id}`);
      else if (i % 4 === 1) {
        assert.deepEqual([results[k], results[k + 1]].sort(), [false, true], `twice ${job.id}`);
        k += 2;
      } else assert.equal(results[k++], true, `completion of ${job.id}`);
    });
    assert.equal(await store.countJobs("q", "completed"), 30);
    assert.equal(await store.countJobs("q", "active"), 10);
    const done = await store.getJob("q", claimed[2].id);
    assert.deepEqual(done?.returnValue, { i: 2 });
    assert.equal(done?.attemptsMade, 1);
  });
});

pgTest(
  "PgStore.saveJob: concurrent saves each get their own answer, duplicates included",
  async () => {
    await withStore(async (store) => {
      const jobs = await Promise.all(
        Array.from({ length: 30 }, (_, i) => createNewJob("t", { i }, { jobId: `j${i % 20}` })),
      );
      const bulk = await Promise.all(
        Array.from({ length: 5 }, (_, i) => createNewJob("t", { i }, { jobId: `b${i}` })),
      );
      const [bulkResults, ...results] = await Promise.all([
        store.saveBulk("q", bulk),
        ...jobs.map((job) => store.saveJob("q", job)),
      ]);
      assert.deepEqual(bulkResults.map((r) => [r.id, r.duplicate]), [
        ["b0", false],
        ["b1", false],
        ["b2", false],
        ["b3", false],
        ["b4", false],
      ]);
      // Jobs 20..29 reuse the ids of 0..9: exactly one save of each id wins.
      for (let i = 0; i < 20; i++) {
        const pair = [results[i], results[i + 20]].filter((r) => r !== undefined);
        assert.ok(pair.every((r) => r.id === `j${i}`), `results carry the id j${i}`);
        if (i < 10) assert.deepEqual(pair.map((r) => r.duplicate).sort(), [false, true]);
        else assert.equal(results[i].duplicate, false);
      }
      assert.equal(await store.countJobs("q", "waiting"), 25);
    });
  },
);

/**
 * One batch of completions mixing plain jobs, flow children, keep policies, deduplication and
 * lost leases; the jobs are claimed through `claimer` (the same store, or another one on the
 * same schema, which leaves the completing store no hint that some are flow children).
 */
async function mixedBatch(store: PgStore, claimer: PgStore): Promise<void> {
  const plain = await Promise.all(
    ["p0", "p1", "p2"].map((id) => createNewJob("t", { id }, { jobId: id })),
  );
  const removed = await createNewJob("t", {}, { jobId: "r0", removeOnComplete: true });
  const kept = await Promise.all(
    ["k0", "k1", "k2"].map((id) => createNewJob("t", {}, { jobId: id, removeOnComplete: 1 })),
  );
  const dedup = { ...await createNewJob("t", {}, { jobId: "d0" }), deduplicationKey: "key" };
  await store.saveBulk("q", [...plain, removed, dedup]);
  // A count keeps that many completed jobs of the whole queue: these go to a queue of their own.
  await store.saveBulk("k", kept);
  const parent = await createNewJob("t", {}, { jobId: "parent" });
  const children = await Promise.all(
    ["c0", "c1"].map((id) => createNewJob("t", {}, { jobId: id })),
  );
  await store.saveFlow([
    ...children.map((c) => ({
      ...c,
      queueName: "q",
      parentId: "parent",
      parentQueueName: "q",
    })),
    { ...parent, queueName: "q", pendingChildrenCount: 2 },
  ]);
  const events: [string, string | undefined][] = [];
  store.subscribe("q", (e) => {
    if (e.type === "completed" || e.type === "waiting") events.push([e.type, e.jobId]);
  });
  const claimed = [
    ...await claimer.fetchNextJobs("q", "w", 60_000, 20),
    ...await claimer.fetchNextJobs("k", "w", 60_000, 20),
  ];
  assert.equal(claimed.length, 10);
  const token = (id: string) => claimed.find((j) => j.id === id)!.lockToken!;
  // Every completion in the same task: the store runs them as one batch.
  const calls: [string, string, string][] = [
    ...claimed.map((j): [string, string, string] => [j.queueName, j.id, j.lockToken!]),
    ["q", "p1", token("p1")], // the same completion twice
    ["q", "p2", "forged"], // and a forged token beside the right one
  ];
  const results = await Promise.all(
    calls.map(([q, id, t]) => store.completeJob(q, id, t, { done: id })),
  );
  const ok = new Map<string, boolean[]>();
  calls.forEach(([, id], i) => ok.set(id, [...ok.get(id) ?? [], results[i]]));
  for (const id of ["p0", "r0", "k0", "k1", "k2", "d0", "c0", "c1"]) {
    assert.deepEqual(ok.get(id), [true], id);
  }
  assert.deepEqual(ok.get("p1")!.sort(), [false, true], "p1 twice");
  assert.deepEqual(ok.get("p2")!.sort(), [false, true], "p2 and a forged token");

  assert.equal(await store.getJob("q", "r0"), null, "removeOnComplete: true removes");
  const keptLeft = await Promise.all(["k0", "k1", "k2"].map((id) => store.getJob("k", id)));
  assert.equal(keptLeft.filter((j) => j !== null).length, 1, "removeOnComplete: 1 keeps one");
  const done = await store.getJob("q", "p0");
  assert.equal(done?.state, "completed");
  assert.deepEqual(done?.returnValue, { done: "p0" });
  assert.equal(done?.attemptsMade, 1);
  assert.equal(done?.lockToken, null);
  const waitingParent = await store.getJob("q", "parent");
  assert.equal(waitingParent?.state, "waiting", "the parent is released by its last child");
  assert.equal(waitingParent?.pendingChildrenCount, 0);
  const again = { ...await createNewJob("t", {}, { jobId: "d1" }), deduplicationKey: "key" };
  assert.deepEqual(await store.saveJob("q", again), { id: "d1", duplicate: false });

  const seen = (type: string, id: string) =>
    events.filter(([t, i]) => t === type && i === id).length;
  await eventually(
    () => seen("completed", "c1") > 0 && seen("waiting", "parent") > 0,
    "events",
  );
  await sleep(50); // room for any duplicate event to arrive
  const completed = events.filter(([t]) => t === "completed").map(([, id]) => id).sort();
  assert.deepEqual(completed, ["c0", "c1", "d0", "p0", "p1", "p2", "r0"]);
  assert.equal(seen("waiting", "parent"), 1);
}

pgTest(
  "PgStore.completeJob: one batch mixing every kind of job, claimed by the same store",
  () => withStore((store) => mixedBatch(store, store)),
);

pgTest(
  "PgStore.completeJob: one batch mixing every kind of job, claimed through another store",
  () =>
    withStore(async (store, schema) => {
      const other = new PgStore({ connection: PG_URL, schema });
      await other.connect();
      try {
        await mixedBatch(store, other);
      } finally {
        await other.disconnect();
      }
    }),
);

for (const removeOnComplete of [false, true]) {
  pgTest(
    `PgStore.completeJob${
      removeOnComplete ? " (removeOnComplete)" : ""
    }: a completion that waits on a re-claim of its job is refused`,
    async () => {
      await withStore(async (store, schema) => {
        await store.saveJob("q", await createNewJob("t", {}, { jobId: "j", removeOnComplete }));
        const job = (await store.fetchNextJob("q", "w", 60_000))!;
        await admin(async (sql) => {
          let completion: Promise<boolean> | undefined;
          // Another transaction takes the job over (as stalled recovery and a new claim would)
          // while the completion runs: the completion found the old row version, waits for this
          // transaction, and must then see that its lease is gone.
          await sql.begin(async (tx) => {
            await tx.unsafe(
              `update "${schema}".jobs set lock_token = 'taken', locked_by = 'other'
               where queue = 'q' and id = 'j'`,
            );
            completion = store.completeJob("q", "j", job.lockToken!, "late");
            await eventually(async () => {
              const [row] = await sql.unsafe(
                `select count(*)::int as n from pg_stat_activity
                 where wait_event_type = 'Lock' and query like $1`,
                [`%"${schema}".jobs%`],
              );
              return row.n > 0;
            }, "the completion to wait for the row lock");
          });
          assert.equal(await completion, false, "the completion of a lost lease is refused");
        });
        const after = (await store.getJob("q", "j"))!;
        assert.equal(after.state, "active");
        assert.equal(after.lockToken, "taken");
        assert.equal(after.returnValue, null);
      });
    },
  );
}
