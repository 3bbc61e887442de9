import assert from "node:assert/strict";
import { assertJsonValue } from "@conveyor/shared";
import { copyChecked, copyJson, NOT_COPIED, tryCopyJson } from "./_copy.ts";

function message(fn: () => unknown): string | null {
  try {
    fn();
    return null;
  } catch (e) {
    return `${(e as Error).name}: ${(e as Error).message}`;
  }
}

class Thing {
  x = 1;
}

function deep(depth: number, leaf: unknown): unknown {
  let v: unknown = leaf;
  for (let i = 0; i < depth; i++) v = i % 2 ? { k: v } : [1, v];
  return v;
}

Deno.test("copyChecked refuses exactly what assertJsonValue refuses, with its message", () => {
  const cyclic: Record<string, unknown> = { a: 1 };
  cyclic.self = { back: cyclic };
  const cyclicArray: unknown[] = [1];
  cyclicArray.push([cyclicArray]);
  const deepCycle: Record<string, unknown> = {};
  let cur = deepCycle;
  for (let i = 0; i < 200; i++) cur = (cur.n = {}) as Record<string, unknown>;
  cur.back = deepCycle;
  const shared = { s: 1 };
  const values: unknown[] = [
    null,
    0,
    -1.5,
    "x",
    true,
    NaN,
    Infinity,
    undefined,
    10n,
    () => 1,
    Symbol("s"),
    { a: 1, b: "x", c: null, d: [1, 2, { e: false }], u: undefined },
    { a: [1, undefined] },
    { a: { b: [1, 2n] } },
    { a: new Date(0) },
    { a: new Map() },
    new Thing(),
    Object.create(null),
    [1, [2, [3, () => 1]]],
    [, 1],
    { a: Symbol("x") },
    { a: NaN },
    cyclic,
    cyclicArray,
    deepCycle,
    { x: shared, y: shared, z: [shared, shared] },
    deep(100, 1),
    deep(100, 1n),
    JSON.parse('{"__proto__": {"polluted": true}, "a": 1}'),
  ];
  for (const v of values) {
    const expected = message(() => assertJsonValue(v, "payload"));
    assert.equal(message(() => copyChecked(v, "payload")), expected, String(expected));
    if (expected === null) assert.deepEqual(copyChecked(v, "payload"), copyJson(v));
    const tried = tryCopyJson(v);
    if (expected !== null) assert.equal(tried, NOT_COPIED);
    else if (tried !== NOT_COPIED) assert.deepEqual(tried, copyJson(v));
  }
});

Deno.test("copyChecked copies: nothing of the input is shared with the copy", () => {
  const input = { a: { b: [1, { c: 2 }] }, d: "x", u: undefined };
  const out = copyChecked(input, "payload");
  assert.deepEqual(out, { a: { b: [1, { c: 2 }] }, d: "x" });
  assert.deepEqual("u" in out, false);
  input.a.b.push(3);
  (input.a.b[1] as { c: number }).c = 9;
  assert.deepEqual(out, { a: { b: [1, { c: 2 }] }, d: "x" });
  const proto = copyChecked(JSON.parse('{"__proto__": {"p": 1}}'), "payload");
  assert.equal(Object.getPrototypeOf(proto), Object.prototype);
  assert.deepEqual(Object.keys(proto), ["__proto__"]);
  assert.deepEqual((proto as Record<string, unknown>).p, undefined);
  assert.throws(() => copyChecked({ a: 1n }, "payload"), {
    name: "TypeError",
    message: /^payload is not JSON: \$\.a is a BigInt/,
  });
});
