/**
 * Human-readable durations: `"5s"`, `"1.5 hours"`, `"in 10 minutes"`, `"250ms"`.
 *
 * @module
 */

const UNITS: Record<string, number> = {
  ms: 1,
  msec: 1,
  msecs: 1,
  millisecond: 1,
  milliseconds: 1,
  s: 1000,
  sec: 1000,
  secs: 1000,
  second: 1000,
  seconds: 1000,
  m: 60_000,
  min: 60_000,
  mins: 60_000,
  minute: 60_000,
  minutes: 60_000,
  h: 3_600_000,
  hr: 3_600_000,
  hrs: 3_600_000,
  hour: 3_600_000,
  hours: 3_600_000,
  d: 86_400_000,
  day: 86_400_000,
  days: 86_400_000,
  w: 604_800_000,
  week: 604_800_000,
  weeks: 604_800_000,
};

const PART = /^(\d+(?:\.\d+)?)\s*([a-z]+)?$/;

/**
 * Parse a duration into milliseconds.
 *
 * Accepts a non-negative finite number of milliseconds, or a string made of one or more
 * `<number><unit>` parts (`ms`, `s`, `m`, `h`, `d`, `w` and their long forms), optionally
 * prefixed by `in` and joined by spaces, commas or `and`: `"1h 30m"`, `"in 2 days"`.
 *
 * @param value the duration
 * @param field name of the option, used in error messages
 * @returns milliseconds
 * @throws {RangeError} when the value is negative, not finite or not understood
 *
 * @example
 * ```ts
 * import { parseDuration } from "@conveyor/shared";
 * console.log(parseDuration("in 10 minutes")); // 600000
 * ```
 */
export function parseDuration(value: number | string, field = "duration"): number {
  if (typeof value === "number") {
    if (!Number.isFinite(value) || value < 0) {
      throw new RangeError(`${field} must be a finite number of ms >= 0, got ${value}`);
    }
    return value;
  }
  if (typeof value !== "string") {
    throw new TypeError(
      `${field} must be a number of ms or a string like "5s", got ${typeof value}`,
    );
  }
  let text = value.trim().toLowerCase();
  if (text.startsWith("in ")) text = text.slice(3).trim();
  const parts = text.split(/\s*(?:,|\band\b)\s*|\s+(?=\d)/).filter((p) => p !== "");
  if (parts.length === 0) {
    throw new RangeError(`${field}: cannot parse an empty duration ${JSON.stringify(value)}`);
  }
  let total = 0;
  for (const part of parts) {
    const m = PART.exec(part);
    const unit = m ? (m[2] ?? "ms") : undefined;
    const factor = unit === undefined ? undefined : UNITS[unit];
    if (!m || factor === undefined) {
      throw new RangeError(
        `${field}: cannot parse duration ${
          JSON.stringify(value)
        } (expected e.g. "500ms", "5s", "10 minutes", "in 2 hours")`,
      );
    }
    total += Number(m[1]) * factor;
  }
  return Math.round(total);
}
