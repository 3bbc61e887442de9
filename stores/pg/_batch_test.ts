import assert from "node:assert/strict";
import { createNewJob } from "@conveyor/shared";
import { Coalescer } from "./_batch.ts";
import { pgTest, withStore } from "./_test_utils.ts";

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
