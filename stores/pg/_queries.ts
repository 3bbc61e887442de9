/**
 * Read-only queries. Each names the index that serves it (see `_migrations.ts`).
 *
 * @module
 */

import type { JobData } from "@conveyor/shared";
import { type Db, numOrNull, type Statement } from "./_db.ts";
import { jobColumns, rowToJob } from "./_rows.ts";

/**
 * The condition selecting jobs in `state` (`null`: every state), with the state as a literal,
 * so the planner can use the state's partial index (a parameter would hide it): `jobs_waiting`,
 * `jobs_delayed`, `jobs_active`, `jobs_waiting_children`, and for completed and failed jobs
 * (which always have a `finished_at`) `jobs_finished`. Every state gets its own statement.
 */
export function stateFilter(state: string | null, alias = ""): string {
  const a = alias ? `${alias}.` : "";
  switch (state) {
    case null:
      return "true";
    case "waiting":
    case "delayed":
    case "active":
    case "waiting-children":
      return `${a}state = '${state}'`;
    case "completed":
    case "failed":
      return `${a}state = '${state}' and ${a}finished_at is not null`;
    default:
      throw new RangeError(`Unknown job state ${JSON.stringify(state)}`);
  }
}

/**
 * One statement per state from `make(s, filter)` ({@linkcode stateFilter}), each made once, so
 * that it is rendered and prepared once per schema.
 */
export function perState(
  make: (s: string, filter: string) => string,
): (state: string | null) => Statement {
  const made = new Map<string | null, Statement>();
  return (state) => {
    let statement = made.get(state);
    if (statement === undefined) {
      const filter = stateFilter(state);
      statement = (s) => make(s, filter);
      made.set(state, statement);
    }
    return statement;
  };
}

/** One job by primary key. */
const GET = (s: string) => `select ${jobColumns()} from ${s}.jobs where queue = $1 and id = $2`;

/**
 * Jobs of queue $1 in one state (all: primary key), by seq; offset $2, limit $3. The state's
 * partial index finds them; a sort puts them in seq order.
 */
const LIST = perState((s, filter) => `
select ${jobColumns()} from ${s}.jobs
where queue = $1 and ${filter}
order by seq offset $2 limit $3`);

/** Jobs of queue $1 in one state (all: primary key). */
const COUNT = perState((s, filter) => `
select count(*)::int as n from ${s}.jobs where queue = $1 and ${filter}`);

/** Earliest due time of the queue's delayed jobs (jobs_delayed). */
const NEXT_DELAYED = (s: string) => `
select min(delay_until) as t from ${s}.jobs where queue = $1 and state = 'delayed'`;

/** Paused names of the queue (paused primary key). */
const PAUSED = (s: string) => `
select job_name from ${s}.paused where queue = $1 order by job_name`;

/** Active jobs whose lease expired on the database clock (jobs_active). */
const STALLED = (s: string) => `
select ${jobColumns()} from ${s}.jobs
where queue = $1 and state = 'active' and lock_until < ${s}.now_ms()
order by seq`;

/** Direct children of parent $2 (queue $1), across queues, by seq (jobs_parent). */
const CHILDREN = (s: string) => `
select ${jobColumns()} from ${s}.jobs
where parent_queue = $1 and parent_id = $2
order by seq`;

/** The live holder of deduplication key $2 in queue $1 (jobs_dedup). */
const BY_DEDUP = (s: string) => `
select ${jobColumns()} from ${s}.jobs
where queue = $1 and dedup_key = $2 and dedup_held
  and (dedup_until is null or dedup_until > ${s}.now_ms())`;

/** Jobs of group $2 of queue $1 in one state (jobs_active / jobs_waiting). */
const GROUP_COUNT = perState((s, filter) => `
select count(*)::int as n from ${s}.jobs where queue = $1 and group_id = $2 and ${filter}`);

/** The read side of the store. */
export const queries = {
  async getJob(db: Db, queue: string, id: string): Promise<JobData | null> {
    const [row] = await db.query(GET, [queue, id]);
    return row ? rowToJob(row) : null;
  },
  async listJobs(
    db: Db,
    queue: string,
    state: string | null,
    offset: number,
    limit: number,
  ): Promise<JobData[]> {
    return (await db.query(LIST(state), [queue, offset, limit])).map(rowToJob);
  },
  async countJobs(db: Db, queue: string, state: string | null): Promise<number> {
    return (await db.query(COUNT(state), [queue]))[0].n as number;
  },
  async nextDelayed(db: Db, queue: string): Promise<number | null> {
    return numOrNull((await db.query(NEXT_DELAYED, [queue]))[0].t);
  },
  async pausedNames(db: Db, queue: string): Promise<string[]> {
    return (await db.query(PAUSED, [queue])).map((r) => r.job_name as string);
  },
  async stalled(db: Db, queue: string): Promise<JobData[]> {
    return (await db.query(STALLED, [queue])).map(rowToJob);
  },
  async children(db: Db, parentQueue: string, parentId: string): Promise<JobData[]> {
    return (await db.query(CHILDREN, [parentQueue, parentId])).map(rowToJob);
  },
  async byDedupKey(db: Db, queue: string, key: string): Promise<JobData | null> {
    const [row] = await db.query(BY_DEDUP, [queue, key]);
    return row ? rowToJob(row) : null;
  },
  async groupCount(db: Db, queue: string, group: string, state: string): Promise<number> {
    return (await db.query(GROUP_COUNT(state), [queue, group]))[0].n as number;
  },
};
