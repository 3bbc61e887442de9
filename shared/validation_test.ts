import assert from "node:assert/strict";
import {
  assertJsonValue,
  createNewJob,
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
