import assert from "node:assert/strict";
import { applyJitter, computeBackoff, normalizeBackoff } from "./backoff.ts";

Deno.test("computeBackoff gives fixed and exponential delays", () => {
  assert.equal(computeBackoff(undefined, 1), 0);
  assert.equal(computeBackoff(300, 4), 300);
  assert.equal(computeBackoff({ type: "fixed", delay: 50 }, 2), 50);
  assert.equal(computeBackoff({ type: "exponential", delay: 100 }, 1), 100);
  assert.equal(computeBackoff({ type: "exponential", delay: 100 }, 2), 200);
  assert.equal(computeBackoff({ type: "exponential", delay: 100 }, 4), 800);
});

Deno.test("computeBackoff returns undefined for a custom strategy", () => {
  assert.equal(computeBackoff({ type: "linear", delay: 10 }, 2), undefined);
  assert.deepEqual(normalizeBackoff(5), { type: "fixed", delay: 5 });
});

Deno.test("computeBackoff jitter removes at most the given fraction", () => {
  assert.equal(computeBackoff({ type: "fixed", delay: 1000, jitter: 0.5 }, 1, () => 0), 1000);
  assert.equal(computeBackoff({ type: "fixed", delay: 1000, jitter: 0.5 }, 1, () => 0.998), 501);
  assert.equal(applyJitter(1000, 1, () => 0.5), 500);
});
