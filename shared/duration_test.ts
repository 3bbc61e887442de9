import assert from "node:assert/strict";
import { parseDuration } from "./duration.ts";

Deno.test("parseDuration reads numbers and human-readable strings", () => {
  assert.equal(parseDuration(1500), 1500);
  assert.equal(parseDuration("250ms"), 250);
  assert.equal(parseDuration("5s"), 5000);
  assert.equal(parseDuration("in 10 minutes"), 600_000);
  assert.equal(parseDuration("1.5 hours"), 5_400_000);
  assert.equal(parseDuration("1h 30m"), 5_400_000);
  assert.equal(parseDuration("2 days, 3 hours"), 2 * 86_400_000 + 3 * 3_600_000);
  assert.equal(parseDuration("1 week and 1 day"), 8 * 86_400_000);
  assert.equal(parseDuration("42"), 42);
});

Deno.test("parseDuration refuses what it cannot read, naming the field", () => {
  assert.throws(() => parseDuration("soon", "delay"), {
    name: "RangeError",
    message: /^delay: cannot parse duration "soon"/,
  });
  assert.throws(() => parseDuration("", "delay"), /empty duration/);
  assert.throws(
    () => parseDuration(-1, "delay"),
    /delay must be a finite number of ms >= 0, got -1/,
  );
  assert.throws(() => parseDuration(Infinity), /got Infinity/);
  assert.throws(() => parseDuration("5 parsecs"), /cannot parse/);
  // deno-lint-ignore no-explicit-any
  assert.throws(() => parseDuration({} as any), TypeError);
});
