/**
 * What `PgStore`'s job methods do: check the arguments, run the statement, deliver the events.
 * (Saving, reading, claiming, leases and finishing.)
 *
 * @module
 */

import {
  type FetchOptions,
  InvalidJobStateError,
  type JobData,
  type JobFailure,
  type JobUpdate,
  type NewJob,
  type SaveResult,
} from "@conveyor/shared";
import * as args from "./_args.ts";
import { type Connection, deliver, type Saved } from "./_connection.ts";
import * as finish from "./_finish.ts";
import * as flows from "./_flows.ts";
import { queries } from "./_queries.ts";
import { toInsertRecord } from "./_rows.ts";
import { encodePayload } from "./_events.ts";

/**
 * Save a new job; see {@linkcode StoreInterface.saveJob}. Concurrent saves of this store go
 * together into one statement (one commit, one wake-up NOTIFY).
 */
export async function saveJob(c: Connection, queueName: string, job: NewJob): Promise<SaveResult> {
  c.ready();
  const q = args.queueName(queueName);
  const checked = args.newJob(job, `saveJob("${q}")`);
  return unwrap(await c.saves.push([toInsertRecord(q, checked)]))[0];
}

/** Save many jobs in one statement; see {@linkcode StoreInterface.saveBulk}. */
export async function saveBulk(
  c: Connection,
  queueName: string,
  jobs: NewJob[],
): Promise<SaveResult[]> {
  c.ready();
  const q = args.queueName(queueName);
  const checked = args.jobList(jobs, `saveBulk("${q}")`);
  if (checked.length === 0) return [];
  return unwrap(await c.saves.push(checked.map((j) => toInsertRecord(q, j))));
}

function unwrap(saved: Saved): SaveResult[] {
  if ("results" in saved && saved.results) return saved.results;
  throw saved.error;
}

/** Read one job, or `null`. */
export async function getJob(
  c: Connection,
  queueName: string,
  jobId: string,
): Promise<JobData | null> {
  const db = c.ready();
  return await queries.getJob(db, args.queueName(queueName), args.text(jobId, "jobId"));
}

/** Change a job's payload or progress (fenced with `lockToken` when given). */
export async function updateJob(
  c: Connection,
  queueName: string,
  jobId: string,
  update: JobUpdate,
  lockToken?: string,
): Promise<boolean> {
  const db = c.ready();
  const q = args.queueName(queueName);
  const u = args.update(update);
  const token = lockToken === undefined ? null : args.text(lockToken, "lockToken");
  const id = args.text(jobId, "jobId");
  return deliver(c, await finish.updateJob(db, q, id, u.data, u.progress, token)).ok;
}

/**
 * Remove a job (and its unfinished, not active flow descendants).
 * @throws {InvalidJobStateError} when the job is active
 */
export async function removeJob(c: Connection, queueName: string, jobId: string): Promise<boolean> {
  const db = c.ready();
  const q = args.queueName(queueName);
  const id = args.text(jobId, "jobId");
  const result = deliver(c, await flows.removeJobs(db, q, id, true));
  if (!result.removed && result.state === "active") {
    throw new InvalidJobStateError(
      `Cannot remove job "${id}" of queue "${q}": it is active (leased by a worker)`,
    );
  }
  return result.removed;
}

/** Claim the next waiting job; see {@linkcode StoreInterface.fetchNextJob}. */
export async function fetchNextJob(
  c: Connection,
  queueName: string,
  workerId: string,
  lockDuration: number,
  opts?: FetchOptions,
): Promise<JobData | null> {
  return (await fetchNextJobs(c, queueName, workerId, lockDuration, 1, opts))[0] ?? null;
}

/** Claim up to `count` waiting jobs in one statement. */
export async function fetchNextJobs(
  c: Connection,
  queueName: string,
  workerId: string,
  lockDuration: number,
  count: number,
  opts?: FetchOptions,
): Promise<JobData[]> {
  const db = c.ready();
  const q = args.queueName(queueName);
  const worker = args.text(workerId, "workerId");
  const lease = args.ms(lockDuration, "lockDuration", 1);
  const n = args.int(count, "count", 1);
  const limits = args.fetchOptions(opts);
  let jobs = c.handoffs.take(q, worker, n);
  if (jobs.length > 0) {
    const ids = jobs.map((job) => job.id);
    c.deliver([encodePayload(db.origin, q, "active", ids, { workerId: worker })]);
  } else {
    // The claimer makes offers only for claims without limits.
    const offerer = limits.handoff ? c.offerer() : undefined;
    const claimed = await c.claimer.claim(db, c.pipeline, q, worker, lease, n, limits, offerer);
    jobs = deliver(c, claimed).jobs;
  }
  for (const job of jobs) if (job.parentId !== null) c.flowLeases.add(job.lockToken!);
  return jobs;
}

/** Extend a lease to now + `duration` (database clock) if `lockToken` still holds it. */
export async function extendLock(
  c: Connection,
  queueName: string,
  jobId: string,
  lockToken: string,
  duration: number,
): Promise<boolean> {
  const db = c.ready();
  return await finish.extendLock(
    db,
    args.queueName(queueName),
    args.text(jobId, "jobId"),
    args.text(lockToken, "lockToken"),
    args.ms(duration, "duration", 1),
  );
}

/** Give a leased job back to waiting. */
export async function releaseLock(
  c: Connection,
  queueName: string,
  jobId: string,
  lockToken: string,
): Promise<boolean> {
  const db = c.ready();
  const q = args.queueName(queueName);
  const id = args.text(jobId, "jobId");
  const token = args.text(lockToken, "lockToken");
  c.flowLeases.delete(token);
  return deliver(c, await finish.releaseLock(db, q, id, token)).ok;
}

/** Complete a leased job (and count it for its flow parent), coalesced with concurrent ones. */
export async function completeJob(
  c: Connection,
  queueName: string,
  jobId: string,
  lockToken: string,
  returnValue: unknown,
): Promise<boolean> {
  c.ready();
  const queue = args.queueName(queueName);
  const id = args.text(jobId, "jobId");
  const token = args.text(lockToken, "lockToken");
  const json = args.json(returnValue, "return value");
  const child = c.flowLeases.delete(token);
  return await c.completions.push({ queue, id, token, json, child });
}

/**
 * Fail a leased attempt: retry, or fail for good (with removeOnFail and the flow parent's
 * policy applied in the same transaction).
 */
export async function failJob(
  c: Connection,
  queueName: string,
  jobId: string,
  lockToken: string,
  failure: JobFailure,
): Promise<boolean> {
  const db = c.ready();
  const q = args.queueName(queueName);
  const id = args.text(jobId, "jobId");
  const token = args.text(lockToken, "lockToken");
  const f = args.failure(failure);
  c.flowLeases.delete(token);
  const stack = f.stacktrace ?? null;
  const fast = await finish.failAttempt(
    db,
    q,
    id,
    token,
    f.failedReason,
    stack,
    f.retryDelay,
    false,
  );
  if (fast) return deliver(c, { ok: true, events: fast.events }).ok;
  if (f.retryDelay !== null) return false;
  // A final failure of a flow child (or a lost lease): one transaction with the policy.
  const result = await c.transact(async (tx) => {
    const row = await finish.failAttempt(tx, q, id, token, f.failedReason, stack, null, true);
    if (!row) return { ok: false, events: [] as string[] };
    const events = [...row.events];
    if (row.parent_id !== null && !row.parent_notified) {
      events.push(
        ...await flows.applyChildFailure(
          tx,
          { queue: q, id },
          { queue: row.parent_queue ?? q, id: row.parent_id },
          f.failedReason,
        ),
      );
    }
    return { ok: true, events };
  });
  return deliver(c, result).ok;
}

/** Append a log line (fenced with `lockToken` when given). */
export async function addLog(
  c: Connection,
  queueName: string,
  jobId: string,
  line: string,
  lockToken?: string,
): Promise<boolean> {
  const db = c.ready();
  const token = lockToken === undefined ? null : args.text(lockToken, "lockToken");
  return await finish.addLog(
    db,
    args.queueName(queueName),
    args.text(jobId, "jobId"),
    args.text(line, "line", true),
    token,
  );
}
