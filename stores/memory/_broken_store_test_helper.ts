/**
 * Deliberately broken stores, kept with the tests to prove the conformance suite can fail.
 * Each wraps a real MemoryStore and breaks one guarantee.
 *
 * @module
 */

import { FlowError, type JobData, type StoreInterface } from "@conveyor/shared";
import { MemoryStore } from "./mod.ts";

type Overrides = Partial<{ [K in keyof StoreInterface]: StoreInterface[K] }>;

/** A MemoryStore with some methods replaced. */
function wrap(make: (inner: MemoryStore) => Overrides): StoreInterface {
  const inner = new MemoryStore();
  const overrides: Record<PropertyKey, unknown> = make(inner);
  return new Proxy(inner, {
    get(target, prop) {
      if (Object.hasOwn(overrides, prop)) return overrides[prop];
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/**
 * Breaks atomic claims: every third `fetchNextJob` hands out the job it claimed last time again
 * (to a new worker), and `fetchNextJobs` appends the previously claimed job to each batch.
 */
export function doubleLeasingStore(): StoreInterface {
  return wrap((inner) => {
    let calls = 0;
    let last: JobData | null = null;
    return {
      async fetchNextJob(queueName, workerId, lockDuration, opts) {
        calls++;
        if (calls % 3 === 0 && last !== null) return { ...last, lockedBy: workerId };
        const job = await inner.fetchNextJob(queueName, workerId, lockDuration, opts);
        if (job) last = job;
        return job;
      },
      async fetchNextJobs(queueName, workerId, lockDuration, count, opts) {
        const jobs = await inner.fetchNextJobs(queueName, workerId, lockDuration, count, opts);
        const previous = last;
        if (jobs.length > 0) last = jobs[jobs.length - 1];
        return previous && jobs.length > 0 ? [...jobs, { ...previous, lockedBy: workerId }] : jobs;
      },
    };
  });
}

/** Breaks lease fencing: every fenced call presents the job's current token instead of its own. */
export function unfencedStore(): StoreInterface {
  return wrap((inner) => {
    const current = async (queueName: string, jobId: string, given: string) =>
      (await inner.getJob(queueName, jobId))?.lockToken ?? given;
    return {
      async completeJob(queueName, jobId, token, value) {
        return inner.completeJob(queueName, jobId, await current(queueName, jobId, token), value);
      },
      async failJob(queueName, jobId, token, failure) {
        return inner.failJob(queueName, jobId, await current(queueName, jobId, token), failure);
      },
      async extendLock(queueName, jobId, token, duration) {
        return inner.extendLock(queueName, jobId, await current(queueName, jobId, token), duration);
      },
      async releaseLock(queueName, jobId, token) {
        return inner.releaseLock(queueName, jobId, await current(queueName, jobId, token));
      },
      async updateJob(queueName, jobId, update, token) {
        const used = token === undefined ? undefined : await current(queueName, jobId, token);
        return inner.updateJob(queueName, jobId, update, used);
      },
      async addLog(queueName, jobId, line, token) {
        const used = token === undefined ? undefined : await current(queueName, jobId, token);
        return inner.addLog(queueName, jobId, line, used);
      },
    };
  });
}

/** Breaks stored pauses: `pauseJobName` accepts the call and stores nothing. */
export function forgetfulPauseStore(): StoreInterface {
  return wrap(() => ({ pauseJobName: () => Promise.resolve() }));
}

/** Breaks all-or-nothing flows: `saveFlow` saves the records one by one, stopping at a failure. */
export function piecemealFlowStore(): StoreInterface {
  return wrap((inner) => ({
    async saveFlow(records) {
      const results = [];
      for (const record of records) {
        const { queueName, ...job } = record;
        results.push(await inner.saveJob(queueName, job));
        if (results.at(-1)!.duplicate) throw new FlowError(`"${record.id}" is held`);
      }
      return results;
    },
  }));
}
