// Small helpers shared by core modules.

import { assertJsonValue } from "@conveyor/shared";
import { isJson } from "./_json.ts";

/** `value` as an Error (non-errors are wrapped, their text kept). */
export function toError(value: unknown): Error {
  if (value instanceof Error) return value;
  let text: string;
  try {
    text = typeof value === "string" ? value : JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return new Error(text);
}

/** Why `value` cannot be stored as a return value, or `undefined` when it can. */
export function returnValueProblem(value: unknown, jobId: string): TypeError | undefined {
  switch (typeof value) {
    case "string":
    case "boolean":
      return undefined;
    case "number":
      if (Number.isFinite(value)) return undefined;
      break;
    case "object":
      if (value === null || isJson(value)) return undefined;
      break;
  }
  try {
    assertJsonValue(value, `Return value of job "${jobId}"`);
    return undefined;
  } catch (error) {
    return error as TypeError;
  }
}
