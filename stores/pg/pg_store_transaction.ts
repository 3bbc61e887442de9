/**
 * {@linkcode PgStoreTransaction}: adding jobs inside the caller's own postgres.js transaction.
 *
 * @module
 */

import type { FlowJobRecord, JobData, NewJob, SaveResult } from "@conveyor/shared";
import * as args from "./_args.ts";
import type { Db, SqlLike } from "./_db.ts";
import type { PgTransactionSql } from "./pg_sql.ts";
import { saveFlow } from "./_flows.ts";
import { queries } from "./_queries.ts";
import { toInsertRecord } from "./_rows.ts";
import { insertJobs } from "./_save.ts";

/** What the saving methods share: the `Db` to run on and how to make a step atomic. */
export interface SaveContext {
  db: Db;
  atomic: <T>(fn: (tx: Db) => Promise<T>) => Promise<T>;
  /** Deliver published payloads to local subscribers (after commit), or ignore them. */
  deliver: (payloads: string[]) => void;
}

/** `saveJob` for both the store and its transaction views. */
export async function saveOne(ctx: SaveContext, queue: unknown, job: unknown): Promise<SaveResult> {
  const q = args.queueName(queue);
  const checked = args.newJob(job, `saveJob("${q}")`);
  const saved = await insertJobs(ctx.db, [toInsertRecord(q, checked)]);
  ctx.deliver(saved.events);
  return saved.results[0];
}

/** `saveBulk` for both the store and its transaction views. */
export async function saveMany(
  ctx: SaveContext,
  queue: unknown,
  jobs: unknown,
): Promise<SaveResult[]> {
  const q = args.queueName(queue);
  const checked = args.jobList(jobs, `saveBulk("${q}")`);
  if (checked.length === 0) return [];
  const saved = await insertJobs(ctx.db, checked.map((j) => toInsertRecord(q, j)));
  ctx.deliver(saved.events);
  return saved.results;
}

/** `saveFlow` for both the store and its transaction views. */
export async function saveTree(ctx: SaveContext, jobs: unknown): Promise<SaveResult[]> {
  const records = args.flowRecords(jobs);
  const saved = await saveFlow(ctx.atomic, records);
  ctx.deliver(saved.events);
  return saved.results;
}

/**
 * The saving side of a `PgStore`, bound to the caller's postgres.js transaction: jobs (and
 * their wake-up NOTIFY) exist only if that transaction commits, and vanish with it on rollback.
 * Made by `PgStore.withTransaction(tx)`; use it only while the transaction is open.
 *
 * Duplicates are reported as by the store. `saveFlow` runs in a savepoint, so a refused flow
 * leaves the caller's transaction usable. Events reach subscribers (of every store, this
 * process included) only after the commit, through LISTEN/NOTIFY.
 *
 * @example Enqueue together with your own row
 * ```ts ignore
 * import postgres from "postgres";
 * import { createNewJob } from "@conveyor/shared";
 * import { PgStore } from "@conveyor/store-pg";
 *
 * const sql = postgres("postgres://postgres@127.0.0.1:5432/test");
 * const store = new PgStore({ connection: sql });
 * await store.connect();
 * await sql.begin(async (tx) => {
 *   await tx`insert into orders (id) values (${42})`;
 *   await store.withTransaction(tx).saveJob("emails", await createNewJob("receipt", { order: 42 }));
 * }); // the job exists only if the order does
 * ```
 */
export class PgStoreTransaction {
  readonly #ctx: SaveContext;

  /**
   * Bind the store's saving methods to a transaction. Prefer `PgStore.withTransaction(tx)`.
   * @param db the store's handle, bound to the transaction
   * @param tx the caller's transaction
   */
  constructor(db: Db, tx: PgTransactionSql) {
    const savepoint = (tx as { savepoint?: unknown }).savepoint;
    const begin = (tx as { begin?: unknown }).begin;
    const atomic = <T>(fn: (inner: Db) => Promise<T>): Promise<T> => {
      if (typeof savepoint === "function") {
        return savepoint.call(tx, (sp: SqlLike) => fn(db.bind(sp, db.origin))) as Promise<T>;
      }
      if (typeof begin === "function") {
        return begin.call(tx, (t: SqlLike) => fn(db.bind(t, db.origin))) as Promise<T>;
      }
      return Promise.reject(
        new TypeError("saveFlow needs a postgres.js transaction (sql.begin) or sql instance"),
      );
    };
    this.#ctx = { db, atomic, deliver: () => {} };
  }

  /** Save a new job in the transaction; see `StoreInterface.saveJob`. */
  saveJob(queueName: string, job: NewJob): Promise<SaveResult> {
    return saveOne(this.#ctx, queueName, job);
  }

  /** Save many jobs in one statement of the transaction; see `StoreInterface.saveBulk`. */
  saveBulk(queueName: string, jobs: NewJob[]): Promise<SaveResult[]> {
    return saveMany(this.#ctx, queueName, jobs);
  }

  /** Save a flow tree in a savepoint of the transaction; see `StoreInterface.saveFlow`. */
  saveFlow(jobs: FlowJobRecord[]): Promise<SaveResult[]> {
    return saveTree(this.#ctx, jobs);
  }

  /** Read a job as the transaction sees it (its own uncommitted jobs included). */
  async getJob(queueName: string, jobId: string): Promise<JobData | null> {
    return await queries.getJob(this.#ctx.db, args.queueName(queueName), args.text(jobId, "jobId"));
  }
}
