import assert from "node:assert/strict";
import { parseSummary } from "./summarize.ts";

Deno.test("parseSummary counts tests and steps", () => {
  assert.deepEqual(parseSummary("x\nok | 12 passed (40 steps) | 0 failed (3s)\n"), {
    passed: 52,
    failed: 0,
  });
  assert.deepEqual(
    parseSummary("\x1b[31mFAILED\x1b[0m | 3 passed (5 steps) | 2 failed (1 step) (9ms)"),
    { passed: 8, failed: 3 },
  );
  assert.equal(parseSummary("no summary here"), null);
});

Deno.test("parseSummary adds the npm runtimes' lines", () => {
  assert.deepEqual(
    parseSummary("node: 758 passed, 0 failed\nbun: 1000 passed, 5 failed\n"),
    { passed: 1758, failed: 5 },
  );
});
