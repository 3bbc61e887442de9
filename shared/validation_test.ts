import assert from "node:assert/strict";
import {
  assertJsonValue,
  createNewJob,
  isJsonValue,
  isValidJobName,
  resolveDeduplicationKey,
  validateJobName,
  validateJobOptions,
  validateQueueName,
} from "./validation.ts";

Deno.test("validateQueueName refuses empty, non-string and control-character names", () => {
  assert.equal(validateQueueName("emails"), "emails");
  assert.throws(() => validateQueueName(""), { name: "RangeError", message: /must not be empty/ });
  assert.throws(() => validateQueueName(42), { name: "TypeError", message: /got 42/ });
  assert.throws(() => validateQueueName("a\nb"), /control characters/);
  assert.throws(() => validateQueueName("x".repeat(256)), /at most 255/);
});

Deno.test("validateJobName refuses the all-names marker", () => {
  assert.equal(validateJobName("send"), "send");
  assert.throws(() => validateJobName("*"), { name: "RangeError", message: /every name/ });
});

Deno.test("assertJsonValue accepts plain JSON and undefined properties", () => {
  assertJsonValue({ a: 1, b: [true, null, "x", { c: 2.5 }], d: undefined }, "payload");
  assertJsonValue(null, "payload");
  assertJsonValue(Object.create(null), "payload");
});

Deno.test("assertJsonValue names the path of a value that cannot round-trip", () => {
  assert.throws(() => assertJsonValue({ a: { f: () => 1 } }, "payload"), {
    name: "TypeError",
    message: "payload is not JSON: $.a.f is a function",
  });
  assert.throws(() => assertJsonValue({ n: 10n }, "payload"), /\$\.n is a BigInt/);
  assert.throws(() => assertJsonValue([1, NaN], "payload"), /\$\[1\] is NaN/);
  assert.throws(() => assertJsonValue({ d: new Date(0) }, "payload"), /Date.*toISOString/);
  assert.throws(() => assertJsonValue(new Map(), "payload"), /Map, not a plain object/);
  assert.throws(() => assertJsonValue(undefined, "payload"), /\$ is undefined/);
  assert.throws(() => assertJsonValue([undefined], "payload"), /\$\[0\] is undefined/);
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  assert.throws(() => assertJsonValue(cyclic, "payload"), /\$\.self is a circular reference/);
});

Deno.test("assertJsonValue accepts the same object twice when it is not a cycle", () => {
  const shared = { x: 1 };
  assertJsonValue({ a: shared, b: shared }, "payload");
});

/** A value nested `depth` levels deep (alternating arrays and objects) around `leaf`. */
function nested(depth: number, leaf: unknown): unknown {
  let v: unknown = leaf;
  for (let i = 0; i < depth; i++) v = i % 2 ? { k: v } : [1, v];
  return v;
}

/** The path `nested(depth, leaf)` puts its leaf at. */
function nestedPath(depth: number): string {
  let path = "$";
  for (let i = depth - 1; i >= 0; i--) path += i % 2 ? ".k" : "[1]";
  return path;
}

function messageOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (e) {
    return `${(e as Error).name}: ${(e as Error).message}`;
  }
}

Deno.test("assertJsonValue gives the full message of the first bad value, however deep", () => {
  const cases: [unknown, string][] = [
    [{ a: [1, { b: NaN }] }, "$.a[1].b is NaN"],
    [[1, "x", null, Infinity], "$[3] is Infinity"],
    [{ ok: { x: 1 }, bad: { f: () => 1 } }, "$.bad.f is a function"],
    [{ n: [10n] }, "$.n[0] is a BigInt (10n); convert it to a string or number"],
    [{ s: Symbol("s") }, "$.s is a symbol"],
    [[1, , 3], "$[1] is undefined"],
    [undefined, "$ is undefined"],
    [
      { d: [new Date(0)] },
      "$.d[0] is a Date, not a plain object (store date.toISOString() or " +
      "date.getTime())",
    ],
    [{ m: new Map() }, "$.m is a Map, not a plain object"],
    [{ first: -Infinity, second: NaN }, "$.first is -Infinity"],
    [nested(10, () => 1), `${nestedPath(10)} is a function`],
    [nested(100, NaN), `${nestedPath(100)} is NaN`],
  ];
  for (const [value, path] of cases) {
    assert.equal(
      messageOf(() => assertJsonValue(value, 'payload of job "send"')),
      `TypeError: payload of job "send" is not JSON: ${path}`,
    );
  }
});

Deno.test("assertJsonValue finds cycles at any depth and names where they close", () => {
  const a: Record<string, unknown> = { x: 1 };
  a.list = [0, { back: a }];
  assert.equal(
    messageOf(() => assertJsonValue(a, "payload")),
    "TypeError: payload is not JSON: $.list[1].back is a circular reference",
  );
  const top: Record<string, unknown> = {};
  let cur = top;
  for (let i = 0; i < 100; i++) {
    const next: Record<string, unknown> = {};
    cur.k = next;
    cur = next;
  }
  cur.loop = top;
  assert.equal(
    messageOf(() => assertJsonValue(top, "payload")),
    `TypeError: payload is not JSON: $${".k".repeat(100)}.loop is a circular reference`,
  );
});

Deno.test("assertJsonValue accepts shared objects and deep values; isJsonValue agrees", () => {
  const shared = { s: [1, 2] };
  const cyclic: Record<string, unknown> = { a: 1 };
  cyclic.self = { back: cyclic };
  const values: unknown[] = [
    null,
    0,
    -1.5,
    "x",
    true,
    NaN,
    undefined,
    1n,
    () => 1,
    Symbol("s"),
    [],
    {},
    Object.create(null),
    { a: 1, b: [1, "x", null, { c: true }], u: undefined },
    { a: [1, undefined] },
    [, 1],
    { a: { b: 2n } },
    { d: new Date(0) },
    new (class Thing {})(),
    cyclic,
    { x: shared, y: [shared, shared, { z: shared }] },
    nested(63, 1),
    nested(64, 1),
    nested(65, 1),
    nested(200, 1),
    nested(200, undefined),
    nested(200, { u: undefined }),
  ];
  for (const v of values) {
    const ok = messageOf(() => assertJsonValue(v, "payload")) === undefined;
    assert.equal(isJsonValue(v), ok, Deno.inspect(v, { depth: 3 }));
  }
  assert.equal(isJsonValue(nested(200, 1)), true);
  assert.equal(isJsonValue({ x: shared, y: shared }), true);
});

Deno.test("isValidJobName accepts exactly what validateJobName accepts", () => {
  for (
    const name of ["send", "a".repeat(255), "a".repeat(256), "", "*", "a\nb", "a\u001fb", 1, null]
  ) {
    const ok = messageOf(() => validateJobName(name)) === undefined;
    assert.equal(isValidJobName(name), ok, String(name));
  }
});

Deno.test("validateJobOptions resolves human-readable delays", () => {
  assert.equal(validateJobOptions({ delay: "5s" }).delay, 5000);
  assert.equal(validateJobOptions({ delay: 250 }).delay, 250);
  assert.deepEqual(validateJobOptions(undefined), {});
});

Deno.test("validateJobOptions names the bad field and value", () => {
  const ctx = 'Cannot add job "send-email": ';
  assert.throws(() => validateJobOptions({ attempts: 0 }, ctx), {
    name: "RangeError",
    message: 'Cannot add job "send-email": attempts must be >= 1, got 0',
  });
  assert.throws(() => validateJobOptions({ attempts: 1.5 }), /attempts must be an integer/);
  assert.throws(() => validateJobOptions({ priority: -1 }), /priority must be between 0/);
  assert.throws(() => validateJobOptions({ delay: -5 }), /delay must be a finite number/);
  assert.throws(() => validateJobOptions({ delay: "soon" }), /cannot parse duration "soon"/);
  assert.throws(() => validateJobOptions({ backoff: { type: "" } }), /backoff.type/);
  assert.throws(() => validateJobOptions({ backoff: { type: "fixed", jitter: 2 } }), /jitter/);
  assert.throws(() => validateJobOptions({ lifo: "yes" }), /lifo must be a boolean/);
  assert.throws(() => validateJobOptions({ timeout: 0 }), /timeout must be >= 1/);
  assert.throws(() => validateJobOptions({ removeOnComplete: -1 }), /removeOnComplete/);
  assert.throws(() => validateJobOptions({ removeOnFail: { age: "x" } }), /removeOnFail.age/);
  assert.throws(() => validateJobOptions({ deduplication: "k" }), /deduplication must be/);
  assert.throws(() => validateJobOptions({ deduplication: { ttl: 0 } }), /deduplication.ttl/);
  assert.throws(
    () => validateJobOptions({ failParentOnChildFailure: "explode" }),
    /failParentOnChildFailure must be one of "fail", "ignore", "remove", got "explode"/,
  );
  assert.throws(() => validateJobOptions({ atempts: 3 }), /unknown option "atempts"/);
  assert.throws(() => validateJobOptions([]), /options must be an object/);
});

Deno.test("createNewJob assigns an id, copies the payload and keeps a custom id", async () => {
  const data = { to: "a@example.com" };
  const job = await createNewJob("send", data, { attempts: 3 });
  assert.match(job.id, /^[0-9a-f-]{36}$/);
  data.to = "changed";
  assert.deepEqual(job.data, { to: "a@example.com" });
  assert.equal(job.deduplicationKey, null);
  const custom = await createNewJob("send", {}, { jobId: "order-1" });
  assert.equal(custom.id, "order-1");
});

Deno.test("createNewJob refuses a payload that cannot round-trip", async () => {
  await assert.rejects(createNewJob("send", { cb: () => 1 }), {
    name: "TypeError",
    message: 'Cannot add job "send": payload is not JSON: $.cb is a function',
  });
  await assert.rejects(createNewJob("", {}), /job name must not be empty/);
});

Deno.test("resolveDeduplicationKey uses the id, else a payload hash", async () => {
  assert.equal(await resolveDeduplicationKey("a", {}, {}), null);
  assert.equal(await resolveDeduplicationKey("a", {}, { deduplication: { id: "k" } }), "k");
  const h1 = await resolveDeduplicationKey("a", { x: 1, y: 2 }, { deduplication: {} });
  const h2 = await resolveDeduplicationKey("a", { y: 2, x: 1 }, { deduplication: {} });
  const h3 = await resolveDeduplicationKey("b", { x: 1, y: 2 }, { deduplication: {} });
  assert.match(h1!, /^hash:[0-9a-f]{64}$/);
  assert.equal(h1, h2);
  assert.notEqual(h1, h3);
});
