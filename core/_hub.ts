// One store subscription per (store, queue) in this process, fanned out to the queues, workers
// and waiters that need it, plus the shared delayed-job promoter.

import type { StoreEvent, StoreInterface } from "@conveyor/shared";
import { DelayedPromoter } from "./_promoter.ts";

export type HubListener = (event: StoreEvent) => void;

const hubs = new WeakMap<StoreInterface, Map<string, QueueHub>>();

/** Get (and hold a reference to) the hub of `queueName` on `store`. Call `release()` when done. */
export function acquireHub(store: StoreInterface, queueName: string): QueueHub {
  let byQueue = hubs.get(store);
  if (!byQueue) {
    byQueue = new Map();
    hubs.set(store, byQueue);
  }
  let hub = byQueue.get(queueName);
  if (!hub) {
    hub = new QueueHub(store, queueName, () => byQueue.delete(queueName));
    byQueue.set(queueName, hub);
  }
  hub.retain();
  return hub;
}

export class QueueHub {
  readonly store: StoreInterface;
  readonly queueName: string;
  readonly promoter: DelayedPromoter;
  #refs = 0;
  #workers = 0;
  #listeners = new Set<HubListener>();
  #wakers = new Set<() => void>();
  #waiters = new Map<string, Set<HubListener>>();
  #errorHandlers = new Set<(error: unknown) => void>();
  #onEmpty: () => void;
  #storeListener: HubListener = (event) => this.#dispatch(event);

  constructor(store: StoreInterface, queueName: string, onEmpty: () => void) {
    this.store = store;
    this.queueName = queueName;
    this.#onEmpty = onEmpty;
    this.promoter = new DelayedPromoter(
      store,
      queueName,
      () => this.wake(),
      (error) => this.reportError(error),
    );
  }

  retain(): void {
    if (this.#refs++ === 0) this.store.subscribe(this.queueName, this.#storeListener);
  }

  release(): void {
    if (this.#refs === 0) return;
    if (--this.#refs === 0) {
      this.promoter.stop();
      this.#onEmpty();
      try {
        this.store.unsubscribe(this.queueName, this.#storeListener);
      } catch {
        // the store was disconnected first: it has dropped its listeners already
      }
    }
  }

  /** Receive every store event of the queue. */
  listen(listener: HubListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Register a worker: it is woken by `wake()` and keeps the promoter running. */
  attachWorker(wake: () => void, onError: (error: unknown) => void): () => void {
    this.#wakers.add(wake);
    this.#errorHandlers.add(onError);
    if (this.#workers++ === 0) this.promoter.start();
    return () => {
      this.#wakers.delete(wake);
      this.#errorHandlers.delete(onError);
      if (--this.#workers === 0) this.promoter.stop();
    };
  }

  /** Receive the store events that name job `jobId`. */
  waitFor(jobId: string, listener: HubListener): () => void {
    let set = this.#waiters.get(jobId);
    if (!set) {
      set = new Set();
      this.#waiters.set(jobId, set);
    }
    set.add(listener);
    return () => {
      const s = this.#waiters.get(jobId);
      if (!s) return;
      s.delete(listener);
      if (s.size === 0) this.#waiters.delete(jobId);
    };
  }

  /** Wake every worker of the queue (jobs may be waiting). */
  wake(): void {
    for (const wake of this.#wakers) wake();
  }

  reportError(error: unknown): void {
    for (const handler of this.#errorHandlers) handler(error);
  }

  #dispatch(event: StoreEvent): void {
    switch (event.type) {
      case "waiting":
      case "resumed":
        this.wake();
        break;
      case "delayed": {
        const at = event.detail?.delayUntil;
        if (typeof at === "number") this.promoter.schedule(at);
        else this.promoter.refresh();
        break;
      }
    }
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch (error) {
        this.reportError(error);
      }
    }
    if (event.jobId === undefined && this.#waiters.size > 0) {
      // Bulk removals name no job: every waiter re-checks its own.
      if (event.type === "cleaned" || event.type === "drained") {
        for (const set of [...this.#waiters.values()]) {
          for (const listener of set) listener(event);
        }
      }
    } else if (event.jobId !== undefined && this.#waiters.size > 0) {
      const set = this.#waiters.get(event.jobId);
      if (set) {
        for (const listener of set) {
          try {
            listener(event);
          } catch (error) {
            this.reportError(error);
          }
        }
      }
    }
  }
}
