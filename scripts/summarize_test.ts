import assert from "node:assert/strict";
import { parseDenoSummary } from "./summarize.ts";

Deno.test("parseDenoSummary counts tests and steps", () => {
  assert.deepEqual(parseDenoSummary("x\nok | 12 passed (40 steps) | 0 failed (3s)\n"), {
    passed: 52,
    failed: 0,
  });
  assert.deepEqual(
    parseDenoSummary("\x1b[31mFAILED\x1b[0m | 3 passed (5 steps) | 2 failed (1 step) (9ms)"),
    { passed: 8, failed: 3 },
  );
  assert.equal(parseDenoSummary("no summary here"), null);
});
