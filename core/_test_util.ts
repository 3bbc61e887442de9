// Helpers for core's tests (not part of the package's API).

import FakeTimers from "@sinonjs/fake-timers";
import { MemoryStore } from "@conveyor/store-memory";

export type Clock = ReturnType<typeof FakeTimers.install>;

/** A connected MemoryStore whose clock follows `Date.now` (fake or real). */
export async function newStore(): Promise<MemoryStore> {
  const store = new MemoryStore();
  await store.connect();
  return store;
}

/** Install fake `setTimeout`/`clearTimeout`/`Date` starting at `now`. */
export function fakeTime(now = Date.UTC(2026, 0, 1, 0, 0, 0)): Clock {
  return FakeTimers.install({
    now,
    toFake: ["setTimeout", "clearTimeout", "setInterval", "clearInterval", "Date"],
  });
}

/** A promise with its resolve function. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => resolve = r);
  return { promise, resolve };
}

/** Let queued microtasks and promise chains run (no timers involved). */
export async function flush(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await Promise.resolve();
}

/** `store` with some methods replaced (others are bound to the real store). */
export function withOverrides<S extends object>(store: S, overrides: Partial<S>): S {
  return new Proxy(store, {
    get(target, prop) {
      if (Object.hasOwn(overrides, prop)) return overrides[prop as keyof S];
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/** Advance fake time by `ms` in `steps` (letting promise chains run between steps). */
export async function advance(clock: Clock, ms: number, steps = 1): Promise<void> {
  for (let i = 0; i < steps; i++) await clock.tickAsync(ms / steps);
}

/** Run fake time forward in 0-ms steps until `check()` holds (at most `rounds` steps). */
export async function settle(clock: Clock, check: () => boolean, rounds = 50): Promise<void> {
  for (let i = 0; i < rounds && !check(); i++) await clock.tickAsync(0);
  if (!check()) throw new Error("condition not reached");
}
