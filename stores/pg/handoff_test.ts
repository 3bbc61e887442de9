// Hand-off: a worker whose claim came back empty (with `handoff: true`) leaves an offer; the next
// single add of that queue leases its job to the offering worker in the insert itself, and the
// worker's next fetch takes it without a claim. Every case where that would be wrong falls back
// to an ordinary waiting job.
import assert from "node:assert/strict";
import postgres from "postgres";
import { createNewJob, type JobData, type NewJob } from "@conveyor/shared";
import { PgStore } from "./pg_store.ts";
import { channelOf } from "./_db.ts";
import {
  admin,
  dropSchema,
  eventually,
  freshSchema,
  namedConnection,
  PG_URL,
  pgTest,
  terminate,
} from "./_test_utils.ts";

const LEASE = 30_000;
const OFFER = { handoff: true };

/** Two stores on one fresh schema: `worker` offers, `producer` adds. */
async function withPair(
  fn: (worker: PgStore, producer: PgStore, schema: string) => Promise<void>,
): Promise<void> {
  const schema = freshSchema();
  const worker = new PgStore({ connection: PG_URL, schema });
  const producer = new PgStore({ connection: PG_URL, schema });
  try {
    await worker.connect();
    await producer.connect();
    await fn(worker, producer, schema);
  } finally {
    await worker.disconnect();
    await producer.disconnect();
    await dropSchema(schema);
  }
}

function job(id: string, data: unknown = { n: 1 }, opts = {}): Promise<NewJob> {
  return createNewJob("t", data, { jobId: id, ...opts });
}

/** The job's row as the database has it (not through either store). */
async function row(
  schema: string,
  id: string,
): Promise<{ state: string; locked_by: string | null }> {
  const [r] = await admin((sql) =>
    sql.unsafe(`select state, locked_by from "${schema}".jobs where queue = 'q' and id = $1`, [id])
  );
  return r as unknown as { state: string; locked_by: string | null };
}

/** Save `newJob` in a caller's transaction (never handed off). */
async function inTransaction(store: PgStore, newJob: NewJob): Promise<void> {
  await admin((sql) =>
    sql.begin(async (tx) => {
      await store.withTransaction(tx as never).saveJob("q", newJob);
    })
  );
}

async function offer(worker: PgStore, workerId = "w1"): Promise<void> {
  assert.deepEqual(await worker.fetchNextJobs("q", workerId, LEASE, 10, OFFER), []);
}

pgTest("hand-off: an add after an empty claim is leased to the offering worker", async () => {
  await withPair(async (worker, producer, schema) => {
    const woken: string[] = [];
    worker.subscribe("q", (e) => {
      if (e.type === "waiting" && e.jobId) woken.push(e.jobId);
    });
    await offer(worker);
    await producer.saveJob("q", await job("a"));
    assert.deepEqual(await row(schema, "a"), { state: "active", locked_by: "w1" });
    await eventually(() => woken.includes("a"), "the worker store's wake-up");
    const [got] = await worker.fetchNextJobs("q", "w1", LEASE, 10, OFFER);
    assert.equal(got?.id, "a");
    assert.equal(got.state, "active");
    assert.equal(got.attemptsStarted, 1);
    assert.deepEqual(got.data, { n: 1 });
    assert.equal(got.lockedBy, "w1");
    assert.ok(got.lockToken);
    assert.ok(await worker.completeJob("q", "a", got.lockToken, "done"), "the lease holds");
    assert.equal((await producer.getJob("q", "a"))?.state, "completed");
    // An offer is good for one job: the next add waits for a claim.
    await producer.saveJob("q", await job("b"));
    assert.equal((await row(schema, "b")).state, "waiting");
  });
});

pgTest("hand-off: no offer without the option, nor from a claim that found jobs", async () => {
  await withPair(async (worker, producer, schema) => {
    assert.deepEqual(await worker.fetchNextJobs("q", "w1", LEASE, 10), []);
    await producer.saveJob("q", await job("a"));
    assert.equal((await row(schema, "a")).state, "waiting", "no option, no offer");
    assert.equal((await worker.fetchNextJobs("q", "w1", LEASE, 10, OFFER))[0]?.id, "a");
    await producer.saveJob("q", await job("b"));
    assert.equal((await row(schema, "b")).state, "waiting", "the claim found a job: no offer");
    assert.equal((await worker.fetchNextJobs("q", "w1", LEASE, 10, OFFER))[0]?.id, "b");
    // An offer, then a claim that finds a job (added in a caller's transaction, which never
    // takes an offer): the claim withdraws the offer.
    await offer(worker);
    await inTransaction(producer, await job("c"));
    assert.equal((await worker.fetchNextJobs("q", "w1", LEASE, 10, OFFER))[0]?.id, "c");
    await producer.saveJob("q", await job("d"));
    assert.equal((await row(schema, "d")).state, "waiting", "the offer was withdrawn");
  });
});

pgTest(
  "hand-off: never ahead of waiting jobs, into a paused queue, or for special jobs",
  async () => {
    await withPair(async (worker, producer, schema) => {
      await offer(worker);
      // A job added in a caller's transaction is never handed off; it is waiting now.
      await inTransaction(producer, await job("tx"));
      assert.equal((await row(schema, "tx")).state, "waiting");
      await producer.saveJob("q", await job("behind"));
      assert.equal((await row(schema, "behind")).state, "waiting", "the waiting job comes first");
      assert.equal((await worker.fetchNextJobs("q", "w1", LEASE, 10)).length, 2);

      await offer(worker);
      await producer.pauseJobName("q", "*");
      await producer.saveJob("q", await job("paused"));
      assert.equal((await row(schema, "paused")).state, "waiting");
      await producer.resumeJobName("q", "*");
      assert.equal((await worker.fetchNextJobs("q", "w1", LEASE, 10)).length, 1);

      await offer(worker);
      await producer.saveJob("q", await job("later", {}, { delay: 60_000 }));
      await producer.saveJob("q", await job("big", { text: "x".repeat(9000) }));
      await producer.saveJob("q", await job("dedup", {}, { deduplication: { id: "k" } }));
      assert.equal((await row(schema, "later")).state, "delayed");
      assert.equal((await row(schema, "big")).state, "waiting", "too large for a NOTIFY");
      assert.equal((await row(schema, "dedup")).state, "waiting");
    });
  },
);

pgTest("hand-off: offers die with their store, and an untaken job goes back", async () => {
  await withPair(async (worker, producer, schema) => {
    // A disconnected store's offers are gone.
    const gone = new PgStore({ connection: PG_URL, schema });
    await gone.connect();
    assert.deepEqual(await gone.fetchNextJobs("q", "w-gone", LEASE, 10, OFFER), []);
    await gone.disconnect();
    await producer.saveJob("q", await job("a"));
    assert.equal((await row(schema, "a")).state, "waiting");
    await worker.fetchNextJobs("q", "w1", LEASE, 10);

    // A lapsed offer (left by a crashed process) is deleted by the next offer of its queue.
    await admin((sql) =>
      sql.unsafe(
        `insert into "${schema}".offers (queue, worker, origin, lease, session, until)
         values ('q', 'w-lapsed', '~gone', 1000, 1, 0)`,
      )
    );
    await offer(worker, "w-fresh");
    const left = await admin((sql) =>
      sql.unsafe(`select worker from "${schema}".offers order by worker`)
    );
    assert.deepEqual(left.map((r) => r.worker), ["w-fresh"]);
    await admin((sql) => sql.unsafe(`delete from "${schema}".offers`));

    // A store whose listening session died (a crashed process) gets nothing.
    const app = `conveyor-handoff-${crypto.randomUUID().slice(0, 8)}`;
    const crashed = new PgStore({
      connection: namedConnection(app),
      schema,
      onError: () => {},
    });
    await crashed.connect();
    try {
      assert.deepEqual(await crashed.fetchNextJobs("q", "w-crashed", LEASE, 10, OFFER), []);
      await terminate(app);
      await producer.saveJob("q", await job("b"));
      assert.equal((await row(schema, "b")).state, "waiting");
    } finally {
      await crashed.disconnect();
    }
    await worker.fetchNextJobs("q", "w1", LEASE, 10);

    // A job handed to a worker that does not come for it goes back to waiting, unattempted.
    await offer(worker, "w-away");
    await producer.saveJob("q", await job("c"));
    assert.equal((await row(schema, "c")).state, "active");
    await eventually(async () => (await row(schema, "c")).state === "waiting", "its return", 5000);
    const back = await producer.getJob("q", "c");
    assert.equal(back?.attemptsStarted, 0);

    // Held at most half its lease, lest it be recovered as stalled while held.
    await worker.fetchNextJobs("q", "w1", LEASE, 10);
    assert.deepEqual(await worker.fetchNextJobs("q", "w-short", 200, 10, OFFER), []);
    await producer.saveJob("q", await job("short"));
    assert.equal((await row(schema, "short")).state, "active");
    await eventually(async () => (await row(schema, "short")).state === "waiting", "return", 700);

    // So does one still held when the store disconnects.
    await worker.fetchNextJobs("q", "w1", LEASE, 10);
    await offer(worker, "w-closing");
    await producer.saveJob("q", await job("d"));
    assert.equal((await row(schema, "d")).state, "active");
    await worker.disconnect();
    assert.equal((await row(schema, "d")).state, "waiting");
  });
});

pgTest("hand-off: concurrent adds and offers never lease one job twice", async () => {
  const schema = freshSchema();
  const workers = Array.from({ length: 4 }, () => new PgStore({ connection: PG_URL, schema }));
  const producers = Array.from({ length: 4 }, () => new PgStore({ connection: PG_URL, schema }));
  try {
    for (const s of [...workers, ...producers]) await s.connect();
    for (let round = 0; round < 5; round++) {
      await Promise.all(workers.map((w, i) => offer(w, `w${i}`)));
      await Promise.all(
        producers.map(async (p, i) => p.saveJob("q", await job(`r${round}-${i}`))),
      );
      // Each worker fetches (as its wake-up would make it) until the round's jobs are in.
      const got: JobData[] = [];
      await eventually(async () => {
        for (let i = 0; i < workers.length; i++) {
          got.push(...await workers[i].fetchNextJobs("q", `w${i}`, LEASE, 10));
        }
        return got.length >= producers.length;
      }, `round ${round}'s jobs`);
      const ids = got.map((j) => j.id).sort();
      assert.deepEqual(ids, [0, 1, 2, 3].map((i) => `r${round}-${i}`), `round ${round}`);
      for (const j of got) assert.ok(await workers[0].completeJob("q", j.id, j.lockToken!, null));
    }
  } finally {
    for (const s of [...workers, ...producers]) await s.disconnect();
    await dropSchema(schema);
  }
});

pgTest(
  "hand-off end to end: a core Worker runs handed-off jobs, and a paused one gives them back",
  async () => {
    await withPair(async (store, producerStore) => {
      const { Queue, Worker } = await import("@conveyor/core");
      const queue = new Queue("q", { store: producerStore });
      const ran: string[] = [];
      // Only wake-ups (and hand-offs) start jobs within the test's time.
      const worker = new Worker("q", (job) => {
        ran.push(job.name);
        return job.name;
      }, { store, concurrency: 1, pollInterval: 60_000 });
      try {
        const offered = () =>
          eventually(async () => {
            const offers = await admin((sql) =>
              sql.unsafe(`select count(*)::int as n from "${store.schema}".offers`)
            );
            return offers[0].n === 1;
          }, "the idle worker's offer");
        for (const name of ["one", "two", "three"]) {
          await offered();
          const job = await queue.add(name, { name });
          assert.equal(await job.waitUntilFinished(), name);
        }
        assert.deepEqual(ran, ["one", "two", "three"]);

        // Paused after its offer: the job handed to it comes back and runs once, after resume.
        await offered();
        await worker.pause();
        const held = await queue.add("held", null);
        assert.equal(await held.getState(), "active", "handed to the paused worker");
        await eventually(async () => (await held.getState()) === "waiting", "its return", 3000);
        worker.resume();
        assert.equal(await held.waitUntilFinished(), "held");
        assert.deepEqual(ran, ["one", "two", "three", "held"]);
        assert.equal((await queue.getJob(held.id))?.attemptsStarted, 1);
      } finally {
        await worker.close();
        await queue.close();
      }
    });
  },
);

pgTest(
  "hand-off: the job goes to the offering store alone; the others see waiting, then active",
  async () => {
    await withPair(async (worker, producer, schema) => {
      const observer = new PgStore({ connection: PG_URL, schema });
      await observer.connect();
      // Every payload on the schema's channel, as any listening process gets it.
      const sql = postgres(PG_URL, { max: 1, onnotice: () => {} });
      const broadcast: Record<string, unknown>[] = [];
      try {
        await sql.listen(channelOf(schema), (p) => broadcast.push(JSON.parse(p)));
        const seen = (store: PgStore) => {
          const events: string[] = [];
          store.subscribe("q", (e) => {
            if (e.jobId === "a") events.push(e.type);
            if (e.jobId === "marker") events.push("marker");
          });
          return events;
        };
        const atWorker = seen(worker);
        const atProducer = seen(producer);
        const atObserver = seen(observer);
        await offer(worker);
        await producer.saveJob("q", await job("a"));
        assert.equal((await row(schema, "a")).state, "active");
        await eventually(() => atWorker.includes("waiting"), "the worker store's wake-up");
        const [got] = await worker.fetchNextJobs("q", "w1", LEASE, 10, OFFER);
        assert.equal(got?.id, "a");
        // A marker published after everything else: once each store has it, it has every
        // earlier payload (NOTIFYs arrive in commit order).
        await eventually(() => atObserver.includes("active"), "the observer's active event");
        await producer.publish({ type: "progress", queueName: "q", jobId: "marker" });
        for (const events of [atWorker, atProducer, atObserver]) {
          await eventually(() => events.includes("marker"), "the marker");
        }
        assert.deepEqual(atObserver, ["waiting", "active", "marker"]);
        assert.deepEqual(atWorker, ["waiting", "active", "marker"], "no waiting twice");
        assert.deepEqual(atProducer, ["waiting", "active", "marker"]);
        assert.ok(broadcast.length > 0);
        assert.ok(
          broadcast.every((p) => !("h" in p)),
          "no job travels on the channel every store listens to",
        );
      } finally {
        await sql.end();
        await observer.disconnect();
      }
    });
  },
);

pgTest(
  "hand-off: an offer of a version 3 store (no channel) is served on the schema's channel",
  async () => {
    await withPair(async (worker, producer, schema) => {
      await offer(worker);
      // A store of schema version 3 listens only on the schema's channel, and offers no channel.
      await admin((sql) => sql.unsafe(`update "${schema}".offers set channel = null`));
      await producer.saveJob("q", await job("a"));
      assert.deepEqual(await row(schema, "a"), { state: "active", locked_by: "w1" });
      await eventually(
        async () => (await worker.fetchNextJobs("q", "w1", LEASE, 10, OFFER))[0]?.id === "a",
        "the hand-off, received on the schema's channel",
      );
    });
  },
);

pgTest("hand-off: a job with options is handed off with all of them", async () => {
  await withPair(async (worker, producer, schema) => {
    await offer(worker);
    await producer.saveJob(
      "q",
      await job("opts", { n: 2 }, { priority: 3, lifo: true, removeOnComplete: true }),
    );
    assert.deepEqual(await row(schema, "opts"), { state: "active", locked_by: "w1" });
    let got: JobData | undefined;
    await eventually(async () => {
      got = (await worker.fetchNextJobs("q", "w1", LEASE, 10, OFFER))[0];
      return got !== undefined;
    }, "the handed-off job");
    assert.equal(got?.id, "opts");
    assert.equal(got?.priority, 3);
    assert.deepEqual(got?.data, { n: 2 });
    assert.ok(await worker.completeJob("q", "opts", got!.lockToken!, null));
    assert.equal(await producer.getJob("q", "opts"), null, "removeOnComplete applied");
  });
});
