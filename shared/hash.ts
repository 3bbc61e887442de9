/**
 * Payload hashing for deduplication.
 *
 * @module
 */

/**
 * JSON with object keys sorted, so equal payloads give equal text whatever their key order.
 * Properties whose value is `undefined` are left out, as `JSON.stringify` does.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      out[key] = sortKeys((value as Record<string, unknown>)[key]);
    }
    return out;
  }
  return value;
}

/**
 * SHA-256 (hex) of a job's name and payload: the deduplication key used when
 * `deduplication.id` is not given.
 *
 * @example
 * ```ts
 * import { hashPayload } from "@conveyor/shared";
 * const a = await hashPayload("send", { to: "a", n: 1 });
 * const b = await hashPayload("send", { n: 1, to: "a" });
 * console.log(a === b); // true
 * ```
 */
export async function hashPayload(name: string, data: unknown): Promise<string> {
  const bytes = new TextEncoder().encode(`${name}\u0000${canonicalJson(data)}`);
  const digest = await crypto.subtle.digest("SHA-256", bytes);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}
