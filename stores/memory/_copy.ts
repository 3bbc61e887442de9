/**
 * Deep copies of JSON values and stored jobs: how the memory store keeps callers' objects and
 * its own state apart. Everything stored was checked to be JSON first, so a plain recursive copy
 * is exact (and several times faster than `structuredClone`).
 *
 * @module
 */

import type { JobData } from "@conveyor/shared";

/** A deep copy of a JSON value (properties set to `undefined` are left out, as JSON does). */
export function copyJson<T>(value: T): T {
  if (typeof value !== "object" || value === null) return value;
  if (Array.isArray(value)) {
    const out = new Array(value.length);
    for (let i = 0; i < value.length; i++) out[i] = copyJson(value[i]);
    return out as T;
  }
  const out: Record<string, unknown> = {};
  for (const key in value) {
    const v = (value as Record<string, unknown>)[key];
    if (v !== undefined) out[key] = copyJson(v);
  }
  return out as T;
}

/** A deep copy of a stored job, safe to hand to a caller. */
export function copyJob(job: JobData): JobData {
  return {
    ...job,
    data: copyJson(job.data),
    opts: copyJson(job.opts),
    progress: copyJson(job.progress),
    returnValue: copyJson(job.returnValue),
    stacktrace: job.stacktrace.slice(),
    logs: job.logs.slice(),
  };
}
