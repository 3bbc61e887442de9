// Private helpers shared by the case files. Not exported from mod.ts.

import assert from "node:assert/strict";
import {
  type ConveyorErrorCode,
  createNewJob,
  type FetchOptions,
  type FlowJobRecord,
  isConveyorError,
  type JobData,
  type JobOptions,
  type NewJob,
  type StoreEvent,
  type StoreInterface,
} from "@conveyor/shared";
import type { ConformanceArea, ConformanceCase } from "./case.ts";

/** The queue most cases use. */
export const Q = "conformance";
/** A second queue, for isolation and cross-queue cases. */
export const Q2 = "conformance-other";
/** A third queue, for flows that span several queues. */
export const Q3 = "conformance-third";
/** A lease that never expires during a case. */
export const LONG = 60_000;
/** A lease that expires during a case. */
export const SHORT = 30;
/** How long to sleep for a {@linkcode SHORT} lease (or ttl) to expire, with margin. */
export const EXPIRE = 80;
/**
 * A span (lease, ttl, delay, window) that must not run out between two back-to-back calls, even
 * on a loaded machine, yet runs out during a case.
 */
export const SPAN = 100;
/** How long to sleep for a {@linkcode SPAN} to run out, with margin. */
export const PAST_SPAN = 160;
/** One hour, for delays that must not come due during a case. */
export const HOUR = 3_600_000;

/** A check against a connected store. */
export type Check = (store: StoreInterface) => Promise<void>;

/** Build the cases of one area from an object whose keys are the case names. */
export function defineCases(
  area: ConformanceArea,
  checks: Record<string, Check>,
): ConformanceCase[] {
  return Object.entries(checks).map(([name, fn]) => ({ area, name, fn }));
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A `NewJob` built the way core builds it; `id` becomes `opts.jobId`. */
export function newJob(
  id: string,
  opts: Omit<JobOptions, "jobId"> = {},
  data: unknown = { id },
  name = "task",
): Promise<NewJob> {
  return createNewJob(name, data, { ...opts, jobId: id });
}

/** Save a job and assert it was not a duplicate. */
export async function add(
  store: StoreInterface,
  id: string,
  opts: Omit<JobOptions, "jobId"> = {},
  queue = Q,
  name = "task",
): Promise<string> {
  const result = await store.saveJob(queue, await newJob(id, opts, { id }, name));
  assert.deepEqual(result, { id, duplicate: false }, `saveJob of "${id}" in "${queue}"`);
  return id;
}

/** Save `count` plain jobs named `${prefix}${i}` in one saveBulk; returns their ids. */
export async function addMany(
  store: StoreInterface,
  count: number,
  prefix = "j",
  opts: (i: number) => Omit<JobOptions, "jobId"> = () => ({}),
  queue = Q,
  name: (i: number) => string = () => "task",
): Promise<string[]> {
  const jobs = await Promise.all(
    Array.from({ length: count }, (_, i) => newJob(`${prefix}${i}`, opts(i), { i }, name(i))),
  );
  const results = await store.saveBulk(queue, jobs);
  assert.equal(results.filter((r) => !r.duplicate).length, count, "saveBulk saved every job");
  return jobs.map((j) => j.id);
}

/** Read a job and assert it exists. */
export async function get(store: StoreInterface, id: string, queue = Q): Promise<JobData> {
  const job = await store.getJob(queue, id);
  assert.ok(job, `job "${id}" should exist in "${queue}"`);
  return job;
}

/** Claim the next job and assert there was one. */
export async function claim(
  store: StoreInterface,
  queue = Q,
  worker = "w1",
  lockDuration = LONG,
  opts?: FetchOptions,
): Promise<JobData> {
  const job = await store.fetchNextJob(queue, worker, lockDuration, opts);
  assert.ok(job, `fetchNextJob on "${queue}" should return a job`);
  return job;
}

/** The lock token of a claimed job (asserting it has one). */
export function token(job: JobData): string {
  assert.equal(typeof job.lockToken, "string", `claimed job "${job.id}" has a lockToken`);
  return job.lockToken as string;
}

/** Claim job `id` in particular: claims in order until it comes, and gives the others back. */
export async function claimJob(
  store: StoreInterface,
  id: string,
  queue = Q,
  worker = "w1",
  lockDuration = LONG,
): Promise<JobData> {
  const others: JobData[] = [];
  try {
    for (let i = 0; i < 500; i++) {
      const job = await store.fetchNextJob(queue, worker, lockDuration);
      if (job === null) break;
      if (job.id === id) return job;
      others.push(job);
    }
  } finally {
    for (const other of others) await store.releaseLock(queue, other.id, token(other));
  }
  throw new assert.AssertionError({ message: `job "${id}" could not be claimed from "${queue}"` });
}

/** Claim job `id` and complete it, asserting the completion applied. */
export async function complete(
  store: StoreInterface,
  id: string,
  queue = Q,
  returnValue: unknown = null,
): Promise<void> {
  const job = await claimJob(store, id, queue);
  assert.equal(await store.completeJob(queue, id, token(job), returnValue), true, `complete ${id}`);
}

/** Claim job `id` and fail it for good, asserting the failure applied. */
export async function failForGood(
  store: StoreInterface,
  id: string,
  queue = Q,
  failedReason = "boom",
): Promise<void> {
  const job = await claimJob(store, id, queue);
  const applied = await store.failJob(queue, id, token(job), { failedReason, retryDelay: null });
  assert.equal(applied, true, `fail ${id}`);
}

/** Assert a job's state. */
export async function assertState(
  store: StoreInterface,
  id: string,
  state: JobData["state"],
  queue = Q,
): Promise<JobData> {
  const job = await get(store, id, queue);
  assert.equal(job.state, state, `state of job "${id}" in "${queue}"`);
  return job;
}

/** Assert a job is gone. */
export async function assertGone(store: StoreInterface, id: string, queue = Q): Promise<void> {
  assert.equal(await store.getJob(queue, id), null, `job "${id}" should be gone from "${queue}"`);
}

/** Assert `fn` rejects (or throws) with a Conveyor error of `code`. */
export async function rejectsWithCode(
  fn: () => Promise<unknown>,
  code: ConveyorErrorCode,
  what: string,
): Promise<void> {
  let caught: { error: unknown } | undefined;
  try {
    await fn();
  } catch (error) {
    caught = { error };
  }
  if (!caught) {
    throw new assert.AssertionError({ message: `${what}: expected ${code}, but it resolved` });
  }
  assert.ok(
    isConveyorError(caught.error, code),
    `${what}: expected a ConveyorError with code ${code}, got ${String(caught.error)}`,
  );
}

/**
 * Make a job's lease expire and let another worker re-take it: claims with a short lease,
 * sleeps past it, recovers stalled jobs, claims again as `w2`.
 */
export async function expireAndReclaim(
  store: StoreInterface,
  id: string,
  queue = Q,
): Promise<{ stale: string; fresh: string }> {
  const first = await claimJob(store, id, queue, "w1", SHORT);
  await sleep(EXPIRE);
  const recovery = await store.recoverStalledJobs(queue, 10);
  assert.deepEqual(recovery.recovered, [id], "the expired job was recovered");
  const second = await claimJob(store, id, queue, "w2", LONG);
  assert.notEqual(token(second), token(first), "the re-claim has a new token");
  return { stale: token(first), fresh: token(second) };
}

/** Events received by one subscription. */
export interface EventLog {
  readonly events: StoreEvent[];
  /** Wait until an event matching `match` arrives (or fail after `timeout` ms). */
  waitFor(match: (e: StoreEvent) => boolean, what: string, timeout?: number): Promise<StoreEvent>;
  /** Unsubscribe this listener. */
  stop(): void;
}

/** Subscribe a recording listener to `queue`. */
export function listen(store: StoreInterface, queue = Q): EventLog {
  const events: StoreEvent[] = [];
  const listener = (event: StoreEvent) => void events.push(event);
  store.subscribe(queue, listener);
  return {
    events,
    async waitFor(match, what, timeout = 300) {
      const deadline = Date.now() + timeout;
      for (;;) {
        const found = events.find(match);
        if (found) return found;
        if (Date.now() > deadline) {
          throw new assert.AssertionError({
            message: `expected ${what} within ${timeout} ms; got ${JSON.stringify(events)}`,
          });
        }
        await sleep(5);
      }
    },
    stop: () => store.unsubscribe(queue, listener),
  };
}

/** A node of a flow tree for {@linkcode flowRecords}. */
export interface TreeNode {
  id: string;
  queue?: string;
  opts?: Omit<JobOptions, "jobId">;
  children?: TreeNode[];
}

/** Flatten a tree into `saveFlow` records, children before parents, counts filled in. */
export async function flowRecords(
  node: TreeNode,
  parent?: { id: string; queueName: string },
): Promise<FlowJobRecord[]> {
  const queueName = node.queue ?? Q;
  const children = node.children ?? [];
  const out: FlowJobRecord[] = [];
  for (const child of children) out.push(...await flowRecords(child, { id: node.id, queueName }));
  const job = await newJob(node.id, node.opts, { id: node.id }, `node-${node.id}`);
  out.push({
    ...job,
    queueName,
    parentId: parent?.id ?? null,
    parentQueueName: parent?.queueName ?? null,
    pendingChildrenCount: children.length,
  });
  return out;
}

/** Save a flow tree and assert nothing was a duplicate. */
export async function saveTree(store: StoreInterface, root: TreeNode): Promise<FlowJobRecord[]> {
  const records = await flowRecords(root);
  const results = await store.saveFlow(records);
  assert.deepEqual(results, records.map((r) => ({ id: r.id, duplicate: false })), "saveFlow");
  return records;
}

/** Total jobs in every given queue. */
export async function countAll(store: StoreInterface, queues = [Q, Q2, Q3]): Promise<number> {
  let total = 0;
  for (const q of queues) total += await store.countJobs(q);
  return total;
}

/** One claim made by {@linkcode claimConcurrently}. */
export interface Claim {
  id: string;
  worker: string;
  token: string | null;
}

/** Options of {@linkcode claimConcurrently}. */
export interface ConcurrentClaimOptions {
  fetchers?: number;
  batch?: number;
  fetch?: FetchOptions;
  /** Complete each job right after claiming it (frees group/global slots). */
  finish?: boolean;
  /** Called right after each claim, before the job is finished; may throw. */
  onClaim?: (job: JobData) => void;
  /** Called right before the job is completed. */
  onFinish?: (job: JobData) => void;
  /** Stop after this many claims in total (guards against a store that never runs dry). */
  maxClaims: number;
}

/**
 * Run `fetchers` loops at once, each claiming until the store returns nothing (with `batch`,
 * through `fetchNextJobs`). Returns every claim in the order they arrived.
 */
export async function claimConcurrently(
  store: StoreInterface,
  options: ConcurrentClaimOptions,
  queue = Q,
): Promise<Claim[]> {
  const claims: Claim[] = [];
  const loop = async (worker: string) => {
    while (claims.length < options.maxClaims) {
      const got = options.batch === undefined
        ? [await store.fetchNextJob(queue, worker, LONG, options.fetch)].filter((j) => j !== null)
        : await store.fetchNextJobs(queue, worker, LONG, options.batch, options.fetch);
      if (got.length === 0) return;
      for (const job of got) {
        claims.push({ id: job.id, worker, token: job.lockToken });
        options.onClaim?.(job);
      }
      await sleep(0);
      if (options.finish) {
        for (const job of got) {
          options.onFinish?.(job);
          await store.completeJob(queue, job.id, token(job), null);
        }
      }
    }
  };
  await Promise.all(Array.from({ length: options.fetchers ?? 20 }, (_, i) => loop(`w${i}`)));
  return claims;
}

/** Assert every id in `expected` was claimed exactly once and nothing else was claimed. */
export function assertClaimedOnce(claims: Claim[], expected: readonly string[]): void {
  const seen = new Map<string, number>();
  for (const c of claims) seen.set(c.id, (seen.get(c.id) ?? 0) + 1);
  const twice = [...seen].filter(([, n]) => n > 1).map(([id, n]) => `${id} x${n}`);
  assert.deepEqual(twice, [], "jobs leased to more than one worker");
  assert.deepEqual([...seen.keys()].sort(), [...expected].sort(), "the set of claimed jobs");
  const tokens = new Set(claims.map((c) => c.token));
  assert.equal(tokens.size, claims.length, "every claim has its own lock token");
}
