/**
 * The shape of one conformance case.
 *
 * @module
 */

import type { StoreInterface } from "@conveyor/shared";

/** The areas of the store contract; each becomes one `Deno.test` suite. */
export type ConformanceArea =
  | "lifecycle"
  | "crud"
  | "claim"
  | "lease"
  | "delayed"
  | "pause"
  | "stalled"
  | "cleanup"
  | "events"
  | "flows"
  | "dedup"
  | "groups"
  | "queries"
  | "bad-input";

/** Every {@linkcode ConformanceArea}, in the order the suites run. */
export const CONFORMANCE_AREAS: readonly ConformanceArea[] = Object.freeze([
  "lifecycle",
  "crud",
  "claim",
  "lease",
  "delayed",
  "pause",
  "stalled",
  "cleanup",
  "events",
  "flows",
  "dedup",
  "groups",
  "queries",
  "bad-input",
]);

/**
 * One statement of the store contract and the check that proves it.
 *
 * The runner hands `fn` a fresh store on which `connect()` already resolved, and disconnects it
 * afterwards whatever happens; `fn` throws (usually an `AssertionError`) when the store breaks
 * the statement.
 */
export interface ConformanceCase {
  /** Area of the contract the case belongs to. */
  readonly area: ConformanceArea;
  /** The statement the case proves, unique across all cases; used to skip it. */
  readonly name: string;
  /** The check; resolves when the store honours the statement. */
  readonly fn: (store: StoreInterface) => Promise<void>;
}
