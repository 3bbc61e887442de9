import assert from "node:assert/strict";
import { Claimer } from "./_claim.ts";
import type { Db, Row } from "./_db.ts";

/** A stand-in for the pool: every statement waits until the test answers it. */
function gatedDb() {
  const calls: { params: unknown[]; answer: (rows: Row[]) => void }[] = [];
  const db = {
    origin: "~test",
    schema: "s",
    query: (_statement: unknown, params: unknown[]) =>
      new Promise<Row[]>((answer) => calls.push({ params, answer })),
  } as unknown as Db;
  return { db, calls };
}

const noPipeline = () => Promise.reject(new Error("no limited claims here"));

Deno.test("Claimer runs two claims of one queue at once and coalesces what comes meanwhile", async () => {
  const { db, calls } = gatedDb();
  const claimer = new Claimer();
  const claim = (count: number) => claimer.claim(db, noPipeline, "q", "w", 1000, count, {});
  const first = claim(5);
  const second = claim(3);
  await Promise.resolve();
  // Both went out at once, each as its own statement ($4 is the count).
  assert.deepEqual(calls.map((c) => c.params[3]), [5, 3]);
  const third = claim(2);
  const fourth = claim(4);
  await Promise.resolve();
  assert.equal(calls.length, 2, "a third claim waits while two run");
  calls[1].answer([]);
  assert.deepEqual(await second, { jobs: [], events: [] });
  // The two that waited go together, as one statement.
  await Promise.resolve();
  assert.deepEqual(calls.map((c) => c.params[3]), [5, 3, 6]);
  calls[0].answer([]);
  calls[2].answer([]);
  assert.deepEqual(await Promise.all([first, third, fourth]).then((r) => r.length), 3);
  await claimer.idle();
});
