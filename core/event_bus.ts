/**
 * A small typed event bus over `EventTarget`.
 *
 * @module
 */

/** A listener of one event type: receives a `CustomEvent` whose `detail` is typed. */
export type EventListenerOf<D> = (event: CustomEvent<D>) => void | Promise<void>;

/** Detail of the `error` event an {@linkcode EventBus} emits when a listener throws. */
export interface ListenerErrorDetail {
  /** What the listener threw (or its promise rejected with). */
  error: Error;
}

type ErrorCapable = { error: ListenerErrorDetail };

let watch: (bus: EventBus<object>, onChange: () => void) => void;

/**
 * Call `onChange` whenever a listener is added to or removed from `bus` (one watcher per bus).
 * Internal to `@conveyor/core`: a Queue subscribes to its store only while someone listens.
 */
export function watchListeners(bus: EventBus<object>, onChange: () => void): void {
  watch(bus, onChange);
}

function toError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}

/**
 * A typed event bus: `on`, `once`, `off` and `emit`, with `event.detail` typed per event type.
 *
 * Built on `EventTarget` and `CustomEvent`. A listener that throws (or returns a rejected promise)
 * never breaks the emitter: the error is re-emitted as an `error` event (when the map has one and
 * the failing listener was not itself an `error` listener), else dropped.
 *
 * @typeParam M map from event type to the type of its `detail`
 *
 * @example
 * ```ts
 * import { EventBus } from "@conveyor/core";
 * const bus = new EventBus<{ ping: { n: number } }>();
 * const off = bus.on("ping", (event) => console.log(event.detail.n));
 * bus.emit("ping", { n: 1 });
 * off();
 * ```
 */
export class EventBus<M extends object> {
  #target = new EventTarget();
  #wrappers = new Map<string, Map<EventListenerOf<never>, EventListener>>();
  #onListenerError: ((error: Error, type: string) => void) | undefined;
  #onChange: (() => void) | undefined;

  static {
    watch = (bus, onChange) => {
      bus.#onChange = onChange;
    };
  }

  /**
   * Create a bus.
   * @param onListenerError called when a listener throws; by default the error is emitted as an
   * `error` event with detail `{ error }` (and dropped when an `error` listener threw)
   */
  constructor(onListenerError?: (error: Error, type: string) => void) {
    this.#onListenerError = onListenerError;
  }

  /**
   * Listen to `type`.
   * @param type event type
   * @param listener called with a `CustomEvent` whose `detail` is `M[K]`
   * @returns a function that removes the listener
   */
  on<K extends keyof M & string>(type: K, listener: EventListenerOf<M[K]>): () => void {
    return this.#add(type, listener, false);
  }

  /**
   * Listen to the next `type` event only.
   * @param type event type
   * @param listener called once
   * @returns a function that removes the listener if it has not run yet
   */
  once<K extends keyof M & string>(type: K, listener: EventListenerOf<M[K]>): () => void {
    return this.#add(type, listener, true);
  }

  /**
   * Remove a listener added with {@linkcode EventBus.on} or {@linkcode EventBus.once}.
   * @param type event type
   * @param listener the listener to remove
   */
  off<K extends keyof M & string>(type: K, listener: EventListenerOf<M[K]>): void {
    const byListener = this.#wrappers.get(type);
    const wrapper = byListener?.get(listener as EventListenerOf<never>);
    if (!byListener || !wrapper) return;
    byListener.delete(listener as EventListenerOf<never>);
    if (byListener.size === 0) this.#wrappers.delete(type);
    this.#target.removeEventListener(type, wrapper);
    this.#onChange?.();
  }

  /**
   * Whether any listener is registered for `type` (emitters skip building events nobody hears).
   * @param type event type
   */
  hasListeners(type: keyof M & string): boolean {
    return this.#wrappers.has(type);
  }

  /**
   * Number of listeners registered for `type`.
   * @param type event type
   */
  listenerCount(type: keyof M & string): number {
    return this.#wrappers.get(type)?.size ?? 0;
  }

  /**
   * Dispatch a `CustomEvent` of `type` with `detail` to its listeners, synchronously.
   * Does nothing (and builds nothing) when no listener is registered.
   * @param type event type
   * @param detail the event's detail
   */
  emit<K extends keyof M & string>(type: K, detail: M[K]): void {
    if (!this.#wrappers.has(type)) return;
    this.#target.dispatchEvent(new CustomEvent(type, { detail }));
  }

  /** Remove every listener. */
  removeAllListeners(): void {
    for (const [type, byListener] of this.#wrappers) {
      for (const wrapper of byListener.values()) this.#target.removeEventListener(type, wrapper);
    }
    this.#wrappers.clear();
    this.#onChange?.();
  }

  #add(type: string, listener: EventListenerOf<never>, once: boolean): () => void {
    if (typeof type !== "string" || type === "") {
      throw new TypeError(`EventBus: event type must be a non-empty string, got ${String(type)}`);
    }
    if (typeof listener !== "function") {
      throw new TypeError(`EventBus: listener of "${type}" must be a function`);
    }
    let byListener = this.#wrappers.get(type);
    if (byListener?.has(listener)) return () => this.off(type as never, listener);
    const wrapper = (event: Event) => {
      if (once) this.off(type as never, listener);
      try {
        const result = (listener as EventListenerOf<unknown>)(event as CustomEvent<unknown>);
        if (result && typeof (result as Promise<void>).then === "function") {
          (result as Promise<void>).then(undefined, (err) => this.#listenerFailed(type, err));
        }
      } catch (err) {
        this.#listenerFailed(type, err);
      }
    };
    if (!byListener) {
      byListener = new Map();
      this.#wrappers.set(type, byListener);
    }
    byListener.set(listener, wrapper);
    this.#target.addEventListener(type, wrapper);
    this.#onChange?.();
    return () => this.off(type as never, listener);
  }

  #listenerFailed(type: string, err: unknown): void {
    if (type === "error") return;
    if (this.#onListenerError) {
      try {
        this.#onListenerError(toError(err), type);
      } catch {
        // a failing error handler must not break the emitter either
      }
      return;
    }
    (this as unknown as EventBus<ErrorCapable>).emit("error", { error: toError(err) });
  }
}
