/**
 * Argument checks of the store's public methods. Each error names the field and the value. The
 * checks every store shares come from `@conveyor/shared`; what is left here turns the JSON values
 * into the text the database keeps.
 *
 * @module
 */

import {
  assertJsonValue,
  checkEvent as checkSharedEvent,
  checkNewJobId,
  checkNewJobName,
  checkNewJobRef,
  checkParentLink,
  checkPendingChildren,
  checkUpdate as checkSharedUpdate,
  saveJobContext,
  type StoredJobOptions,
  type StoreEvent,
  validateJobOptions,
} from "@conveyor/shared";

export {
  checkFailure,
  checkFetchOptions,
  checkId,
  checkInt,
  checkMs,
  checkState,
  checkToken,
} from "@conveyor/shared";

/** A new job after checking: optional fields resolved, payload as JSON text. */
export interface CheckedJob {
  id: string;
  name: string;
  data: string;
  opts: StoredJobOptions;
  deduplicationKey: string | null;
  parentId: string | null;
  parentQueueName: string | null;
  pendingChildrenCount: number;
}

/** A JSON value as JSON text, refused (naming `what`) when it is not JSON. */
function jsonText(value: unknown, what: string): string {
  assertJsonValue(value, what);
  return JSON.stringify(value);
}

/** A job for `saveJob`/`saveBulk`/`saveFlow`. */
export function checkNewJob(job: unknown, where: string): CheckedJob {
  const id = checkNewJobId(job, where);
  const j = job as Record<string, unknown>;
  const name = checkNewJobName(j.name, id);
  const context = saveJobContext(id);
  const data = jsonText(j.data, `${context}payload`);
  const opts = validateJobOptions(j.opts, context);
  checkParentLink(j.parentId, j.parentQueueName, id);
  return {
    id,
    name,
    data,
    opts,
    deduplicationKey: checkNewJobRef(j.deduplicationKey, id, "deduplicationKey"),
    parentId: checkNewJobRef(j.parentId, id, "parentId"),
    parentQueueName: checkNewJobRef(j.parentQueueName, id, "parentQueueName"),
    pendingChildrenCount: checkPendingChildren(j.pendingChildrenCount, id),
  };
}

/** An `updateJob` change, as JSON text (`null` for a field left alone). */
export function checkUpdate(update: unknown): { data: string | null; progress: string | null } {
  const { data = null, progress = null } = checkSharedUpdate(update, jsonText);
  return { data, progress };
}

/** A return value as JSON text (`undefined` becomes `null`). */
export function checkReturnValue(value: unknown): string {
  return value === undefined ? "null" : jsonText(value, "return value");
}

/** An event handed to `publish`, as a JSON copy. */
export function checkEvent(event: unknown): StoreEvent {
  return JSON.parse(jsonText(checkSharedEvent(event), "event"));
}
