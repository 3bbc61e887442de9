/**
 * Retry delays for the built-in backoff strategies.
 *
 * @module
 */

import type { BackoffOptions } from "./types.ts";

/** Names of the backoff strategies every Worker knows. */
export const BUILTIN_BACKOFF_TYPES: readonly string[] = Object.freeze(["fixed", "exponential"]);

/** Normalise a `backoff` option to {@linkcode BackoffOptions}. */
export function normalizeBackoff(backoff: number | BackoffOptions | undefined): BackoffOptions {
  if (backoff === undefined) return { type: "fixed", delay: 0 };
  if (typeof backoff === "number") return { type: "fixed", delay: backoff };
  return backoff;
}

/**
 * Delay (ms) before the next attempt with a built-in strategy.
 *
 * @param backoff the job's backoff option
 * @param attemptsMade attempts finished so far, the failed one included (>= 1)
 * @param random source of randomness for jitter, in [0, 1)
 * @returns the delay in ms, or `undefined` when `backoff.type` is not built in (custom strategy)
 *
 * @example
 * ```ts
 * import { computeBackoff } from "@conveyor/shared";
 * console.log(computeBackoff({ type: "exponential", delay: 100 }, 3)); // 400
 * ```
 */
export function computeBackoff(
  backoff: number | BackoffOptions | undefined,
  attemptsMade: number,
  random: () => number = Math.random,
): number | undefined {
  const b = normalizeBackoff(backoff);
  const base = b.delay ?? 0;
  let delay: number;
  if (b.type === "fixed") delay = base;
  else if (b.type === "exponential") delay = base * 2 ** Math.max(0, attemptsMade - 1);
  else return undefined;
  return applyJitter(delay, b.jitter ?? 0, random);
}

/** Remove a random part (up to `jitter` of it) from `delay`. */
export function applyJitter(
  delay: number,
  jitter: number,
  random: () => number = Math.random,
): number {
  if (jitter <= 0) return Math.round(delay);
  return Math.round(delay * (1 - jitter * random()));
}
