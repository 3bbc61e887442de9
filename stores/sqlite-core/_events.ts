/**
 * Events: in-process delivery (asynchronous, one microtask per event, a copy per listener), and
 * a poller that reads the `{events}` rows other processes wrote.
 *
 * Every event a store publishes is also written to `{events}` in the transaction that made the
 * change. A store with listeners polls every `pollInterval` ms: `PRAGMA data_version` tells
 * whether another connection committed since the last look, and only then are the new rows
 * read. Rows older than the retention are pruned by the writers.
 *
 * @module
 */

import type { StoreEvent, StoreEventListener } from "@conveyor/shared";
import type { Db } from "./_db.ts";

/** Listeners per queue. A listener that throws affects neither the store nor other listeners. */
export class EventHub {
  #listeners: Map<string, Set<StoreEventListener>> = new Map();
  #closed = false;

  /** Whether any queue has a listener. */
  get active(): boolean {
    return this.#listeners.size > 0;
  }

  /** Whether `queue` has a listener. */
  has(queue: string): boolean {
    return this.#listeners.has(queue);
  }

  /** Add a listener for a queue's events. */
  subscribe(queue: string, listener: StoreEventListener): void {
    let set = this.#listeners.get(queue);
    if (!set) this.#listeners.set(queue, set = new Set());
    set.add(listener);
  }

  /** Remove one listener, or all of the queue's listeners. */
  unsubscribe(queue: string, listener?: StoreEventListener): void {
    if (listener === undefined) {
      this.#listeners.delete(queue);
      return;
    }
    const set = this.#listeners.get(queue);
    set?.delete(listener);
    if (set?.size === 0) this.#listeners.delete(queue);
  }

  /** Deliver an event to the listeners of its queue, after the current task step. */
  publish(event: StoreEvent): void {
    const set = this.#listeners.get(event.queueName);
    if (!set || set.size === 0) return;
    const targets = [...set];
    const text = JSON.stringify(event);
    queueMicrotask(() => {
      if (this.#closed) return;
      for (const listener of targets) {
        if (!this.#listeners.get(event.queueName)?.has(listener)) continue;
        try {
          listener(JSON.parse(text));
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

/** Reads events written by other store instances (other processes, or other connections). */
export class EventPoller {
  #db: Db;
  #hub: EventHub;
  #origin: string;
  #interval: number;
  #onError: (err: unknown) => void;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #lastId = 0;
  #version = -1;

  /**
   * Create a poller (not yet running).
   * @param db the store's database
   * @param hub where polled events go
   * @param origin the store's own origin (its rows are skipped)
   * @param interval ms between polls
   * @param onError receives errors of a poll
   */
  constructor(
    db: Db,
    hub: EventHub,
    origin: string,
    interval: number,
    onError: (err: unknown) => void,
  ) {
    this.#db = db;
    this.#hub = hub;
    this.#origin = origin;
    this.#interval = interval;
    this.#onError = onError;
    const row = db.get<{ id: number | null }>("SELECT MAX(id) AS id FROM {events}");
    this.#lastId = Number(row?.id ?? 0);
  }

  /** Run while some queue has listeners; stop otherwise. Call after each (un)subscribe. */
  update(): void {
    if (this.#hub.active && this.#timer === undefined) this.#schedule();
    else if (!this.#hub.active) this.stop();
  }

  #schedule(): void {
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      try {
        this.poll();
      } catch (err) {
        this.#onError(err);
      }
      if (this.#hub.active) this.#schedule();
    }, this.#interval);
    // Never keep a process alive just to poll (Node, Bun; Deno's timers have no unref here).
    (this.#timer as { unref?: () => void }).unref?.();
  }

  /** Deliver the events other store instances committed since the last poll. */
  poll(): void {
    const version = Number(
      this.#db.get<{ data_version: number }>("PRAGMA data_version")?.data_version ?? 0,
    );
    if (version === this.#version) return;
    this.#version = version;
    for (;;) {
      const rows = this.#db.all<{ id: number; origin: string; queue: string; event: string }>(
        "SELECT id, origin, queue, event FROM {events} WHERE id > ? ORDER BY id LIMIT 500",
        this.#lastId,
      );
      for (const row of rows) {
        this.#lastId = Number(row.id);
        if (row.origin === this.#origin || !this.#hub.has(row.queue)) continue;
        this.#hub.publish(JSON.parse(row.event) as StoreEvent);
      }
      if (rows.length < 500) break;
    }
  }

  /** Stop polling. */
  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
