/**
 * Claims: one statement selects the next waiting jobs `for update skip locked` and leases them,
 * so concurrent fetchers in any number of processes never get the same job.
 *
 * Without limits a claim takes no lock beyond the rows it leases. With `groupConcurrency`,
 * `maxGlobalConcurrency` or `rateLimit` the claim must count what is active (or was claimed)
 * and act on the count atomically, so it runs in a transaction that first takes an advisory
 * lock on the queue: limited claims of one queue are serialised, plain claims stay lock-free.
 *
 * Within one store, claims that arrive while another claim of the same queue (and limits) is
 * running are coalesced into the next statement: one round trip and one commit for many.
 *
 * @module
 */

import type { FetchOptions, JobData } from "@conveyor/shared";
import type { Db, Row, Statement } from "./_db.ts";
import { encodePayload } from "./_events.ts";
import { jobJson, jsonToJob } from "./_rows.ts";

/**
 * Paused names of the queue ($1) are skipped; a paused queue (`*`) claims nothing.
 *
 * The names test sits in `coalesce` (it is never null) to hide it from the planner's estimate:
 * where statistics say one job name fills the queue, `name <> all (unknown array)` is estimated
 * to keep no row, and the planner would scan and sort every waiting job instead of reading the
 * first few from the waiting index. The group test of {@linkcode CLAIM_LIMITED} likewise.
 */
const NOT_PAUSED = (s: string, alias: string) => `
    and coalesce(${alias}.name <> all (array(select job_name from ${s}.paused where queue = $1)), true)
    and not exists (select from ${s}.paused where queue = $1 and job_name = '*')`;

/**
 * True when no waiting job of queue $1 is left besides those of CTE `claimed` (at most $4). The
 * statement's snapshot still sees the claimed jobs as waiting, so: are there no more waiting
 * jobs than were claimed? Counting at most $4 + 1 keeps this linear in the claim's size (a test
 * of each waiting id against the claimed ids would be quadratic); the index's order keeps the
 * planner on the waiting index (a sequential scan would stop early only if waiting rows came
 * first in the table).
 */
const NONE_LEFT = (s: string) =>
  `(
    select count(*) from (select from ${s}.jobs w where w.queue = $1 and w.state = 'waiting'
                          order by w.priority, w.order_key limit $4::int + 1) waiting
  ) <= (select count(*) from claimed)`;

/**
 * The lock token of job `j` in a claim: one random UUID per statement (an uncorrelated subquery
 * is evaluated once), then the job's `seq`. Unique per lease, as a UUID per job would be (a
 * job's next lease comes from another statement; one statement leases a job once), without a
 * `gen_random_uuid()` per job, which cost about 2 us each.
 */
const TOKEN = "(select gen_random_uuid()::text) || '.' || j.seq";

/** The database clock read once per statement (`now_ms()` per row costs numeric arithmetic). */
const NOW = (s: string) => `(select ${s}.now_ms())`;

/**
 * CTEs that lease the jobs of `picked` to worker `worker` for `lease` ms (SQL expressions) and
 * publish `drained` when the queue has no waiting job left, with origin $5. The caller
 * publishes `active` itself, per worker (see `encodePayload` in `_events.ts`).
 */
const LEASE = (s: string, worker: string, lease: string, slot: string) => `
claimed as (
  update ${s}.jobs j set
    state = 'active', locked_by = ${worker}, lock_token = ${TOKEN},
    lock_until = ${NOW(s)} + ${lease}, processed_at = ${NOW(s)},
    attempts_started = j.attempts_started + 1
  from picked
  where j.queue = picked.queue and j.id = picked.id
  returning ${jobJson("j")} as job, j.priority, j.order_key, ${slot} as slot
),
notice as (
  select ${s}.emit($5, $1, 'drained', null) as payload
  where exists (select from claimed) and ${NONE_LEFT(s)}
)`;

/**
 * The claimed jobs in claim order, each as one JSON text (`jobJson`); the first row carries
 * the payloads published.
 *
 * The claim's commit does not wait for the WAL flush (`synchronous_commit` off for this
 * transaction only): a lease is not worth an fsync. Should the server crash before the flush,
 * the claim is lost and the job is waiting again, exactly as if its lease had expired: the
 * worker's completion is then refused by the fence (its token is unknown), and the job runs
 * again (at least once, as after any crash). Every later synchronous commit (the completion
 * among them) flushes the WAL up to and past the claim, so a durable completion never rests on
 * a lost claim.
 */
const RETURN_CLAIMED = `
select claimed.job, claimed.slot,
  case when row_number() over (order by priority, order_key) = 1
       then array(select payload from notice where payload is not null) end as events
from claimed, (select set_config('synchronous_commit', 'off', true)) as async_commit
order by priority, order_key`;

/**
 * Claim up to $4 jobs of queue $1, no limits: the job in claim order `slot` goes to worker
 * $2[slot] with a lease of $3[slot] ms.
 */
export const CLAIM = (s: string) => `
with picked as (
  select queue, id, row_number() over (order by priority, order_key) as slot
  from (select queue, id, priority, order_key from ${s}.jobs j
        where queue = $1 and state = 'waiting' ${NOT_PAUSED(s, "j")}
        order by priority, order_key
        limit $4
        for update skip locked) next
),
${LEASE(s, "($2::text[])[picked.slot]", "($3::bigint[])[picked.slot]", "picked.slot")}
${RETURN_CLAIMED}`;

/**
 * Claim up to $4 jobs of queue $1 for one worker $2 with a lease of $3 ms, no limits: the common
 * case (one worker per queue and store), leaner than {@linkcode CLAIM} (no per-slot arrays, no
 * numbering). Returns the jobs in claim order; the first row says whether the claim emptied the
 * queue (`drained`). The caller publishes `active` itself (see `encodePayload` in `_events.ts`).
 *
 * The update finds the picked rows by `ctid` (a TID scan) rather than by primary key: the rows
 * are locked, so their versions stay put until this statement updates them. Should one have
 * been updated between the statement's snapshot and its lock (it then locks the newer
 * version, which the snapshot cannot see), that row is simply not claimed this time.
 */
export const CLAIM_ONE = (s: string) => `
with claimed as (
  update ${s}.jobs j set
    state = 'active', locked_by = $2, lock_token = ${TOKEN},
    lock_until = ${NOW(s)} + $3::bigint, processed_at = ${NOW(s)},
    attempts_started = j.attempts_started + 1
  where j.ctid = any(array(
    select ctid from ${s}.jobs w
    where queue = $1 and state = 'waiting' ${NOT_PAUSED(s, "w")}
    order by priority, order_key
    limit $4
    for update skip locked))
  returning ${jobJson("j")} as job, j.priority, j.order_key
),
drained as (
  select exists (select from claimed) and ${NONE_LEFT(s)} as drained
),
${OFFER(s)}
select claimed.job,
  case when row_number() over (order by priority, order_key) = 1
       then (select drained from drained) end as drained
from claimed, (select set_config('synchronous_commit', 'off', true)) as async_commit
order by priority, order_key`;

/**
 * CTEs of {@linkcode CLAIM_ONE}: a claim that found nothing, made with an offerer ($5 origin,
 * which is also the channel its store listens on for hand-offs; $6 the lock key of the store's
 * listening session; null: no offer), leaves worker $2's offer
 * to take queue $1's next job with a lease of $3 ms, good for as long as that lease (see
 * `_handoff.ts`), and deletes the queue's lapsed offers (those of crashed processes); a claim
 * that found jobs withdraws the worker's offer.
 */
const OFFER = (s: string) =>
  `offered as (
  insert into ${s}.offers (queue, worker, origin, lease, session, until, channel)
  select $1, $2, $5::text, $3::bigint, $6::text::bigint, ${s}.now_ms() + $3::bigint, $5::text
  where $5::text is not null and not exists (select from claimed)
  on conflict (queue, worker) do update set origin = excluded.origin, lease = excluded.lease,
    session = excluded.session, until = excluded.until, channel = excluded.channel
),
withdrawn as (
  delete from ${s}.offers o
  where o.queue = $1 and o.worker = $2 and exists (select from claimed)
),
lapsed as (
  delete from ${s}.offers l
  where $5::text is not null and not exists (select from claimed)
    and l.queue = $1 and l.until < ${s}.now_ms()
)`;

/** Serialises limited claims of one queue ($2 is `schema:queue`) until the transaction ends. */
const QUEUE_LOCK = () => `select pg_advisory_xact_lock(hashtext('conveyor:claim'), hashtext($1))`;

/**
 * Claim up to $4 jobs of queue $1 under limits: $6 groupConcurrency, $7 maxGlobalConcurrency,
 * $8/$9 rateLimit max/duration (each null when not set). Runs after {@linkcode QUEUE_LOCK}.
 * Claims for several callers at once: the job in claim order `slot` goes to worker $2[slot]
 * with a lease of $3[slot] ms.
 *
 * Jobs of groups at their limit are skipped; among the candidates, a group takes at most what
 * it has left (`rank` within the group). The first candidate is always claimable, so a claim
 * returns something whenever anything may be claimed.
 */
export const CLAIM_LIMITED = (s: string) => `
with active as (
  select group_id, count(*)::int as n
  from ${s}.jobs where queue = $1 and state = 'active'
  group by group_id
),
budget as (
  select greatest(0, least(
    $4::int,
    $7::int - (select coalesce(sum(n), 0) from active)::int,
    $8::int - (select count(*) from ${s}.rate_log
               where queue = $1
                 and claimed_at > statement_timestamp() - $9::bigint * interval '1 ms')::int
  )) as n
),
candidates as (
  select j.queue, j.id, j.group_id, j.priority, j.order_key
  from ${s}.jobs j
  where j.queue = $1 and j.state = 'waiting' ${NOT_PAUSED(s, "j")}
    and coalesce(j.group_id is null or $6::int is null or j.group_id <> all (array(
      select group_id from active where group_id is not null and n >= $6::int)), true)
  order by j.priority, j.order_key
  limit (select case when $6::int is null then n else n * 4 end from budget)
  for update skip locked
),
picked as (
  select c.queue, c.id, row_number() over (order by c.priority, c.order_key) as slot
  from (select *, row_number() over (partition by group_id order by priority, order_key) as rank
        from candidates) c
  left join active a on a.group_id = c.group_id
  where c.group_id is null or $6::int is null or coalesce(a.n, 0) + c.rank <= $6::int
  order by c.priority, c.order_key
  limit (select n from budget)
),
${LEASE(s, "($2::text[])[picked.slot]", "($3::bigint[])[picked.slot]", "picked.slot")},
logged as (
  insert into ${s}.rate_log (queue, claimed_at)
  select $1, statement_timestamp() from claimed where $8::int is not null
),
pruned as (
  delete from ${s}.rate_log
  where $8::int is not null and queue = $1
    and claimed_at <= statement_timestamp() - $9::bigint * interval '1 ms'
)
${RETURN_CLAIMED}`;

/** A transaction runner over the store's pool. */
export type Transact = <T>(fn: (tx: Db) => Promise<T>) => Promise<T>;

/**
 * Runs statements in one transaction sent as a single pipeline (`begin`, the statements,
 * `commit`): one round trip, and locks held only while the server works. Returns each
 * statement's rows; rejects (having rolled back) when one fails.
 */
export type Pipeline = (steps: [Statement, unknown[]][]) => Promise<Row[][]>;

/** What a claim returned: the jobs in claim order and the payloads published. */
export interface Claimed {
  jobs: JobData[];
  events: string[];
}

/** The store an offer names: its origin and its listening session (see `Listener.session`). */
export interface Offerer {
  origin: string;
  session: string;
}

/** One caller's share of a coalesced claim. */
interface Request {
  worker: string;
  lease: number;
  count: number;
  resolve: (claimed: Claimed) => void;
  reject: (error: unknown) => void;
}

/** At most this many jobs are claimed by one coalesced statement. */
const MAX_SLOTS = 1000;

/**
 * Claims of one store. Calls that arrive while a claim of the same queue and limits is running
 * wait for it and then go together: one statement claims for all of them, each caller getting
 * its share in claim order (as if they had claimed one after another). A call that finds none
 * running starts at once.
 */
export class Claimer {
  readonly #batches = new Map<string, { waiting: Request[]; busy: boolean }>();
  readonly #running = new Set<Promise<void>>();

  /**
   * Claim up to `count` jobs of `queue` for `workerId`, leased for `lockDuration` ms. With an
   * `offerer` (and no limits), a claim that finds nothing leaves the worker's offer.
   */
  claim(
    db: Db,
    pipeline: Pipeline,
    queue: string,
    workerId: string,
    lockDuration: number,
    count: number,
    opts: FetchOptions,
    offerer?: Offerer,
  ): Promise<Claimed> {
    const lease = Math.max(1, Math.round(lockDuration));
    const key = JSON.stringify([
      queue,
      opts.groupConcurrency ?? null,
      opts.maxGlobalConcurrency ?? null,
      opts.rateLimit?.max ?? null,
      opts.rateLimit?.duration ?? null,
      offerer ?? null,
    ]);
    let batch = this.#batches.get(key);
    if (!batch) this.#batches.set(key, batch = { waiting: [], busy: false });
    const entry = batch;
    return new Promise<Claimed>((resolve, reject) => {
      entry.waiting.push({ worker: workerId, lease, count, resolve, reject });
      if (!entry.busy) {
        const running = this.#run(key, entry, db, pipeline, queue, opts, offerer);
        this.#running.add(running);
        void running.finally(() => this.#running.delete(running));
      }
    });
  }

  /** Resolves once no claim is running. */
  async idle(): Promise<void> {
    while (this.#running.size > 0) await Promise.all(this.#running);
  }

  async #run(
    key: string,
    entry: { waiting: Request[]; busy: boolean },
    db: Db,
    pipeline: Pipeline,
    queue: string,
    opts: FetchOptions,
    offerer: Offerer | undefined,
  ): Promise<void> {
    entry.busy = true;
    const limited = opts.groupConcurrency !== undefined ||
      opts.maxGlobalConcurrency !== undefined || opts.rateLimit !== undefined;
    while (entry.waiting.length > 0) {
      const batch: Request[] = [];
      let slots = 0;
      while (entry.waiting.length > 0 && (batch.length === 0 || slots < MAX_SLOTS)) {
        const next = entry.waiting.shift()!;
        batch.push(next);
        slots += next.count;
      }
      if (
        !limited && batch.every((r) => r.worker === batch[0].worker && r.lease === batch[0].lease)
      ) {
        await this.#claimOne(db, queue, batch, slots, offerer);
        continue;
      }
      try {
        const workers: string[] = [];
        const leases: number[] = [];
        for (const r of batch) {
          for (let i = 0; i < r.count; i++) {
            workers.push(r.worker);
            leases.push(r.lease);
          }
        }
        const base = [queue, workers, leases, workers.length, db.origin];
        const rows = limited
          // The claim runs once the lock is held, with a fresh snapshot that sees earlier claims.
          ? (await pipeline([
            [QUEUE_LOCK, [`${db.schema}:${queue}`]],
            [CLAIM_LIMITED, [
              ...base,
              opts.groupConcurrency ?? null,
              opts.maxGlobalConcurrency ?? null,
              opts.rateLimit?.max ?? null,
              opts.rateLimit ? Math.max(1, Math.round(opts.rateLimit.duration)) : null,
            ]],
          ]))[1]
          : await db.query(CLAIM, base);
        const drained = rows.length > 0 ? rows[0].events as string[] : [];
        let first = 1;
        batch.forEach((r, i) => {
          const mine = rows.filter((row) => {
            const slot = Number(row.slot);
            return slot >= first && slot < first + r.count;
          }).map((row) => jsonToJob(row.job as string));
          first += r.count;
          const events = mine.length === 0 ? [] : [
            encodePayload(db.origin, queue, "active", mine.map((job) => job.id), {
              workerId: r.worker,
            }),
          ];
          // The last caller carries the batch's drained; it is delivered once, after every active.
          if (i === batch.length - 1) events.push(...drained);
          r.resolve({ jobs: mine, events });
        });
      } catch (error) {
        for (const r of batch) r.reject(error);
      }
    }
    entry.busy = false;
    this.#batches.delete(key);
  }

  /** Claim for callers that share one worker id and lease: {@linkcode CLAIM_ONE}. */
  async #claimOne(
    db: Db,
    queue: string,
    batch: Request[],
    slots: number,
    offerer: Offerer | undefined,
  ): Promise<void> {
    try {
      const rows = await db.query(CLAIM_ONE, [
        queue,
        batch[0].worker,
        batch[0].lease,
        slots,
        offerer?.origin ?? null,
        offerer?.session ?? null,
      ]);
      const jobs = rows.map((row) => jsonToJob(row.job as string));
      const events: string[] = [];
      if (jobs.length > 0) {
        events.push(
          encodePayload(db.origin, queue, "active", jobs.map((job) => job.id), {
            workerId: batch[0].worker,
          }),
        );
        if (rows[0].drained === true) {
          events.push(encodePayload(db.origin, queue, "drained"));
        }
      }
      let first = 0;
      batch.forEach((r, i) => {
        const mine = jobs.slice(first, first + r.count);
        first += r.count;
        // The first caller carries the batch's events; they are delivered once.
        r.resolve({ jobs: mine, events: i === 0 ? events : [] });
      });
    } catch (error) {
      for (const r of batch) r.reject(error);
    }
  }
}
