import assert from "node:assert/strict";
import { bunCounts, parseBunSummary, parseNodeTap, parseRequires } from "./npm_test.ts";

Deno.test("parseNodeTap reads the last pass/fail/cancelled summary", () => {
  const tap = `TAP version 13
# Subtest: a
ok 1 - a
# tests 9
# suites 0
# pass 6
# fail 2
# cancelled 1
# skipped 2
`;
  assert.deepEqual(parseNodeTap(tap), { passed: 6, failed: 3 });
  assert.equal(parseNodeTap("TAP version 13\n"), null);
});

Deno.test("parseBunSummary reads bun's closing counts, colours or not", () => {
  const out = `(pass) a [1ms]\n\n\x1b[32m 7 pass\x1b[0m\n 1 skip\n 2 fail\n 1 error\nRan 10 tests`;
  assert.deepEqual(parseBunSummary(out), { pass: 7, fail: 2, errors: 1 });
  assert.deepEqual(parseBunSummary(" 3 pass\n 0 fail\n"), { pass: 3, fail: 0, errors: 0 });
  assert.equal(parseBunSummary("no summary"), null);
});

Deno.test("bunCounts counts steps from the shim report and adds failures the shim missed", () => {
  const report = [
    { ok: true, depth: 0 },
    { ok: true, depth: 1 },
    { ok: false, depth: 1 },
    { ok: false, depth: 0 },
  ].map((l) => JSON.stringify(l)).join("\n") + "\n";
  assert.deepEqual(bunCounts(report, { pass: 1, fail: 1, errors: 0 }), { passed: 2, failed: 2 });
  // a file that threw on import: bun saw one more failure than the shim recorded
  assert.deepEqual(bunCounts(report, { pass: 1, fail: 2, errors: 1 }), { passed: 2, failed: 4 });
  assert.deepEqual(bunCounts("", { pass: 0, fail: 0, errors: 0 }), { passed: 0, failed: 0 });
});

Deno.test("parseRequires reads a suite's package exports and variables", () => {
  const text = `// requires: @conveyor/core#Queue @conveyor/store-pg#PgStore env:CONVEYOR_PG_URL
import x from "y";`;
  assert.deepEqual(parseRequires(text), {
    exports: [["@conveyor/core", "Queue"], ["@conveyor/store-pg", "PgStore"]],
    env: ["CONVEYOR_PG_URL"],
  });
  assert.deepEqual(parseRequires("import x from 'y';"), { exports: [], env: [] });
  assert.deepEqual(parseRequires("// requires: a#B\n// runtimes: bun\n"), {
    exports: [["a", "B"]],
    env: [],
    runtimes: ["bun"],
  });
});
