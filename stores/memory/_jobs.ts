/**
 * Job operations of the memory store that are not claims or lease changes: saving, updating,
 * logging and listing.
 *
 * @module
 */

import type { JobData, JobState, JobUpdate, ListOptions, SaveResult } from "@conveyor/shared";
import { checkId, checkInt, checkState, checkToken, validateQueueName } from "@conveyor/shared";
import { copyJob, copyJson } from "./_copy.ts";
import { appendLine, type StoreCore } from "./_core.ts";
import type { QueueState, Rec } from "./_queue.ts";
import { type CheckedJob, checkNewJob, checkUpdate } from "./_validate.ts";

/**
 * Save jobs in one atomic step, in input order: a job whose id or deduplication key is held
 * (also by an earlier job of the same call) is reported as a duplicate and not saved.
 * Publishes one event per state (with `count` when several jobs went there).
 */
export function saveJobs(
  core: StoreCore,
  queueName: string,
  jobs: readonly unknown[],
  where: string,
): SaveResult[] {
  validateQueueName(queueName);
  const n = jobs.length;
  const checked: CheckedJob[] = new Array(n);
  for (let i = 0; i < n; i++) checked[i] = checkNewJob(jobs[i], n === 1 ? where : `${where}[${i}]`);
  const q = core.queue(queueName);
  const now = core.now();
  const saved: Rec[] = [];
  const results: SaveResult[] = new Array(n);
  for (let i = 0; i < n; i++) results[i] = saveOne(core, q, checked[i], now, saved);
  core.emitMoved(saved);
  return results;
}

/** Save one job: {@linkcode saveJobs} for a single job, without the lists. */
export function saveJob(core: StoreCore, queueName: string, job: unknown): SaveResult {
  const known = core.queues.get(queueName);
  if (known === undefined) validateQueueName(queueName);
  const c = checkNewJob(job, "saveJob");
  const q = known ?? core.queue(queueName);
  const now = core.now();
  const same = q.jobs.get(c.id);
  if (same) return { id: same.job.id, duplicate: true };
  if (c.deduplicationKey !== null) {
    const holder = core.dedupHolder(q, c.deduplicationKey, now);
    if (holder) return { id: holder.job.id, duplicate: true };
  }
  const rec = core.insert(q, c, now);
  core.emitState(rec);
  return { id: rec.job.id, duplicate: false };
}

function saveOne(
  core: StoreCore,
  q: QueueState,
  c: CheckedJob,
  now: number,
  saved: Rec[],
): SaveResult {
  const same = q.jobs.get(c.id);
  if (same) return { id: same.job.id, duplicate: true };
  if (c.deduplicationKey !== null) {
    const holder = core.dedupHolder(q, c.deduplicationKey, now);
    if (holder) return { id: holder.job.id, duplicate: true };
  }
  const rec = core.insert(q, c, now);
  saved.push(rec);
  return { id: rec.job.id, duplicate: false };
}

/** The job, if it exists and (when a token is given) is active under that token. */
function fenced(core: StoreCore, queueName: string, jobId: string, token?: string): Rec | null {
  const rec = core.find(queueName, jobId);
  if (!rec) return null;
  if (token === undefined) return rec;
  return rec.job.state === "active" && rec.job.lockToken === token ? rec : null;
}

function checkTarget(queueName: string, jobId: string, lockToken: string | undefined): void {
  validateQueueName(queueName);
  checkId(jobId, "jobId");
  if (lockToken !== undefined) checkToken(lockToken, "lockToken");
}

/** Replace a job's payload or progress (publishing `progress`); fenced when a token is given. */
export function updateJob(
  core: StoreCore,
  queueName: string,
  jobId: string,
  update: JobUpdate,
  lockToken: string | undefined,
): boolean {
  checkTarget(queueName, jobId, lockToken);
  const u = checkUpdate(update);
  const rec = fenced(core, queueName, jobId, lockToken);
  if (!rec) return false;
  if (u.data !== undefined) rec.job.data = u.data;
  if (u.progress !== undefined) {
    rec.job.progress = u.progress;
    if (core.events.listens(queueName)) {
      core.emitJob(rec, "progress", { progress: copyJson(u.progress) });
    }
  }
  return true;
}

/** Append a log line to a job; fenced when a token is given. */
export function addLog(
  core: StoreCore,
  queueName: string,
  jobId: string,
  line: string,
  lockToken: string | undefined,
): boolean {
  checkTarget(queueName, jobId, lockToken);
  if (typeof line !== "string") {
    throw new TypeError(`log line must be a string, got ${typeof line}`);
  }
  const rec = fenced(core, queueName, jobId, lockToken);
  if (!rec) return false;
  rec.job.logs = appendLine(rec.job.logs, line);
  return true;
}

/**
 * Jobs of a queue by ascending `seq`, optionally in one state, paged. Walks the queue in `seq`
 * order and stops once the page is full (active jobs, always few, are sorted instead).
 */
export function listJobs(
  q: QueueState | undefined,
  state: JobState | undefined,
  opts: ListOptions | undefined,
): JobData[] {
  const s = checkState(state, true);
  if (opts !== undefined && (typeof opts !== "object" || opts === null)) {
    throw new TypeError(`list options must be an object, got ${String(opts)}`);
  }
  const offset = opts?.offset === undefined ? 0 : checkInt(opts.offset, "offset", 0);
  const limit = opts?.limit === undefined ? 100 : checkInt(opts.limit, "limit", 0);
  if (!q || limit === 0) return [];
  if (s !== undefined && q.counts[s] <= offset) return [];
  const source: Iterable<Rec> = s === "active"
    ? [...q.active].sort((a, b) => a.job.seq - b.job.seq)
    : q.jobs.values();
  const out: JobData[] = [];
  let skip = offset;
  for (const rec of source) {
    if (s !== undefined && rec.job.state !== s) continue;
    if (skip > 0) {
      skip--;
      continue;
    }
    out.push(copyJob(rec.job));
    if (out.length >= limit) break;
  }
  return out;
}
