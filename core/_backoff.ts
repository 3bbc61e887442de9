// Whether and when a failed attempt is retried.

import { computeBackoff, isConveyorError, type JobData, normalizeBackoff } from "@conveyor/shared";
import { applyJitter } from "@conveyor/shared";

/** A custom backoff strategy (see `WorkerOptions.backoffStrategies`). */
// deno-lint-ignore no-explicit-any
export type BackoffStrategyFn = (attemptsMade: number, error: Error, job: any) => number | null;

export interface RetryDecision {
  /** ms before the retry, or `null` to fail for good. */
  retryDelay: number | null;
  /** Set when a custom strategy was missing or broke (reported as an `error` event). */
  problem?: Error;
}

const NO_RETRY: RetryDecision = { retryDelay: null };

export function decideRetry(
  data: JobData,
  error: Error,
  job: unknown,
  strategies: Readonly<Record<string, BackoffStrategyFn>> | undefined,
): RetryDecision {
  const attemptsMade = data.attemptsMade + 1;
  if (attemptsMade >= (data.opts.attempts ?? 1)) return NO_RETRY;
  if (isConveyorError(error, "UNRECOVERABLE")) return NO_RETRY;
  const builtin = computeBackoff(data.opts.backoff, attemptsMade);
  if (builtin !== undefined) return { retryDelay: Math.max(0, builtin) };
  const backoff = normalizeBackoff(data.opts.backoff);
  const strategy = strategies?.[backoff.type];
  if (!strategy) {
    return {
      retryDelay: null,
      problem: new RangeError(
        `Job "${data.id}" in queue "${data.queueName}" uses backoff strategy "${backoff.type}", ` +
          `which this worker does not know: register it in backoffStrategies`,
      ),
    };
  }
  let delay: unknown;
  try {
    delay = strategy(attemptsMade, error, job);
  } catch (cause) {
    return {
      retryDelay: null,
      problem: new Error(`Backoff strategy "${backoff.type}" threw for job "${data.id}"`, {
        cause,
      }),
    };
  }
  if (typeof delay !== "number" || !Number.isFinite(delay) || delay < 0) return NO_RETRY;
  return { retryDelay: applyJitter(delay, backoff.jitter ?? 0) };
}
