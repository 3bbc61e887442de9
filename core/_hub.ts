// One store subscription per (store, queue) in this process, fanned out to the queues, workers
// and waiters that need it, plus the shared delayed-job promoter. The subscription is held only
// while a worker, a listener or a waiter needs it: a store publishes nothing for a queue nobody
// listens to.

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
  // Arrays replaced on change (not Sets): each event walks them without an iterator allocation,
  // and a walk already under way keeps the array it started with.
  #listeners: HubListener[] = [];
  #wakers: (() => void)[] = [];
  #waiters = new Map<string, Set<HubListener>>();
  #errorHandlers = new Set<(error: unknown) => void>();
  #onEmpty: () => void;
  #subscribed = false;
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
    this.#refs++;
  }

  release(): void {
    if (this.#refs === 0) return;
    if (--this.#refs === 0) {
      this.promoter.stop();
      this.#onEmpty();
      this.#unsubscribe();
    }
  }

  /** Subscribe to the store while someone needs its events, and only then. */
  #update(): void {
    const needed = this.#refs > 0 &&
      (this.#workers > 0 || this.#listeners.length > 0 || this.#waiters.size > 0);
    if (needed && !this.#subscribed) {
      this.store.subscribe(this.queueName, this.#storeListener);
      this.#subscribed = true;
    } else if (!needed && this.#subscribed) this.#unsubscribe();
  }

  #unsubscribe(): void {
    if (!this.#subscribed) return;
    this.#subscribed = false;
    try {
      this.store.unsubscribe(this.queueName, this.#storeListener);
    } catch {
      // the store was disconnected first: it has dropped its listeners already
    }
  }

  /** Receive every store event of the queue. */
  listen(listener: HubListener): () => void {
    if (!this.#listeners.includes(listener)) this.#listeners = [...this.#listeners, listener];
    return this.#registered(() => {
      this.#listeners = this.#listeners.filter((l) => l !== listener);
      this.#update();
    });
  }

  /** Register a worker: it is woken by `wake()` and keeps the promoter running. */
  attachWorker(wake: () => void, onError: (error: unknown) => void): () => void {
    if (!this.#wakers.includes(wake)) this.#wakers = [...this.#wakers, wake];
    this.#errorHandlers.add(onError);
    if (this.#workers++ === 0) this.promoter.start();
    return this.#registered(() => {
      this.#wakers = this.#wakers.filter((w) => w !== wake);
      this.#errorHandlers.delete(onError);
      if (--this.#workers === 0) this.promoter.stop();
      this.#update();
    });
  }

  /** Receive the store events that name job `jobId`. */
  waitFor(jobId: string, listener: HubListener): () => void {
    let set = this.#waiters.get(jobId);
    if (!set) {
      set = new Set();
      this.#waiters.set(jobId, set);
    }
    set.add(listener);
    return this.#registered(() => {
      const s = this.#waiters.get(jobId);
      if (!s) return;
      s.delete(listener);
      if (s.size === 0) {
        this.#waiters.delete(jobId);
        this.#update();
      }
    });
  }

  /**
   * A registration was just made: subscribe to the store if that is now needed. Returns `undo`,
   * which ends the registration; when subscribing fails, undoes it and rethrows.
   */
  #registered(undo: () => void): () => void {
    try {
      this.#update();
    } catch (error) {
      try {
        undo();
      } catch {
        // the subscribe error below is the one to report
      }
      throw error;
    }
    return undo;
  }

  /** Wake every worker of the queue (jobs may be waiting). */
  wake(): void {
    const wakers = this.#wakers;
    for (let i = 0; i < wakers.length; i++) {
      const wake = wakers[i];
      if (this.#wakers === wakers || this.#wakers.includes(wake)) wake();
    }
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
    const listeners = this.#listeners;
    for (let i = 0; i < listeners.length; i++) {
      const listener = listeners[i];
      // One removed by an earlier listener of this walk no longer hears it (as with a Set).
      if (this.#listeners !== listeners && !this.#listeners.includes(listener)) continue;
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
