/**
 * `@conveyor/conformance`: the store contract suite. It proves that a
 * {@linkcode StoreInterface} implementation keeps every guarantee Conveyor's core relies on:
 * atomic claims, fenced leases, stalled recovery, exact flows, race-free deduplication, stored
 * pauses, delayed jobs, events, cleanup and queries.
 *
 * Register the suites in a test file, giving a factory that returns a fresh, empty, isolated
 * store (the suite calls it once per case, connects the store before the case and disconnects it
 * after):
 *
 * ```ts ignore
 * // my_store_conformance_test.ts — run with `deno test -A`
 * import { runConformance } from "@conveyor/conformance";
 * import { MyStore } from "./my_store.ts";
 *
 * runConformance("MyStore", () => new MyStore({ schema: crypto.randomUUID() }), {
 *   skip: { "events name their queue": "reason the store cannot meet it" },
 * });
 * ```
 *
 * A skip names one case exactly and gives a reason; an unknown name fails the run. Time-based
 * cases sleep for short real times (tens of milliseconds), because a store may judge time by its
 * own server clock.
 *
 * @example Listing the cases by area
 * ```ts
 * import { CONFORMANCE_AREAS, conformanceCases } from "@conveyor/conformance";
 *
 * for (const area of CONFORMANCE_AREAS) {
 *   const cases = conformanceCases().filter((c) => c.area === area);
 *   console.log(`${area}: ${cases.length} cases, e.g. "${cases[0].name}"`);
 * }
 * ```
 *
 * @module
 */

// The contract types the suite's API mentions, for documentation and convenience.
export type {
  BackoffOptions,
  DeduplicationOptions,
  FailParentPolicy,
  FetchOptions,
  FlowJobRecord,
  JobData,
  JobFailure,
  JobOptions,
  JobProgress,
  JobState,
  JobUpdate,
  JsonValue,
  KeepJobs,
  ListOptions,
  NewJob,
  RepeatInfo,
  SaveResult,
  StalledRecovery,
  StoredJobOptions,
  StoreEvent,
  StoreEventListener,
  StoreEventType,
  StoreInterface,
} from "@conveyor/shared";
export { CONFORMANCE_AREAS, type ConformanceArea, type ConformanceCase } from "./case.ts";
export {
  type CaseResult,
  checkSkipList,
  conformanceCases,
  type ConformanceOptions,
  type RunCasesOptions,
  runConformance,
  runConformanceCases,
  type StoreFactory,
} from "./runner.ts";
