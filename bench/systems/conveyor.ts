/**
 * Conveyor on one of its stores (`store=memory`, `store=pg`, `store=sqlite-deno`; another store is
 * one more case in {@linkcode openStore}). Imports the workspace packages, so it measures the code in this tree.
 *
 * The API is typed loosely here on purpose: the harness must keep building while core and the
 * stores change, and a missing export turns into a "not available yet" cell instead of a crash.
 *
 * @module
 */

import process from "node:process";
import { type ChildOptions, main, PG_URL, runName, Unavailable } from "../lib/child.ts";
import type { Adapter, Handler, Payload } from "../lib/types.ts";

const QUEUE = "bench";
const JOB = "noop";

/** The subset of a Conveyor store the harness uses. */
interface Store {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  countJobs(queueName: string, state?: string): Promise<number>;
}
interface Queue {
  add(name: string, data: Payload): Promise<unknown>;
  addBulk(jobs: { name: string; data: Payload }[]): Promise<unknown>;
  close(): Promise<void>;
}
interface Worker {
  close(): Promise<void>;
}
interface FlowJob {
  name: string;
  queueName: string;
  data: Payload;
  children?: FlowJob[];
}
interface Core {
  Queue: new (
    name: string,
    opts: { store: Store; defaultJobOptions?: Record<string, unknown> },
  ) => Queue;
  Worker: new (
    name: string,
    processor: (job: { data: Payload }) => Promise<void>,
    opts: { store: Store; concurrency: number; prefetch?: number },
  ) => Worker;
  FlowProducer?: new (opts: { store: Store }) => { add(flow: FlowJob): Promise<unknown> };
}

async function load<T>(what: string, fn: () => Promise<unknown>, keys: string[]): Promise<T> {
  let mod: Record<string, unknown>;
  try {
    mod = await fn() as Record<string, unknown>;
  } catch (err) {
    throw new Unavailable(`not available yet: ${what} (${(err as Error).message.split("\n")[0]})`);
  }
  const missing = keys.filter((k) => typeof mod[k] !== "function");
  if (missing.length) throw new Unavailable(`not available yet: ${what} lacks ${missing}`);
  return mod as T;
}

/** Drops this run's schema with postgres.js, the driver the PostgreSQL store uses. */
async function dropSchema(schema: string): Promise<void> {
  // bench/ is no workspace member and the root import map is not the harness's to extend, so the
  // pinned driver (the same version as stores/pg) is named inline.
  // deno-lint-ignore no-import-prefix
  const { default: postgres } = await import("npm:postgres@3.4.9");
  const sql = postgres(PG_URL, { max: 1, onnotice: () => {} });
  try {
    await sql.unsafe(`drop schema if exists ${schema} cascade`);
  } finally {
    await sql.end();
  }
}

interface StoreCase {
  store: Store;
  settings: Record<string, unknown>;
  /** Jobs the worker claims ahead of free slots (`WorkerOptions.prefetch`). */
  prefetch?: number;
  /** Options of every job added (`QueueOptions.defaultJobOptions`). */
  jobOptions?: Record<string, unknown>;
  drop?: () => Promise<void>;
}

async function openStore(o: ChildOptions): Promise<StoreCase> {
  const kind = o.rest.store ?? "memory";
  if (kind === "memory") {
    type M = { MemoryStore: new () => Store };
    const { MemoryStore } = await load<M>(
      "@conveyor/store-memory",
      () => import("@conveyor/store-memory"),
      ["MemoryStore"],
    );
    return { store: new MemoryStore(), settings: { store: "MemoryStore" } };
  }
  if (kind === "pg") {
    type P = { PgStore: new (opts: { connection: string; schema: string }) => Store };
    const { PgStore } = await load<P>(
      "@conveyor/store-pg",
      () => import("@conveyor/store-pg"),
      ["PgStore"],
    );
    const schema = runName(o);
    // `remove=1`: a completed job is deleted at once, as graphile-worker does with every job it
    // completes; without it, completed jobs are kept (Conveyor's default, as BullMQ's and pg-boss's).
    const jobOptions = o.rest.remove === "1" ? { removeOnComplete: true } : undefined;
    // A remote store is used with a local queue, as graphile-worker's row uses its localQueue
    // (500 jobs held per worker there; 50 running + 450 held here).
    return {
      store: new PgStore({ connection: PG_URL, schema }),
      settings: { store: "PgStore", prefetch: 450, ...jobOptions },
      prefetch: 450,
      jobOptions,
      drop: () => dropSchema(schema),
    };
  }
  if (kind === "sqlite-deno") {
    type S = { SqliteDenoStore: new (opts: { filename: string }) => Store };
    const { SqliteDenoStore } = await load<S>(
      "@conveyor/store-sqlite-deno",
      () => import("@conveyor/store-sqlite-deno"),
      ["SqliteDenoStore"],
    );
    const filename = `${Deno.env.get("TMPDIR") ?? "/tmp"}/${runName(o)}.db`;
    const drop = async () => {
      for (const f of [filename, `${filename}-wal`, `${filename}-shm`]) {
        await Deno.remove(f).catch(() => {});
      }
    };
    return {
      store: new SqliteDenoStore({ filename }),
      settings: { store: "SqliteDenoStore (file, WAL; defaults)" },
      drop,
    };
  }
  throw new RangeError(`unknown store "${kind}"`);
}

async function conveyorAdapter(o: ChildOptions): Promise<Adapter> {
  const core = await load<Core>("@conveyor/core", () => import("@conveyor/core"), [
    "Queue",
    "Worker",
  ]);
  let s: StoreCase;
  let queue: Queue;
  let worker: Worker | undefined;
  let flows: { add(flow: FlowJob): Promise<unknown> } | undefined;
  const adapter: Adapter = {
    inProcessOnly: (o.rest.store ?? "memory") === "memory",
    settings: { concurrency: o.concurrency },
    async open(fresh) {
      s = await openStore(o);
      Object.assign(adapter.settings, s.settings);
      if (fresh) await s.drop?.();
      await s.store.connect();
      queue = new core.Queue(QUEUE, {
        store: s.store,
        ...(s.jobOptions ? { defaultJobOptions: s.jobOptions } : {}),
      });
    },
    add(data) {
      // No extra async frame per add: the bare loop has none either.
      return queue.add(JOB, data).then(noop);
    },
    async addBulk(items) {
      await queue.addBulk(items.map((data) => ({ name: JOB, data })));
    },
    startWorker(handler: Handler, concurrency) {
      const processor = (job: { data: Payload }) => Promise.resolve(handler(job.data));
      // A Worker starts at once (autorun).
      worker = new core.Worker(QUEUE, processor, {
        store: s.store,
        concurrency,
        ...(s.prefetch === undefined ? {} : { prefetch: s.prefetch }),
      });
      return Promise.resolve();
    },
    async stopWorker() {
      await worker?.close();
      worker = undefined;
    },
    async remaining() {
      const [all, done] = await Promise.all([
        s.store.countJobs(QUEUE),
        s.store.countJobs(QUEUE, "completed"),
      ]);
      return all - done;
    },
    async close(drop) {
      await worker?.close();
      await queue.close();
      await s.store.disconnect();
      if (drop) await s.drop?.();
    },
  };
  if (core.FlowProducer) {
    const Flow = core.FlowProducer;
    adapter.addFlow = async (parent, children) => {
      flows ??= new Flow({ store: s.store });
      await flows.add({
        name: JOB,
        queueName: QUEUE,
        data: parent,
        children: children.map((data) => ({ name: JOB, queueName: QUEUE, data })),
      });
    };
  }
  return adapter;
}

if (import.meta.main) {
  await main(conveyorAdapter, { deno: process.versions.deno ?? "?", conveyor: "workspace" });
}

function noop(): void {}
