/**
 * `@conveyor/store-memory`: Conveyor's in-memory store, for tests, development and
 * single-process use. It implements the whole `StoreInterface` contract (atomic claims, fenced
 * leases, flows, deduplication, groups, rate limits, pauses) with indexed structures, so a claim
 * from a million waiting jobs costs about what a claim from a thousand does.
 *
 * @example Swap the store in one line
 * ```ts
 * import { MemoryStore } from "@conveyor/store-memory";
 *
 * const store = new MemoryStore();
 * await store.connect();
 * await store.saveJob("emails", { id: "welcome-1", name: "send", data: { to: "a@example.com" }, opts: {} });
 * const job = await store.fetchNextJob("emails", "worker-1", 30_000);
 * console.log(job?.name, job?.state); // "send" "active"
 * await store.disconnect();
 * ```
 *
 * @module
 */

export { MemoryStore, type MemoryStoreOptions } from "./memory_store.ts";
// The contract types that MemoryStore's methods take and return, for documentation and convenience.
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
