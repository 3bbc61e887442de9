/**
 * Id generation.
 *
 * @module
 */

/** A fresh random job id (a UUID v4). */
export function generateId(): string {
  return crypto.randomUUID();
}
