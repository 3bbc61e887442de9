/**
 * Argument checks of the memory store's public methods. Each error names the field and value.
 * The checks every store shares come from `@conveyor/shared`; what is left here copies the JSON
 * values while checking them (the store keeps copies, never the caller's objects).
 *
 * @module
 */

import {
  checkNewJobId,
  checkNewJobName,
  checkNewJobRef,
  checkParentLink,
  checkPendingChildren,
  checkUpdate as checkSharedUpdate,
  isValidJobName,
  type JobData,
  type JobProgress,
  type JobUpdate,
  MAX_NAME_LENGTH,
  saveJobContext,
  type StoredJobOptions,
  validateJobOptions,
} from "@conveyor/shared";
import { copyChecked, NOT_COPIED, tryCopyJson } from "./_copy.ts";
import { NO_LINES } from "./_core.ts";

/**
 * A {@linkcode NewJob} after checking: the job as it will be stored, every optional field
 * resolved (`data` a copy). {@linkcode StoreCore.insert} fills in what only saving decides
 * (`queueName`, `seq`, `createdAt`, the state); until then `parentQueueName` is `null` for a
 * parent in the job's own queue.
 */
export type CheckedJob = JobData;

/** The options of every job saved without any: stored jobs never change their options. */
const NO_OPTIONS: StoredJobOptions = Object.freeze({});

/** Whether `opts` is an empty plain object: nothing to check, `{}` to store. */
function emptyOptions(opts: unknown): boolean {
  if (typeof opts !== "object" || opts === null) return false;
  const proto = Object.getPrototypeOf(opts);
  if (proto !== Object.prototype && proto !== null) return false;
  for (const _ in opts) return false;
  return true;
}

/**
 * Check a job handed to `saveJob`/`saveBulk`/`saveFlow` and resolve its optional fields. The
 * payload is checked and copied in one walk; the message context is only built for an error.
 */
export function checkNewJob(job: unknown, where: string): CheckedJob {
  // Valid fields pass the inline tests (no call, no message); anything else gets the shared
  // checks, which throw the message naming it.
  const j = job as Record<string, unknown>;
  let id: string;
  const given = typeof job === "object" && job !== null && !Array.isArray(job) ? j.id : undefined;
  if (typeof given === "string" && given.length > 0 && given.length <= MAX_NAME_LENGTH) id = given;
  else id = checkNewJobId(job, where);
  const n = j.name;
  const name = isValidJobName(n) ? n : checkNewJobName(n, id);
  const d = j.data;
  let data = tryCopyJson(d);
  if (data === NOT_COPIED) data = copyChecked(d, `${saveJobContext(id)}payload`);
  const o = j.opts;
  const opts: StoredJobOptions = o === undefined || emptyOptions(o)
    ? NO_OPTIONS
    : validateJobOptions(o, saveJobContext(id));
  const dk = j.deduplicationKey;
  const pid = j.parentId;
  const pq = j.parentQueueName;
  const pc = j.pendingChildrenCount;
  let deduplicationKey: string | null = null;
  let parentId: string | null = null;
  let parentQueueName: string | null = null;
  let pendingChildrenCount = 0;
  // A job of no flow and no deduplication (most jobs) names none of these.
  if (dk !== undefined || pid !== undefined || pq !== undefined || pc !== undefined) {
    deduplicationKey = checkNewJobRef(dk, id, "deduplicationKey");
    parentId = checkNewJobRef(pid, id, "parentId");
    parentQueueName = checkNewJobRef(pq, id, "parentQueueName");
    checkParentLink(parentId, parentQueueName, id);
    pendingChildrenCount = checkPendingChildren(pc, id);
  }
  // Every field of JobData, in its order (one shape for every stored job).
  return {
    id,
    queueName: "",
    name,
    data,
    state: "waiting",
    opts,
    priority: opts.priority ?? 0,
    seq: 0,
    attemptsMade: 0,
    attemptsStarted: 0,
    stalledCount: 0,
    progress: 0,
    returnValue: null,
    failedReason: null,
    stacktrace: NO_LINES,
    logs: NO_LINES,
    // NaN until insert: a double from the start, as clock readings are (no map change then).
    createdAt: NaN,
    delayUntil: null,
    processedAt: null,
    finishedAt: null,
    lockedBy: null,
    lockToken: null,
    lockUntil: null,
    parentId,
    parentQueueName,
    pendingChildrenCount,
    deduplicationKey,
    groupId: opts.groupId ?? null,
  };
}

/** Check a `updateJob` change; returns copies of the new payload and progress. */
export function checkUpdate(update: unknown): JobUpdate {
  return checkSharedUpdate(update, copyChecked) as { data?: unknown; progress?: JobProgress };
}

/** A return value as stored: `undefined` becomes `null`; anything not JSON is refused. */
export function checkReturnValue(value: unknown): unknown {
  if (value === undefined) return null;
  return copyChecked(value, "return value");
}
