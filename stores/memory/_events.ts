/**
 * In-process event delivery for the memory store.
 *
 * @module
 */

import { type StoreEvent, type StoreEventListener, validateQueueName } from "@conveyor/shared";
import { copyJson } from "./_copy.ts";

/**
 * Listeners per queue. Events are delivered asynchronously (one microtask per event), each
 * listener gets its own copy, and a listener that throws affects neither the store nor the
 * other listeners.
 */
export class EventHub {
  #listeners: Map<string, Set<StoreEventListener>> = new Map();
  #closed = false;

  /** Add a listener for a queue's events. */
  subscribe(queueName: string, listener: StoreEventListener): void {
    let set = this.#listeners.get(queueName);
    if (!set) this.#listeners.set(queueName, set = new Set());
    set.add(listener);
  }

  /** Remove one listener, or all of the queue's listeners. */
  unsubscribe(queueName: string, listener?: StoreEventListener): void {
    if (listener === undefined) {
      this.#listeners.delete(queueName);
      return;
    }
    const set = this.#listeners.get(queueName);
    if (!set) return;
    set.delete(listener);
    if (set.size === 0) this.#listeners.delete(queueName);
  }

  /** Deliver an event to the listeners of its queue, after the current task step. */
  publish(event: StoreEvent): void {
    const set = this.#listeners.get(event.queueName);
    if (!set || set.size === 0) return;
    const targets = [...set];
    queueMicrotask(() => {
      if (this.#closed) return;
      for (const listener of targets) {
        // A listener removed before delivery no longer receives the event.
        if (!this.#listeners.get(event.queueName)?.has(listener)) continue;
        try {
          listener(copyJson(event));
        } catch {
          // A failing listener must not break the store or the other listeners.
        }
      }
    });
  }

  /** Drop every listener and every event not yet delivered. */
  close(): void {
    this.#closed = true;
    this.#listeners.clear();
  }
}

const EVENT_TYPES = new Set<string>([
  "waiting",
  "waiting-children",
  "delayed",
  "active",
  "progress",
  "completed",
  "failed",
  "stalled",
  "removed",
  "paused",
  "resumed",
  "drained",
  "cleaned",
]);

/** Check an event handed to `publish`: an object with a queue name and a store event type. */
export function checkEvent(event: unknown): StoreEvent {
  if (typeof event !== "object" || event === null) {
    throw new TypeError(`event must be an object, got ${String(event)}`);
  }
  const e = event as StoreEvent;
  validateQueueName(e.queueName);
  if (!EVENT_TYPES.has(e.type)) {
    throw new RangeError(`event type ${JSON.stringify(e.type)} is not a store event type`);
  }
  return e;
}
