/**
 * Events: local subscribers, the NOTIFY payload format, and the one LISTEN connection per store.
 *
 * Statements publish with the schema's `emit()` SQL function inside the statement that made the
 * change, one NOTIFY per statement (not per job), and return the payloads they sent. The store
 * delivers those payloads to its own subscribers at once; the LISTEN connection delivers the
 * payloads of other stores and processes, and drops the echoes of its own (same origin). Work
 * done inside a caller's transaction publishes with an empty origin, so every store, this one
 * included, learns of it only if and when that transaction commits.
 *
 * Payload: `{"o": origin, "q": queue, "t": type, "n": count, "i": [ids], "d": detail,
 * "j": jobName}`, or `{"o": origin, "e": StoreEvent}` for `publish()`. Always under 8000 bytes.
 *
 * @module
 */

import type { StoreEvent, StoreEventListener, StoreEventType } from "@conveyor/shared";
import postgres from "postgres";
import { quoteIdent } from "./_db.ts";

/** Event types that describe the queue as a whole: one event with a count, never per job. */
const QUEUE_WIDE: ReadonlySet<StoreEventType> = new Set(["cleaned", "drained"]);

/** Longest payload NOTIFY accepts is 8000 bytes; stay clear of it. */
const MAX_PAYLOAD = 7900;

/** A payload as parsed JSON. */
export interface Payload {
  o?: string;
  q?: string;
  t?: StoreEventType;
  n?: number | null;
  i?: string[] | null;
  d?: StoreEvent["detail"] | null;
  j?: string | null;
  e?: StoreEvent;
  /** A hand-off (see `_handoff.ts`). */
  h?: unknown;
}

/** Decode a payload into the events it stands for, with its origin. */
export function decodePayload(text: string): { origin: string; events: StoreEvent[] } {
  return decodeParsed(JSON.parse(text) as Payload);
}

/** {@linkcode decodePayload} for a payload already parsed. */
export function decodeParsed(p: Payload): { origin: string; events: StoreEvent[] } {
  const origin = p.o ?? "";
  if (p.e) return { origin, events: [p.e] };
  if (typeof p.q !== "string" || typeof p.t !== "string") return { origin, events: [] };
  const base: StoreEvent = { type: p.t, queueName: p.q };
  if (p.j !== null && p.j !== undefined) base.jobName = p.j;
  if (p.d !== null && p.d !== undefined) base.detail = p.d;
  if (p.i && !QUEUE_WIDE.has(p.t)) {
    return { origin, events: p.i.map((jobId) => ({ ...base, jobId, ...copyDetail(base) })) };
  }
  if (typeof p.n === "number" && (p.n > 1 || QUEUE_WIDE.has(p.t))) base.count = p.n;
  return { origin, events: [base] };
}

function copyDetail(e: StoreEvent): Partial<StoreEvent> {
  return e.detail ? { detail: copyValue(e.detail) as StoreEvent["detail"] } : {};
}

/**
 * The payload `emit()` builds for an event of `type` about jobs `ids` of `queue` (no ids: a
 * queue-wide event; ids dropped, count kept, when too long), for statements whose events are
 * published from JavaScript.
 */
export function encodePayload(
  origin: string,
  queue: string,
  type: StoreEventType,
  ids?: string[],
  detail?: Record<string, string>,
): string {
  if (ids === undefined) return JSON.stringify({ o: origin, q: queue, t: type, d: detail });
  const text = JSON.stringify({ o: origin, q: queue, t: type, n: ids.length, i: ids, d: detail });
  // Ids and names are ASCII in the common case; count bytes only when the text could be long.
  if (text.length * 3 <= MAX_PAYLOAD || new TextEncoder().encode(text).length <= MAX_PAYLOAD) {
    return text;
  }
  return JSON.stringify({ o: origin, q: queue, t: type, n: ids.length, d: detail });
}

/** Encode an event given to `publish()`; drops `detail` when the payload would be too long. */
export function encodePublished(origin: string, event: StoreEvent): string {
  let text = JSON.stringify({ o: origin, e: event });
  if (new TextEncoder().encode(text).length > MAX_PAYLOAD) {
    const { detail: _dropped, ...rest } = event;
    text = JSON.stringify({ o: origin, e: rest });
  }
  return text;
}

/**
 * A copy of a JSON object: a spread when every value is a primitive (the usual detail, e.g.
 * `{ workerId }` on every `active` event), `structuredClone` otherwise.
 */
function copyValue(value: object): unknown {
  if (Array.isArray(value)) return structuredClone(value);
  for (const key in value) {
    const v = (value as Record<string, unknown>)[key];
    if (typeof v === "object" && v !== null) return structuredClone(value);
  }
  return { ...value };
}

/**
 * A listener's own copy of an event: nested values (`detail`) are cloned, the flat fields
 * copied, which is what `structuredClone` gives for these plain objects, at a fraction of its
 * cost on the hot path (an `active` and a `completed` event per job).
 */
function copyEvent(event: StoreEvent): StoreEvent {
  const copy: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(event)) {
    copy[key] = typeof value === "object" && value !== null ? copyValue(value) : value;
  }
  return copy as unknown as StoreEvent;
}

/** Local subscribers, per queue. */
export class EventHub {
  readonly #listeners = new Map<string, Set<StoreEventListener>>();
  readonly #onError: (error: unknown) => void;

  constructor(onError: (error: unknown) => void) {
    this.#onError = onError;
  }

  /** Queues that have at least one listener. */
  queues(): string[] {
    return [...this.#listeners.keys()];
  }

  subscribe(queueName: string, listener: StoreEventListener): void {
    let set = this.#listeners.get(queueName);
    if (!set) this.#listeners.set(queueName, set = new Set());
    set.add(listener);
  }

  unsubscribe(queueName: string, listener?: StoreEventListener): void {
    if (listener === undefined) this.#listeners.delete(queueName);
    else {
      const set = this.#listeners.get(queueName);
      set?.delete(listener);
      if (set?.size === 0) this.#listeners.delete(queueName);
    }
  }

  clear(): void {
    this.#listeners.clear();
  }

  /** Deliver one event to the queue's listeners; a throwing listener is reported, not fatal. */
  dispatch(event: StoreEvent): void {
    const set = this.#listeners.get(event.queueName);
    if (!set) return;
    for (const listener of [...set]) {
      try {
        listener(copyEvent(event));
      } catch (error) {
        this.#onError(error);
      }
    }
  }

  /**
   * Deliver the events of payloads returned by a statement (skipping nulls); returns the
   * payloads that stand for events other than wake-ups.
   */
  dispatchPayloads(payloads: readonly unknown[] | null | undefined): string[] {
    const lifecycle: string[] = [];
    if (!payloads) return lifecycle;
    for (const payload of payloads) {
      // Arrays from SQL may hold NULLs (nothing was published); payloads are JSON objects.
      if (typeof payload !== "string" || !payload.startsWith("{")) continue;
      let events: StoreEvent[];
      try {
        events = decodePayload(payload).events;
      } catch (error) {
        this.#onError(error);
        continue;
      }
      if (events.length > 0 && !WAKEUPS.has(events[0].type)) lifecycle.push(payload);
      for (const event of events) this.dispatch(event);
    }
    return lifecycle;
  }
}

/**
 * Event types that the schema's `emit()` always NOTIFYs inside the statement: they tell workers
 * there is work, and must travel with the transaction (a caller's enqueue included).
 */
export const WAKEUPS: ReadonlySet<StoreEventType> = new Set([
  "waiting",
  "delayed",
  "paused",
  "resumed",
]);

/**
 * Lifecycle events (active, completed, failed, ...) of committed statements, sent to other
 * processes in batches: one NOTIFY transaction carries every event gathered while the previous
 * one was in flight, instead of one NOTIFY (and one serialised commit) per job.
 */
export class Outbox {
  readonly #send: (payloads: string[]) => Promise<unknown>;
  readonly #onError: (error: unknown) => void;
  #pending: string[] = [];
  #flushing: Promise<void> | undefined;

  constructor(send: (payloads: string[]) => Promise<unknown>, onError: (error: unknown) => void) {
    this.#send = send;
    this.#onError = onError;
  }

  /**
   * Queue payloads; unless a flush is in flight, one starts after the current microtasks, so
   * payloads pushed in one go (e.g. a hand-off's `waiting` and its fetch's `active`) share it.
   */
  push(payloads: readonly string[]): void {
    if (payloads.length === 0) return;
    this.#pending.push(...payloads);
    this.#flushing ??= Promise.resolve().then(() => this.#flush());
  }

  async #flush(): Promise<void> {
    while (this.#pending.length > 0) {
      const batch = this.#pending.splice(0, 1000);
      try {
        await this.#send(batch);
      } catch (error) {
        this.#onError(error);
      }
    }
    this.#flushing = undefined;
  }

  /** Wait for queued payloads to be sent. */
  async drain(): Promise<void> {
    while (this.#flushing) await this.#flushing;
  }
}

/** Options of {@linkcode Listener}. */
export interface ListenerOptions {
  /** postgres.js options for the dedicated connection (copied from the store's pool). */
  // deno-lint-ignore no-explicit-any
  connection: Record<string, any>;
  channel: string;
  /** A payload arrived. */
  onPayload: (payload: string) => void;
  /** A second channel, this connection's alone: jobs handed off to the store (`_handoff.ts`). */
  handoffChannel?: string;
  /** A payload arrived on `handoffChannel`. */
  onHandoff?: (payload: string) => void;
  /** LISTEN is (again) in place after the connection was lost: events may have been missed. */
  onResumed: () => void;
  onError: (error: unknown) => void;
}

/**
 * One dedicated connection that LISTENs on the store's channel and, when the connection drops
 * (server restart, `pg_terminate_backend`, network), reconnects and LISTENs again with backoff.
 */
export class Listener {
  readonly #options: ListenerOptions;
  readonly #sql: postgres.Sql;
  #stopped = false;
  #listening = false;
  #retry: ReturnType<typeof setTimeout> | undefined;
  #resuming: Promise<void> | undefined;

  /**
   * While the connection is known to listen: the key (a bigint, as text) of the advisory lock
   * its session holds, which tells other sessions it lives. `undefined` while reconnecting.
   */
  session: string | undefined;

  constructor(options: ListenerOptions) {
    this.#options = options;
    this.#sql = postgres({
      ...options.connection,
      max: 1,
      idle_timeout: null,
      max_lifetime: null,
      onnotice: () => {},
      onnotify: (channel: string, payload: string) => {
        if (channel === options.channel) options.onPayload(payload);
        else if (channel === options.handoffChannel) options.onHandoff?.(payload);
      },
      onclose: () => this.#lost(),
    } as never);
  }

  /** LISTEN; rejects when the first attempt fails. */
  async start(): Promise<void> {
    await this.#listen();
  }

  async #listen(): Promise<void> {
    const { channel, handoffChannel } = this.#options;
    await this.#sql.unsafe(`listen ${quoteIdent(channel)}`);
    if (handoffChannel !== undefined) {
      await this.#sql.unsafe(`listen ${quoteIdent(handoffChannel)}`);
    }
    // A fresh key each time: the session holds its lock for as long as it lives.
    const key = BigInt.asIntN(64, crypto.getRandomValues(new BigUint64Array(1))[0]).toString();
    await this.#sql.unsafe("select pg_advisory_lock($1::bigint)", [key]);
    this.session = key;
    this.#listening = true;
  }

  #lost(): void {
    this.session = undefined;
    if (this.#stopped || !this.#listening) return;
    this.#listening = false;
    this.#resume(50);
  }

  #resume(delay: number): void {
    if (this.#stopped || this.#retry !== undefined) return;
    this.#retry = setTimeout(() => {
      this.#retry = undefined;
      this.#resuming = this.#listen().then(
        () => {
          if (!this.#stopped) this.#options.onResumed();
        },
        (error) => {
          if (this.#stopped) return;
          this.#options.onError(
            new Error(
              `PgStore lost its LISTEN connection and could not re-establish it (retrying): ${
                (error as Error)?.message ?? error
              }`,
              { cause: error },
            ),
          );
          this.#resume(Math.min(delay * 2, 5_000));
        },
      );
    }, delay);
  }

  /**
   * A round trip on the listening connection: every NOTIFY committed before it was sent has
   * been delivered when it returns (the server sends them ahead of the answer).
   */
  async sync(): Promise<void> {
    await this.#sql.unsafe("select 1").catch(() => {});
  }

  /** Stop listening and close the connection. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.session = undefined;
    clearTimeout(this.#retry);
    this.#retry = undefined;
    await this.#resuming?.catch(() => {});
    await this.#sql.end({ timeout: 1 });
  }
}
