// Faults: the store's connections are killed with pg_terminate_backend. The pool reconnects,
// LISTEN resumes (with a wake-up, since NOTIFYs sent meanwhile were lost), and no job is lost.
import assert from "node:assert/strict";
import { createNewJob, type StoreEvent } from "@conveyor/shared";
import { PgStore } from "./pg_store.ts";
import {
  dropSchema,
  eventually,
  freshSchema,
  namedConnection,
  PG_URL,
  pgTest,
  terminate,
} from "./_test_utils.ts";

pgTest("PgStore survives pg_terminate_backend: LISTEN resumes and no job is lost", async () => {
  const schema = freshSchema();
  const app = `conveyor-test-${crypto.randomUUID().slice(0, 8)}`;
  const errors: Error[] = [];
  // A worker whose connections are all killed, and a producer that is left alone.
  const target = new PgStore({
    connection: namedConnection(app),
    schema,
    onError: (e) => errors.push(e),
  });
  const producer = new PgStore({ connection: PG_URL, schema });
  try {
    await target.connect();
    await producer.connect();
    const seen: StoreEvent[] = [];
    target.subscribe("q", (e) => seen.push(e));
    await producer.saveJob("q", await createNewJob("t", {}, { jobId: "before" }));
    await eventually(() => seen.some((e) => e.jobId === "before"), "the first wake-up");

    assert.ok(await terminate(app) >= 2, "the pool and the LISTEN connection were killed");
    // Added while the LISTEN connection is down: its NOTIFY may be lost, the resync covers it.
    await producer.saveJob("q", await createNewJob("t", {}, { jobId: "during" }));
    await eventually(
      () => seen.some((e) => e.type === "waiting" && e.detail?.resync === true),
      "the resync wake-up after LISTEN resumed",
      5000,
    );
    // LISTEN works again: a new job wakes the store.
    await producer.saveJob("q", await createNewJob("t", {}, { jobId: "after" }));
    await eventually(() => seen.some((e) => e.jobId === "after"), "a wake-up after the resume");

    // The pool reconnected: every job is still there and can be claimed and completed.
    const claimed: string[] = [];
    for (;;) {
      const job = await target.fetchNextJob("q", "w", 10_000);
      if (!job) break;
      assert.equal(await target.completeJob("q", job.id, job.lockToken!, null), true);
      claimed.push(job.id);
    }
    assert.deepEqual(claimed.sort(), ["after", "before", "during"]);
    assert.equal(await producer.countJobs("q", "completed"), 3);
  } finally {
    await target.disconnect();
    await producer.disconnect();
    await dropSchema(schema);
  }
});

pgTest("PgStore rejects a call whose connection dies, and the next call works", async () => {
  const schema = freshSchema();
  const app = `conveyor-test-${crypto.randomUUID().slice(0, 8)}`;
  const store = new PgStore({
    connection: namedConnection(app, { max: 1 }),
    schema,
    listen: false,
  });
  try {
    await store.connect();
    await store.saveJob("q", await createNewJob("t", {}, { jobId: "a" }));
    await terminate(app);
    // The first call after the kill may fail (its connection died) or succeed on a fresh one;
    // either way it rejects cleanly, and the store carries on.
    await store.getJob("q", "a").catch((error) => assert.ok(error instanceof Error));
    assert.equal((await store.getJob("q", "a"))?.id, "a");
    const job = await store.fetchNextJob("q", "w", 10_000);
    assert.equal(await store.completeJob("q", "a", job!.lockToken!, null), true);
  } finally {
    await store.disconnect();
    await dropSchema(schema);
  }
});
