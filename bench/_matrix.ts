/**
 * What the harness measures: the systems (one row each) and how each child is launched. A new
 * Conveyor store is one more entry here (and one more case in `systems/conveyor.ts`).
 *
 * @module
 */

/** Which systems a Conveyor row is compared with: the same kind of backend. */
export type Backend = "in-process" | "postgres" | "redis" | "sqlite";

/** One row of the table. */
export interface System {
  id: string;
  label: string;
  backend: Backend;
  runtime: "deno" | "node";
  /** Script under bench/, and its extra `key=value` arguments. */
  script: string;
  args: string[];
  /** Conveyor rows get a ratio to the best other system on the same backend. */
  conveyor: boolean;
  /** Rows in the `process` scaling check. */
  scaling?: boolean;
}

export const SYSTEMS: System[] = [
  {
    id: "bare",
    label: "bare JS loop (ceiling)",
    backend: "in-process",
    runtime: "deno",
    script: "systems/bare.ts",
    args: [],
    conveyor: false,
  },
  {
    id: "conveyor-memory",
    label: "Conveyor · MemoryStore",
    backend: "in-process",
    runtime: "deno",
    script: "systems/conveyor.ts",
    args: ["store=memory"],
    conveyor: true,
    scaling: true,
  },
  {
    id: "conveyor-pg",
    label: "Conveyor · PgStore",
    backend: "postgres",
    runtime: "deno",
    script: "systems/conveyor.ts",
    args: ["store=pg"],
    conveyor: true,
    scaling: true,
  },
  {
    id: "conveyor-pg-remove",
    label: "Conveyor · PgStore, removeOnComplete",
    backend: "postgres",
    runtime: "deno",
    script: "systems/conveyor.ts",
    args: ["store=pg", "remove=1"],
    conveyor: true,
  },
  {
    id: "conveyor-sqlite-deno",
    label: "Conveyor · SqliteDenoStore",
    backend: "sqlite",
    runtime: "deno",
    script: "systems/conveyor.ts",
    args: ["store=sqlite-deno"],
    conveyor: true,
    scaling: true,
  },
  {
    id: "pg-boss",
    label: "pg-boss",
    backend: "postgres",
    runtime: "node",
    script: "peers/pgboss.mjs",
    args: [],
    conveyor: false,
  },
  {
    id: "graphile-worker",
    label: "graphile-worker",
    backend: "postgres",
    runtime: "node",
    script: "peers/graphile.mjs",
    args: [],
    conveyor: false,
  },
  {
    id: "bullmq-pg",
    label: "BullMQ · PostgreSQL backend",
    backend: "postgres",
    runtime: "node",
    script: "peers/bullmq.mjs",
    args: ["backend=pg"],
    conveyor: false,
  },
  {
    id: "bullmq-redis",
    label: "BullMQ · Redis",
    backend: "redis",
    runtime: "node",
    script: "peers/bullmq.mjs",
    args: ["backend=redis"],
    conveyor: false,
  },
];

/** How big each run is. */
export interface Sizes {
  n: number;
  reps: number;
  concurrency: number;
  chunk: number;
  samples: number;
  warmup: number;
  gapMs: number;
  /** Job counts of the `process` scaling check. */
  scaling: number[];
}

export const FULL: Sizes = {
  n: 10_000,
  reps: 3,
  concurrency: 50,
  chunk: 1000,
  samples: 50,
  warmup: 5,
  gapMs: 20,
  scaling: [1_000, 10_000, 100_000],
};

export const SMOKE: Sizes = {
  n: 300,
  reps: 1,
  concurrency: 50,
  chunk: 100,
  samples: 5,
  warmup: 1,
  gapMs: 5,
  scaling: [100, 300],
};

/** A child's hard time limit: generous for the slowest peer, bounded for CI. */
export const timeoutFor = (jobs: number): number => Math.min(600_000, 90_000 + jobs * 6);
