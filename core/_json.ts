// Fast checks for the hot path of Queue.add, building no message: the rules of shared's
// assertJsonValue and validateJobName. `false` means "not proven valid": the caller then runs the
// shared check, which throws the message naming the field (or, for a very deep payload, passes).

import { ALL_JOB_NAMES, MAX_NAME_LENGTH } from "@conveyor/shared";

/** Nesting depth up to which cycles are found by scanning the ancestors. */
const MAX_SCAN_DEPTH = 64;
/** The check gave up: the value is not JSON, or too deep to check cheaply. */
const GIVE_UP = 0;
const OK = 1;

/** Whether `value` is JSON as `assertJsonValue` defines it (`false` also for very deep values). */
export function isJson(value: unknown): boolean {
  switch (typeof value) {
    case "string":
    case "boolean":
      return true;
    case "number":
      return Number.isFinite(value);
    case "object":
      return value === null || walk(value, null) === OK;
  }
  return false;
}

function isLeaf(v: unknown): boolean {
  switch (typeof v) {
    case "string":
    case "boolean":
      return true;
    case "number":
      return Number.isFinite(v);
  }
  return false;
}

/** `anc`: the ancestors of `obj` and `obj` itself (`null` at the root until a child needs it). */
function walk(obj: object, anc: object[] | null): number {
  if (Array.isArray(obj)) {
    for (let i = 0; i < obj.length; i++) {
      const v = obj[i];
      if (typeof v === "object" && v !== null) {
        anc ??= [obj];
        if (child(v, anc) === GIVE_UP) return GIVE_UP;
      } else if (v !== null && !isLeaf(v)) return GIVE_UP;
    }
    return OK;
  }
  const proto = Object.getPrototypeOf(obj);
  if (proto !== Object.prototype && proto !== null) return GIVE_UP;
  const keys = Object.keys(obj);
  for (let i = 0; i < keys.length; i++) {
    const v = (obj as Record<string, unknown>)[keys[i]];
    if (typeof v === "object" && v !== null) {
      anc ??= [obj];
      if (child(v, anc) === GIVE_UP) return GIVE_UP;
    } else if (v !== null && v !== undefined && !isLeaf(v)) return GIVE_UP;
  }
  return OK;
}

function child(v: object, anc: object[]): number {
  const depth = anc.length;
  if (depth >= MAX_SCAN_DEPTH) return GIVE_UP;
  for (let i = 0; i < depth; i++) if (anc[i] === v) return GIVE_UP;
  anc.push(v);
  const result = walk(v, anc);
  anc.pop();
  return result;
}

/** Whether `name` is a valid job name as `validateJobName` defines it. */
export function isJobName(name: unknown): boolean {
  if (typeof name !== "string" || name.length === 0 || name.length > MAX_NAME_LENGTH) return false;
  for (let i = 0; i < name.length; i++) if (name.charCodeAt(i) < 0x20) return false;
  return name !== ALL_JOB_NAMES;
}
