// The NewJob for Queue.add: the checks of shared's createNewJob (name, options, JSON payload,
// deduplication key) without its defensive payload copy (stores copy or serialise what they
// save) and without an await when no payload hash is needed.

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

export function buildNewJob<T>(
  name: string,
  data: T,
  opts: JobOptions | undefined,
): NewJob<T> | Promise<NewJob<T>> {
  const context = typeof name === "string" ? `Cannot add job "${name}": ` : "Cannot add job: ";
  validateJobName(name, context);
  const stored: StoredJobOptions = opts === undefined ? {} : validateJobOptions(opts, context);
  assertJsonValue(data, `${context}payload`);
  const job: NewJob<T> = { id: stored.jobId ?? generateId(), name, data, opts: stored };
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
