/**
 * Checks of single values shared by the validation of job options and of store arguments. Each
 * error names the field and the value.
 *
 * @module
 */

/**
 * Print a value for an error message: strings quoted, BigInts as `1n`, functions as
 * `a function`, objects as JSON where they can be (else as `[object Map]` and the like).
 *
 * @param value the value to print
 * @returns the printed value
 *
 * @example
 * ```ts
 * import { describeValue } from "@conveyor/shared";
 * console.log(`got ${describeValue("x")}`); // got "x"
 * ```
 */
export function describeValue(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "bigint") return `${value}n`;
  if (typeof value === "function") return "a function";
  if (typeof value === "symbol") return value.toString();
  if (value === null || typeof value !== "object") return String(value);
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}

/**
 * Check an integer `>= min` (and `<= max` when given).
 *
 * @param value the value to check
 * @param what the field, for the message (e.g. `rateLimit.max`)
 * @param min the smallest value accepted
 * @param max the largest value accepted (none when left out)
 * @returns the value
 * @throws {TypeError} when the value is not an integer
 * @throws {RangeError} when it is out of bounds
 */
export function checkInt(value: unknown, what: string, min: number, max = Infinity): number {
  if (typeof value !== "number" || !Number.isInteger(value)) {
    throw new TypeError(`${what} must be an integer, got ${describeValue(value)}`);
  }
  if (value < min || value > max) {
    throw new RangeError(
      `${what} must be ${
        max >= Number.MAX_SAFE_INTEGER ? `>= ${min}` : `between ${min} and ${max}`
      }, got ${value}`,
    );
  }
  return value;
}

/**
 * Check a duration or time in milliseconds: a finite number `>= min`.
 *
 * @param value the value to check
 * @param what the field, for the message (e.g. `failure.retryDelay`)
 * @param min the smallest value accepted
 * @returns the value
 * @throws {TypeError} when the value is not a finite number
 * @throws {RangeError} when it is below `min`
 */
export function checkMs(value: unknown, what: string, min = 0): number {
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new TypeError(`${what} must be a finite number of ms, got ${describeValue(value)}`);
  }
  if (value < min) throw new RangeError(`${what} must be >= ${min}, got ${value}`);
  return value;
}
