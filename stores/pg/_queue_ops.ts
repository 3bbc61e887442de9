/**
 * What `PgStore`'s queue methods do: check the arguments, run the statement, deliver the events.
 * (Queries, delayed jobs, pauses, stalled jobs, cleanup, events, flows, deduplication, groups.)
 *
 * @module
 */

import type {
  FlowJobRecord,
  JobData,
  JobState,
  ListOptions,
  SaveResult,
  StalledRecovery,
  StoreEvent,
  StoreEventListener,
} from "@conveyor/shared";
import { StoreClosedError } from "@conveyor/shared";
import * as args from "./_args.ts";
import { type Connection, deliver } from "./_connection.ts";
import * as flows from "./_flows.ts";
import * as upkeep from "./_maintenance.ts";
import { queries } from "./_queries.ts";
import { saveTree } from "./pg_store_transaction.ts";

/** Jobs of the queue in `state` (all when omitted), by ascending `seq`. */
export async function listJobs(
  c: Connection,
  queueName: string,
  state?: JobState,
  opts?: ListOptions,
): Promise<JobData[]> {
  const db = c.ready();
  const q = args.queueName(queueName);
  const s = args.state(state, true) ?? null;
  const offset = opts?.offset === undefined ? 0 : args.int(opts.offset, "offset", 0);
  const limit = opts?.limit === undefined ? 100 : args.int(opts.limit, "limit", 0);
  return await queries.listJobs(db, q, s, offset, limit);
}

/** Number of jobs of the queue in `state` (all when omitted). */
export async function countJobs(
  c: Connection,
  queueName: string,
  state?: JobState,
): Promise<number> {
  const db = c.ready();
  return await queries.countJobs(db, args.queueName(queueName), args.state(state, true) ?? null);
}

/** Number of active jobs of the queue. */
export async function getActiveCount(c: Connection, queueName: string): Promise<number> {
  return await countJobs(c, queueName, "active");
}

/** Earliest `delayUntil` of the queue's delayed jobs, or `null`. */
export async function getNextDelayedTimestamp(
  c: Connection,
  queueName: string,
): Promise<number | null> {
  const db = c.ready();
  return await queries.nextDelayed(db, args.queueName(queueName));
}

/** Move delayed jobs due by `timestamp` (default: the database clock) to waiting. */
export async function promoteDelayedJobs(
  c: Connection,
  queueName: string,
  timestamp?: number,
): Promise<number> {
  const db = c.ready();
  const q = args.queueName(queueName);
  const ts = timestamp === undefined ? null : args.ms(timestamp, "timestamp", -Infinity);
  return deliver(c, await upkeep.promote(db, q, ts)).count;
}

/** Stop claims of `jobName` (`"*"`: the whole queue), in every process. */
export async function pauseJobName(
  c: Connection,
  queueName: string,
  jobName: string,
): Promise<void> {
  const db = c.ready();
  const q = args.queueName(queueName);
  c.deliver(await upkeep.setPaused(db, q, args.id(jobName, "jobName"), true));
}

/** Undo `pauseJobName`. */
export async function resumeJobName(
  c: Connection,
  queueName: string,
  jobName: string,
): Promise<void> {
  const db = c.ready();
  const q = args.queueName(queueName);
  c.deliver(await upkeep.setPaused(db, q, args.id(jobName, "jobName"), false));
}

/** Paused job names of the queue (with `"*"` when the queue is paused). */
export async function getPausedJobNames(c: Connection, queueName: string): Promise<string[]> {
  const db = c.ready();
  return await queries.pausedNames(db, args.queueName(queueName));
}

/** Active jobs whose lease expired on the database clock. */
export async function getStalledJobs(c: Connection, queueName: string): Promise<JobData[]> {
  const db = c.ready();
  return await queries.stalled(db, args.queueName(queueName));
}

/** Recover (or fail, past `maxStalledCount`) every stalled job, in one transaction. */
export async function recoverStalledJobs(
  c: Connection,
  queueName: string,
  maxStalledCount: number,
): Promise<StalledRecovery> {
  c.ready();
  const q = args.queueName(queueName);
  const max = args.int(maxStalledCount, "maxStalledCount", 0);
  const { recovered, failed } = deliver(c, await upkeep.recoverStalled(c.transact, q, max));
  return { recovered, failed };
}

/** Remove up to `limit` jobs in `state` finished (or added) more than `grace` ms ago. */
export async function clean(
  c: Connection,
  queueName: string,
  state: JobState,
  grace: number,
  limit?: number,
): Promise<string[]> {
  const db = c.ready();
  const q = args.queueName(queueName);
  const s = args.state(state, false) as JobState;
  const g = args.ms(grace, "grace");
  const n = limit === undefined ? null : args.int(limit, "limit", 0);
  return deliver(c, await upkeep.clean(db, q, s, g, n)).ids;
}

/** Remove the queue's waiting jobs (and delayed ones unless `delayed` is `false`). */
export async function drain(c: Connection, queueName: string, delayed?: boolean): Promise<number> {
  const db = c.ready();
  const q = args.queueName(queueName);
  if (delayed !== undefined && typeof delayed !== "boolean") {
    throw new TypeError(`delayed must be a boolean, got ${String(delayed)}`);
  }
  return deliver(c, await upkeep.drain(db, q, delayed ?? true)).removed;
}

/** Receive the queue's events, from this store and (over LISTEN) from every other process. */
export function subscribe(c: Connection, queueName: string, listener: StoreEventListener): void {
  if (c.closed) throw new StoreClosedError("PgStore");
  if (typeof listener !== "function") {
    throw new TypeError(`listener must be a function, got ${typeof listener}`);
  }
  c.hub.subscribe(args.queueName(queueName), listener);
}

/** Stop one listener, or every listener of the queue when `listener` is omitted. */
export function unsubscribe(c: Connection, queueName: string, listener?: StoreEventListener): void {
  c.hub.unsubscribe(queueName, listener);
}

/** Publish an event to subscribers here and, over NOTIFY, in every other process. */
export async function publish(c: Connection, event: StoreEvent): Promise<void> {
  c.ready();
  await c.publish(args.event(event));
}

/** Save a flow tree all-or-nothing, in one transaction. */
export async function saveFlow(c: Connection, jobs: FlowJobRecord[]): Promise<SaveResult[]> {
  return await saveTree(c.saving(), jobs);
}

/** Count child `childId` as done for its parent, once; `true` when it released the parent. */
export async function notifyChildCompleted(
  c: Connection,
  parentQueueName: string,
  parentId: string,
  childId: string,
): Promise<boolean> {
  const db = c.ready();
  const q = args.queueName(parentQueueName);
  const p = args.text(parentId, "parentId");
  const child = args.text(childId, "childId");
  return deliver(c, await flows.notifyChildCompleted(db, q, p, child)).released;
}

/** Apply the parent's failure policy for failed child `childId`, once. */
export async function failParentOnChildFailure(
  c: Connection,
  parentQueueName: string,
  parentId: string,
  childId: string,
  failedReason: string,
): Promise<void> {
  c.ready();
  const q = args.queueName(parentQueueName);
  const p = args.text(parentId, "parentId");
  const child = args.text(childId, "childId");
  const reason = args.text(failedReason, "failedReason", true);
  const events = await c.transact((tx) => flows.failParentOnChildFailure(tx, q, p, child, reason));
  c.deliver(events);
}

/** Direct children of a parent, across queues, by ascending `seq`. */
export async function getChildrenJobs(
  c: Connection,
  parentQueueName: string,
  parentId: string,
): Promise<JobData[]> {
  const db = c.ready();
  return await queries.children(
    db,
    args.queueName(parentQueueName),
    args.text(parentId, "parentId"),
  );
}

/** The live job holding deduplication `key` in the queue, or `null`. */
export async function findByDeduplicationKey(
  c: Connection,
  queueName: string,
  key: string,
): Promise<JobData | null> {
  const db = c.ready();
  return await queries.byDedupKey(db, args.queueName(queueName), args.text(key, "key"));
}

/** Active jobs of a group. */
export async function getGroupActiveCount(
  c: Connection,
  queueName: string,
  groupId: string,
): Promise<number> {
  const db = c.ready();
  const q = args.queueName(queueName);
  return await queries.groupCount(db, q, args.text(groupId, "groupId"), "active");
}

/** Waiting jobs of a group. */
export async function getWaitingGroupCount(
  c: Connection,
  queueName: string,
  groupId: string,
): Promise<number> {
  const db = c.ready();
  const q = args.queueName(queueName);
  return await queries.groupCount(db, q, args.text(groupId, "groupId"), "waiting");
}
