/**
 * In-process event delivery for the memory store.
 *
 * @module
 */

import type { StoreEvent, StoreEventListener } from "@conveyor/shared";
import { copyJson } from "./_copy.ts";

/**
 * Listeners per queue. Events are delivered asynchronously (in a microtask, in publish order),
 * each listener gets its own copy, and a listener that throws affects neither the store nor the
 * other listeners.
 *
 * Listener lists are copied on change, not on publish: a pending event keeps the list that was
 * current when it was published, and checks membership again at delivery.
 */
export class EventHub {
  #listeners: Map<string, StoreEventListener[]> = new Map();
  /** Undelivered events, each followed by its listener list. */
  #pending: (StoreEvent | StoreEventListener[])[] = [];
  #scheduled = false;
  #closed = false;

  /** Add a listener for a queue's events. */
  subscribe(queueName: string, listener: StoreEventListener): void {
    const list = this.#listeners.get(queueName);
    if (!list) this.#listeners.set(queueName, [listener]);
    else if (!list.includes(listener)) this.#listeners.set(queueName, [...list, listener]);
  }

  /** Remove one listener, or all of the queue's listeners. */
  unsubscribe(queueName: string, listener?: StoreEventListener): void {
    if (listener === undefined) {
      this.#listeners.delete(queueName);
      return;
    }
    const list = this.#listeners.get(queueName);
    if (!list || !list.includes(listener)) return;
    if (list.length === 1) this.#listeners.delete(queueName);
    else this.#listeners.set(queueName, list.filter((l) => l !== listener));
  }

  /** Whether the queue has listeners (events nobody hears need not be built). */
  listens(queueName: string): boolean {
    return this.#listeners.has(queueName);
  }

  /**
   * Deliver an event to the listeners of its queue, after the current task step. The event must
   * be the store's own (not referenced elsewhere): the last listener receives it as is.
   */
  publish(event: StoreEvent): void {
    const list = this.#listeners.get(event.queueName);
    if (list === undefined) return;
    this.#pending.push(event, list);
    if (!this.#scheduled) {
      this.#scheduled = true;
      queueMicrotask(this.#deliver);
    }
  }

  #deliver = (): void => {
    const pending = this.#pending;
    // Events published by listeners during delivery are delivered in this same pass, in order.
    for (let i = 0; i < pending.length; i += 2) {
      if (this.#closed) break;
      const event = pending[i] as StoreEvent;
      const targets = pending[i + 1] as StoreEventListener[];
      const last = targets.length - 1;
      for (let k = 0; k <= last; k++) {
        const listener = targets[k];
        // A listener removed before delivery no longer receives the event.
        const current = this.#listeners.get(event.queueName);
        if (current !== targets && (current === undefined || !current.includes(listener))) {
          continue;
        }
        try {
          listener(k === last ? event : copyJson(event));
        } catch {
          // A failing listener must not break the store or the other listeners.
        }
      }
    }
    // Emptied in place: one array for the store's life instead of one per delivery.
    pending.length = 0;
    this.#scheduled = false;
  };

  /** Drop every listener and every event not yet delivered. */
  close(): void {
    this.#closed = true;
    this.#listeners.clear();
    this.#pending = [];
  }
}
