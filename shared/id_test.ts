import assert from "node:assert/strict";
import { generateId } from "./id.ts";

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** The unix ms a UUID v7 carries in its first 48 bits. */
function msOf(id: string): number {
  return parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
}

Deno.test("generateId returns RFC 9562 UUID v7 strings carrying the current time", () => {
  const before = Date.now();
  const id = generateId();
  const after = Date.now();
  assert.match(id, UUID_V7);
  assert.ok(msOf(id) >= before && msOf(id) <= after + 1, `${id} carries ${msOf(id)}`);
});

Deno.test("generateId is unique and strictly increasing within a process", () => {
  const ids: string[] = [];
  for (let i = 0; i < 50_000; i++) ids.push(generateId());
  assert.equal(new Set(ids).size, ids.length);
  for (let i = 1; i < ids.length; i++) {
    assert.ok(ids[i - 1] < ids[i], `${ids[i - 1]} before ${ids[i]}`);
  }
  for (const id of ids) assert.match(id, UUID_V7);
});

Deno.test("generateId stays increasing when the clock goes back", () => {
  const realNow = Date.now;
  const first = generateId();
  try {
    Date.now = () => realNow() - 60_000;
    const later = [generateId(), generateId()];
    assert.ok(first < later[0] && later[0] < later[1], `${first} < ${later[0]} < ${later[1]}`);
    assert.match(later[1], UUID_V7);
  } finally {
    Date.now = realNow;
  }
});

Deno.test("generateId ids differ in their random bits, not only in time", () => {
  const tails = new Set<string>();
  for (let i = 0; i < 1000; i++) tails.add(generateId().slice(19));
  assert.equal(tails.size, 1000);
});
