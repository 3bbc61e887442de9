// The registry side of repeat schedules: registering (idempotently), removing and listing them.
// See _scheduler.ts for the model (registry entry + one pending run with a deterministic id).

import { InvalidJobStateError, type NewJob, type StoreInterface } from "@conveyor/shared";
import {
  enqueueNextRun,
  isLiveRun,
  registryQueueName,
  runJobId,
  sameDefinition,
  type ScheduleDefinition,
} from "./_scheduler.ts";
import { checkInt, checkObject, describe } from "./_validate.ts";
import type { RepeatableInfo } from "./repeat_options.ts";

const REPEAT_KEYS = ["key", "tz", "endDate", "limit"];
const MAX_KEY_LENGTH = 200;

/** Split `Queue.cron`/`every` options into job options and schedule options. */
export function splitRepeatOptions(
  opts: unknown,
  context: string,
): { jobOpts: Record<string, unknown>; repeat: Record<string, unknown> } {
  const jobOpts: Record<string, unknown> = {};
  const repeat: Record<string, unknown> = {};
  if (opts !== undefined) {
    checkObject(opts, "options", context);
    for (const [k, v] of Object.entries(opts as object)) {
      if (REPEAT_KEYS.includes(k)) repeat[k] = v;
      else if (k === "jobId" || k === "delay" || k === "repeat" || k === "deduplication") {
        throw new TypeError(`${context}option "${k}" cannot be used with a repeat schedule`);
      } else jobOpts[k] = v;
    }
  }
  return { jobOpts, repeat };
}

/** The definition of a schedule from its (validated) job and its schedule options. */
export function scheduleDefinition(
  job: NewJob,
  repeat: Record<string, unknown>,
  context: string,
): ScheduleDefinition {
  delete job.opts.jobId;
  delete job.opts.delay;
  delete job.opts.deduplication;
  const key = repeat.key ?? job.name;
  if (typeof key !== "string" || key === "" || key.length > MAX_KEY_LENGTH) {
    throw new RangeError(
      `${context}key must be a non-empty string of at most ${MAX_KEY_LENGTH} characters, got ${
        describe(key)
      }`,
    );
  }
  const def: ScheduleDefinition = {
    key,
    name: job.name,
    data: job.data,
    opts: job.opts,
    count: 0,
    next: null,
  };
  if (repeat.tz !== undefined) {
    if (typeof repeat.tz !== "string" || repeat.tz === "") {
      throw new TypeError(
        `${context}tz must be an IANA time zone name, got ${describe(repeat.tz)}`,
      );
    }
    def.tz = repeat.tz;
  }
  if (repeat.endDate !== undefined) {
    const end = repeat.endDate instanceof Date ? repeat.endDate.getTime() : repeat.endDate;
    if (typeof end !== "number" || !Number.isFinite(end)) {
      throw new TypeError(
        `${context}endDate must be a Date or ms since the epoch, got ${describe(repeat.endDate)}`,
      );
    }
    def.endDate = end;
  }
  if (repeat.limit !== undefined) def.limit = checkInt(repeat.limit, "limit", context, 1);
  return def;
}

/**
 * Register `def`: a new schedule gets its first run; the same definition again changes nothing
 * (or re-seeds a schedule whose pending run was lost); a changed definition replaces the old one
 * and its pending run.
 */
export async function registerSchedule(
  store: StoreInterface,
  queueName: string,
  def: ScheduleDefinition,
): Promise<RepeatableInfo> {
  const registry = registryQueueName(queueName);
  for (let attempt = 0; attempt < 5; attempt++) {
    const entry = await store.getJob(registry, def.key);
    if (!entry) {
      const saved = await store.saveJob(registry, {
        id: def.key,
        name: def.name,
        data: def,
        opts: { jobId: def.key },
        pendingChildrenCount: 1, // no children: it stays waiting-children, never claimed
      });
      if (saved.duplicate) continue; // registered concurrently: compare with that one
      return await seed(store, queueName, def.key);
    }
    const old = entry.data as ScheduleDefinition;
    if (sameDefinition(old, def)) {
      if (old.next !== null) {
        const pending = await store.getJob(queueName, runJobId(def.key, old.next));
        if (isLiveRun(pending)) return repeatableInfo(old);
      }
      return await seed(store, queueName, def.key); // the chain was lost (its run was removed)
    }
    if (old.next !== null) await removePendingRun(store, queueName, runJobId(def.key, old.next));
    if (!(await store.updateJob(registry, def.key, { data: def }))) continue;
    return await seed(store, queueName, def.key);
  }
  throw new InvalidJobStateError(
    `Cannot schedule job "${def.name}": schedule "${def.key}" keeps changing concurrently`,
  );
}

/** Remove a schedule and its pending run; `false` when there is no such schedule. */
export async function removeSchedule(
  store: StoreInterface,
  queueName: string,
  key: string,
): Promise<boolean> {
  const registry = registryQueueName(queueName);
  const entry = await store.getJob(registry, key);
  if (!entry) return false;
  if (!(await store.removeJob(registry, key))) return false;
  const def = entry.data as ScheduleDefinition;
  if (def.next !== null) await removePendingRun(store, queueName, runJobId(key, def.next));
  return true;
}

/** Every schedule of the queue, by key. */
export async function listSchedules(
  store: StoreInterface,
  queueName: string,
): Promise<RepeatableInfo[]> {
  const registry = registryQueueName(queueName);
  const out: RepeatableInfo[] = [];
  for (let offset = 0;; offset += 500) {
    const page = await store.listJobs(registry, undefined, { offset, limit: 500 });
    for (const entry of page) out.push(repeatableInfo(entry.data as ScheduleDefinition));
    if (page.length < 500) break;
  }
  return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

async function seed(
  store: StoreInterface,
  queueName: string,
  key: string,
): Promise<RepeatableInfo> {
  await enqueueNextRun(store, queueName, key, Date.now());
  const entry = await store.getJob(registryQueueName(queueName), key);
  if (!entry) {
    throw new InvalidJobStateError(`Schedule "${key}" was removed while being registered`);
  }
  return repeatableInfo(entry.data as ScheduleDefinition);
}

async function removePendingRun(
  store: StoreInterface,
  queueName: string,
  jobId: string,
): Promise<void> {
  const run = await store.getJob(queueName, jobId);
  if (run && (run.state === "delayed" || run.state === "waiting")) {
    try {
      await store.removeJob(queueName, jobId);
    } catch (error) {
      if (!(error instanceof InvalidJobStateError)) throw error; // claimed meanwhile: let it run
    }
  }
}

function repeatableInfo(def: ScheduleDefinition): RepeatableInfo {
  const info: RepeatableInfo = { key: def.key, name: def.name, count: def.count, next: def.next };
  if (def.pattern !== undefined) info.pattern = def.pattern;
  if (def.every !== undefined) info.every = def.every;
  if (def.tz !== undefined) info.tz = def.tz;
  if (def.endDate !== undefined) info.endDate = def.endDate;
  if (def.limit !== undefined) info.limit = def.limit;
  return info;
}
