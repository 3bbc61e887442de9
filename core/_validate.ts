// Argument checks for core's public entry points. Messages name the field and the value.

import type { StoreInterface } from "@conveyor/shared";

export function describe(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "bigint") return `${value}n`;
  if (typeof value === "function") return "a function";
  if (typeof value === "symbol") return value.toString();
  if (value === null || typeof value !== "object") return String(value);
  if (Array.isArray(value)) return "an array";
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}

export function checkObject(value: unknown, field: string, context: string): void {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new TypeError(`${context}${field} must be an object, got ${describe(value)}`);
  }
}

export function checkKeys(
  value: object,
  allowed: readonly string[],
  field: string,
  context: string,
): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) {
      throw new TypeError(
        `${context}unknown ${field} "${key}" (expected one of ${allowed.join(", ")})`,
      );
    }
  }
}

export function checkInt(value: unknown, field: string, context: string, min: number): number {
  if (typeof value !== "number" || !Number.isInteger(value)) {
    throw new TypeError(`${context}${field} must be an integer, got ${describe(value)}`);
  }
  if (value < min) throw new RangeError(`${context}${field} must be >= ${min}, got ${value}`);
  return value;
}

export function checkMs(value: unknown, field: string, context: string, min: number): number {
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new TypeError(`${context}${field} must be a finite number of ms, got ${describe(value)}`);
  }
  if (value < min) throw new RangeError(`${context}${field} must be >= ${min}, got ${value}`);
  return value;
}

export function checkBoolean(value: unknown, field: string, context: string): boolean {
  if (typeof value !== "boolean") {
    throw new TypeError(`${context}${field} must be a boolean, got ${describe(value)}`);
  }
  return value;
}

const STORE_METHODS = [
  "saveJob",
  "saveBulk",
  "getJob",
  "fetchNextJobs",
  "completeJob",
  "failJob",
  "subscribe",
  "unsubscribe",
] as const;

export function checkStore(store: unknown, context: string): StoreInterface {
  if (typeof store !== "object" || store === null) {
    throw new TypeError(`${context}store must be a StoreInterface, got ${describe(store)}`);
  }
  for (const method of STORE_METHODS) {
    if (typeof (store as Record<string, unknown>)[method] !== "function") {
      throw new TypeError(
        `${context}store must be a StoreInterface: it has no ${method}() method`,
      );
    }
  }
  return store as StoreInterface;
}
