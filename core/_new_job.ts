// The NewJob for Queue.add: the checks of shared's createNewJob (name, options, JSON payload,
// deduplication key) without its defensive payload copy (stores copy or serialise what they
// save) and without an await when no payload hash is needed. Valid input takes fast paths that
// build no message; invalid input gets the shared checks' errors.

import {
  assertJsonValue,
  generateId,
  type JobOptions,
  type NewJob,
  resolveDeduplicationKey,
  type StoredJobOptions,
  validateJobName,
  validateJobOptions,
} from "@conveyor/shared";
import { isJobName, isJson } from "./_json.ts";

/** Ids made ahead, a batch at a time, for the adds of this process; each is used once. */
const spareIds: string[] = [];
const ID_BATCH = 64;

/**
 * A fresh id (a random UUID, as `generateId` makes): taken from a batch made ahead, so an add
 * (above all the first one after an idle wait) runs no crypto call of its own.
 */
function nextId(): string {
  if (spareIds.length === 0) {
    for (let i = 0; i < ID_BATCH; i++) spareIds.push(generateId());
  }
  return spareIds.pop() as string;
}

function context(name: unknown): string {
  return typeof name === "string" ? `Cannot add job "${name}": ` : "Cannot add job: ";
}

export function buildNewJob<T>(
  name: string,
  data: T,
  opts: JobOptions | undefined,
): NewJob<T> | Promise<NewJob<T>> {
  if (!isJobName(name)) validateJobName(name, context(name));
  const stored: StoredJobOptions = opts === undefined
    ? {}
    : validateJobOptions(opts, context(name));
  if (!isJson(data)) assertJsonValue(data, `${context(name)}payload`);
  const job: NewJob<T> = { id: stored.jobId ?? nextId(), name, data, opts: stored };
  const dedup = stored.deduplication;
  if (dedup === undefined) return job;
  if (dedup.id !== undefined) {
    job.deduplicationKey = dedup.id;
    return job;
  }
  return resolveDeduplicationKey(name, data, stored).then((key) => {
    job.deduplicationKey = key;
    return job;
  });
}

/**
 * The NewJob of an add without options, or `null` when the name is not valid (the caller then
 * takes the general path, which throws the message naming it). The payload is not checked
 * here: the store refuses one that is not JSON, then {@linkcode checkPayload} names the add.
 */
export function fastNewJob<T>(name: string, data: T): NewJob<T> | null {
  if (!isJobName(name)) return null;
  return { id: nextId(), name, data, opts: {} };
}

/** Throw the add's own error when `data` is not JSON (as the general path does). */
export function checkPayload(name: string, data: unknown): void {
  if (!isJson(data)) assertJsonValue(data, `${context(name)}payload`);
}
