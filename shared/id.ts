/**
 * Id generation.
 *
 * @module
 */

const HEX: readonly string[] = Array.from(
  { length: 256 },
  (_, i) => i.toString(16).padStart(2, "0"),
);

/** Random bytes drawn in blocks: one `getRandomValues` call per 455 ids, not one per id. */
const pool = new Uint8Array(4096);
let poolAt = pool.length;

let lastMs = -1;
/** The 12-bit counter of ids made in `lastMs` (RFC 9562's `rand_a` used as a counter). */
let counter = 0;
/** `lastMs` as the id's first 13 characters (`xxxxxxxx-xxxx`). */
let prefix = "";

function setTime(ms: number): void {
  lastMs = ms;
  const hex = ms.toString(16).padStart(12, "0");
  prefix = `${hex.slice(0, 8)}-${hex.slice(8)}`;
}

/**
 * A fresh job id: a UUID v7 (RFC 9562). Its first 48 bits are the creation time in ms and a
 * counter follows, so ids made by one process sort in creation order (even when the clock
 * steps back) and a store appends them near the end of its indexes instead of at random
 * places; 62 random bits keep ids of different processes apart.
 *
 * @example
 * ```ts
 * import { generateId } from "@conveyor/shared";
 * const a = generateId();
 * const b = generateId();
 * console.log(a < b); // true
 * ```
 */
export function generateId(): string {
  if (poolAt + 9 > pool.length) {
    crypto.getRandomValues(pool);
    poolAt = 0;
  }
  const r = pool;
  const i = poolAt;
  poolAt += 9;
  const now = Date.now();
  if (now > lastMs) {
    setTime(now);
    // Start low in the counter's range, at a random point, leaving room to count up.
    counter = r[i + 8];
  } else if (++counter > 0xfff) {
    // 4096 ids in one ms, or the clock went back: borrow the next ms to stay increasing.
    setTime(lastMs + 1);
    counter = 0;
  }
  return `${prefix}-7${(counter >> 8).toString(16)}${HEX[counter & 0xff]}-${
    HEX[(r[i] & 0x3f) | 0x80]
  }${HEX[r[i + 1]]}-${HEX[r[i + 2]]}${HEX[r[i + 3]]}${HEX[r[i + 4]]}${HEX[r[i + 5]]}${
    HEX[r[i + 6]]
  }${HEX[r[i + 7]]}`;
}
