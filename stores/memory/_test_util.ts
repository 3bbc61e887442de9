/**
 * Helpers shared by the memory store's tests.
 *
 * @module
 */

import type { NewJob, StoredJobOptions, StoreEvent } from "@conveyor/shared";
import { MemoryStore } from "./memory_store.ts";

/** A store on a clock the test moves by hand. */
export function storeWithClock(start = 1_000_000): {
  store: MemoryStore;
  clock: { now: number };
} {
  const clock = { now: start };
  return { store: new MemoryStore({ clock: () => clock.now }), clock };
}

/** A new job with sensible defaults. */
export function newJob(
  id: string,
  opts: StoredJobOptions = {},
  extra: Partial<NewJob> = {},
): NewJob {
  return { id, name: "task", data: { id }, opts, ...extra };
}

/** Wait until queued microtasks (event deliveries) have run. */
export function flushEvents(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** Collect the events of a queue. */
export function collect(store: MemoryStore, queueName: string): StoreEvent[] {
  const events: StoreEvent[] = [];
  store.subscribe(queueName, (e) => events.push(e));
  return events;
}
