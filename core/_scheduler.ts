// Repeat schedules (cron / every). A schedule is a registry entry plus one pending run.
//
// Registry: one job per schedule in a hidden queue beside the user's queue
// (`__conveyor_repeat__:<queue>`, id = schedule key), saved with pendingChildrenCount 1 and no
// children so it stays in `waiting-children` forever and is never claimed. Its payload is the
// schedule definition, the number of runs scheduled so far and the slot of the pending run.
//
// Runs: ordinary jobs with deterministic ids `repeat:<key>:<slotMs>`, delayed until their slot.
// The store reports a second save of the same slot as a duplicate, so re-registering a schedule
// or two workers continuing it never make two runs of one slot. When a worker claims a run it
// enqueues the next slot at once (so a failed run does not end the schedule).

import { Cron } from "croner";
import {
  canonicalJson,
  type JobData,
  type NewJob,
  type RepeatInfo,
  type StoredJobOptions,
  type StoreInterface,
} from "@conveyor/shared";

/** Prefix of the hidden queue holding a queue's schedule registry. */
export const REPEAT_REGISTRY_PREFIX = "__conveyor_repeat__:";

export function registryQueueName(queueName: string): string {
  return REPEAT_REGISTRY_PREFIX + queueName;
}

/** A schedule as kept in its registry entry's payload. */
export interface ScheduleDefinition {
  key: string;
  name: string;
  data: unknown;
  opts: StoredJobOptions;
  pattern?: string;
  every?: number;
  tz?: string;
  endDate?: number;
  limit?: number;
  /** Runs scheduled so far. */
  count: number;
  /** Slot of the pending run, if any. */
  next: number | null;
}

const crons = new Map<string, Cron>();

function cronFor(pattern: string, tz: string | undefined): Cron {
  const cacheKey = `${tz ?? ""}\u0000${pattern}`;
  let cron = crons.get(cacheKey);
  if (!cron) {
    cron = new Cron(pattern, tz === undefined ? {} : { timezone: tz });
    if (crons.size > 1000) crons.clear();
    crons.set(cacheKey, cron);
  }
  return cron;
}

/** Check a cron pattern and time zone; throws a RangeError naming them. */
export function checkCron(pattern: string, tz: string | undefined, context: string): void {
  try {
    cronFor(pattern, tz).nextRun(new Date(Date.now()));
  } catch (error) {
    const what = tz === undefined
      ? `cron pattern ${JSON.stringify(pattern)}`
      : `cron pattern ${JSON.stringify(pattern)} with time zone ${JSON.stringify(tz)}`;
    throw new RangeError(`${context}invalid ${what}: ${(error as Error).message}`);
  }
}

/** First slot strictly after `after` (ms), or `null` when the pattern has no more runs. */
export function nextSlot(
  def: { pattern?: string; every?: number; tz?: string },
  after: number,
): number | null {
  if (def.every !== undefined) return (Math.floor(after / def.every) + 1) * def.every;
  const next = cronFor(def.pattern!, def.tz).nextRun(new Date(after));
  return next ? next.getTime() : null;
}

export function runJobId(key: string, slot: number): string {
  return `repeat:${key}:${slot}`;
}

/** Whether two definitions schedule the same runs with the same job. */
export function sameDefinition(a: ScheduleDefinition, b: ScheduleDefinition): boolean {
  return a.name === b.name && a.pattern === b.pattern && a.every === b.every && a.tz === b.tz &&
    a.endDate === b.endDate && a.limit === b.limit &&
    canonicalJson(a.data) === canonicalJson(b.data) &&
    canonicalJson(a.opts) === canonicalJson(b.opts);
}

/** The run of `def` for `slot`, the `count`-th run of the schedule. */
export function buildRun(
  def: ScheduleDefinition,
  slot: number,
  count: number,
  now: number,
): NewJob {
  const repeat: RepeatInfo = { key: def.key, slot, count };
  if (def.pattern !== undefined) repeat.pattern = def.pattern;
  if (def.every !== undefined) repeat.every = def.every;
  if (def.tz !== undefined) repeat.tz = def.tz;
  if (def.endDate !== undefined) repeat.endDate = def.endDate;
  if (def.limit !== undefined) repeat.limit = def.limit;
  const delay = Math.max(0, slot - now);
  const opts: StoredJobOptions = { ...def.opts, jobId: runJobId(def.key, slot), repeat };
  if (delay > 0) opts.delay = delay;
  else delete opts.delay;
  return { id: opts.jobId!, name: def.name, data: def.data, opts, deduplicationKey: null };
}

/** The next slot of `def` after `after`, or `null` when the schedule has ended. */
export function nextRunSlot(def: ScheduleDefinition, after: number): number | null {
  if (def.limit !== undefined && def.count >= def.limit) return null;
  const slot = nextSlot(def, after);
  if (slot === null || (def.endDate !== undefined && slot > def.endDate)) return null;
  return slot;
}

/**
 * Enqueue the run after `slot` (at or after now) unless the schedule ended or was removed.
 * Safe to call from several workers at once: the deterministic run id makes all but one save a
 * duplicate. Returns the slot enqueued, or `null`.
 */
export async function enqueueNextRun(
  store: StoreInterface,
  queueName: string,
  key: string,
  after: number,
): Promise<number | null> {
  const registry = registryQueueName(queueName);
  const entry = await store.getJob(registry, key);
  if (!entry) return null;
  const def = entry.data as ScheduleDefinition;
  const now = Date.now();
  const slot = nextRunSlot(def, Math.max(after, now));
  if (slot === null) {
    // The schedule ended with the run at `after`: record that nothing is pending.
    if (def.next !== null && def.next <= after) {
      await store.updateJob(registry, key, { data: { ...def, next: null } });
    }
    return null;
  }
  const run = buildRun(def, slot, def.count + 1, now);
  const saved = await store.saveJob(queueName, run);
  if (saved.duplicate) return null;
  const updated: ScheduleDefinition = { ...def, count: def.count + 1, next: slot };
  const stillRegistered = await store.updateJob(registry, key, { data: updated });
  if (!stillRegistered) {
    // removeRepeatable ran meanwhile: take back the run it could not see.
    await store.removeJob(queueName, run.id).catch(() => {});
    return null;
  }
  return slot;
}

/** Whether `job` is a pending or running run (the schedule is alive through it). */
export function isLiveRun(job: JobData | null): boolean {
  return job !== null &&
    (job.state === "delayed" || job.state === "waiting" || job.state === "active");
}
