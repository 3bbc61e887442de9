/**
 * Reads test-runner output and prints one plain `N passed, N failed` line (test steps count as
 * tests: the conformance cases are steps). Used by `scripts/test.sh`.
 *
 * Usage: `deno run --allow-read scripts/summarize.ts <runner-output.txt>...`
 */

// deno-lint-ignore no-control-regex
const ANSI = /\x1b\[[0-9;]*m/g;

/**
 * Passed/failed totals from Deno's summary lines (`ok | 12 passed (40 steps) | 0 failed`) and
 * from `scripts/npm_test.sh`'s per-runtime lines (`node: 758 passed, 0 failed`).
 */
export function parseSummary(text: string): { passed: number; failed: number } | null {
  let passed = 0;
  let failed = 0;
  let seen = false;
  for (const raw of text.split("\n")) {
    const line = raw.replace(ANSI, "");
    const m =
      /^(?:ok|FAILED) \| (\d+) passed(?: \((\d+) steps?\))? \| (\d+) failed(?: \((\d+) steps?\))?/
        .exec(line);
    const r = /^(?:node|bun): (\d+) passed, (\d+) failed$/.exec(line.trim());
    if (m) {
      passed += Number(m[1]) + Number(m[2] ?? 0);
      failed += Number(m[3]) + Number(m[4] ?? 0);
    } else if (r) {
      passed += Number(r[1]);
      failed += Number(r[2]);
    } else continue;
    seen = true;
  }
  return seen ? { passed, failed } : null;
}

if (import.meta.main) {
  let passed = 0;
  let failed = 0;
  for (const file of Deno.args) {
    const result = parseSummary(await Deno.readTextFile(file));
    if (result === null) failed += 1; // a runner that printed no summary counts as a failure
    else {
      passed += result.passed;
      failed += result.failed;
    }
  }
  console.log(`${passed} passed, ${failed} failed`);
}
