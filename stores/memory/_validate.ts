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
  type JobProgress,
  type JobUpdate,
  saveJobContext,
  type StoredJobOptions,
  validateJobOptions,
} from "@conveyor/shared";
import { copyChecked, NOT_COPIED, tryCopyJson } from "./_copy.ts";

/** A {@linkcode NewJob} after checking, with every optional field resolved (`data` a copy). */
export interface CheckedJob {
  id: string;
  name: string;
  data: unknown;
  opts: StoredJobOptions;
  deduplicationKey: string | null;
  parentId: string | null;
  parentQueueName: string | null;
  pendingChildrenCount: number;
}

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
  const id = checkNewJobId(job, where);
  const j = job as Record<string, unknown>;
  const name = checkNewJobName(j.name, id);
  let data = tryCopyJson(j.data);
  if (data === NOT_COPIED) data = copyChecked(j.data, `${saveJobContext(id)}payload`);
  const o = j.opts;
  const opts: StoredJobOptions = o === undefined || emptyOptions(o)
    ? NO_OPTIONS
    : validateJobOptions(o, saveJobContext(id));
  const deduplicationKey = checkNewJobRef(j.deduplicationKey, id, "deduplicationKey");
  const parentId = checkNewJobRef(j.parentId, id, "parentId");
  const parentQueueName = checkNewJobRef(j.parentQueueName, id, "parentQueueName");
  checkParentLink(parentId, parentQueueName, id);
  return {
    id,
    name,
    data,
    opts,
    deduplicationKey,
    parentId,
    parentQueueName,
    pendingChildrenCount: checkPendingChildren(j.pendingChildrenCount, id),
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
