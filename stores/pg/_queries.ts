/**
 * Read-only queries. Each names the index that serves it (see `_migrations.ts`).
 *
 * @module
 */

import type { JobData } from "@conveyor/shared";
import { type Db, numOrNull } from "./_db.ts";
import { jobColumns, rowToJob } from "./_rows.ts";

/** One job by primary key. */
const GET = (s: string) => `select ${jobColumns()} from ${s}.jobs where queue = $1 and id = $2`;

/** Jobs of queue $1 in state $2 (null: all), by seq; offset $3, limit $4 (jobs_state). */
const LIST = (s: string) => `
select ${jobColumns()} from ${s}.jobs
where queue = $1 and ($2::text is null or state = $2)
order by seq offset $3 limit $4`;

/** Jobs of queue $1 in state $2 (null: all) (jobs_state). */
const COUNT = (s: string) => `
select count(*)::int as n from ${s}.jobs where queue = $1 and ($2::text is null or state = $2)`;

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

/** Jobs of group $2 of queue $1 in state $3 (jobs_active / jobs_waiting). */
const GROUP_COUNT = (s: string) => `
select count(*)::int as n from ${s}.jobs where queue = $1 and group_id = $2 and state = $3`;

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
    return (await db.query(LIST, [queue, state, offset, limit])).map(rowToJob);
  },
  async countJobs(db: Db, queue: string, state: string | null): Promise<number> {
    return (await db.query(COUNT, [queue, state]))[0].n as number;
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
    return (await db.query(GROUP_COUNT, [queue, group, state]))[0].n as number;
  },
};
