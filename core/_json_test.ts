import assert from "node:assert/strict";
import { assertJsonValue, validateJobName } from "@conveyor/shared";
import { isJobName, isJson } from "./_json.ts";

function passes(fn: () => unknown): boolean {
  try {
    fn();
    return true;
  } catch {
    return false;
  }
}

function deep(depth: number, leaf: unknown): unknown {
  let v: unknown = leaf;
  for (let i = 0; i < depth; i++) v = i % 2 ? { k: v } : [1, v];
  return v;
}

Deno.test("isJson proves valid only what assertJsonValue accepts", () => {
  const cyclic: Record<string, unknown> = { a: 1 };
  cyclic.self = { back: cyclic };
  const shared = { s: 1 };
  const values: unknown[] = [
    null,
    0,
    "x",
    false,
    NaN,
    -Infinity,
    undefined,
    1n,
    () => 1,
    Symbol("s"),
    { a: 1, b: [1, "x", null, { c: true }], u: undefined },
    { a: [1, undefined] },
    [, 1],
    { a: { b: 2n } },
    { d: new Date(0) },
    Object.create(null),
    new (class Thing {})(),
    cyclic,
    { x: shared, y: [shared, shared] },
    deep(40, 1),
    deep(40, () => 1),
  ];
  for (const v of values) {
    const ok = passes(() => assertJsonValue(v, "payload"));
    assert.equal(isJson(v), ok, Deno.inspect(v));
  }
  // Values deeper than the quick scan goes are decided by assertJsonValue's full walk.
  assert.equal(isJson(deep(100, 1)), true);
  assert.equal(passes(() => assertJsonValue(deep(100, 1), "payload")), true);
  assert.equal(isJson(deep(100, () => 1)), false);
});

Deno.test("isJobName accepts exactly what validateJobName accepts", () => {
  for (const name of ["send", "a".repeat(255), "a".repeat(256), "", "*", "a\nb", 1, null, "é"]) {
    assert.equal(isJobName(name), passes(() => validateJobName(name)), String(name));
  }
});
