import assert from "node:assert/strict";
import { join } from "node:path";
import { parseBunSummary, parseNodeTap } from "./npm_test.ts";

const SUITE = `import "./_deno_test_shim.ts";
Deno.test("passes", () => {});
Deno.test({ name: "steps", fn: async (t) => {
  if (await t.step("a passes", () => {}) !== true) throw new Error("step result");
  if (await t.step("b fails", () => { throw new Error("b"); }) !== false) throw new Error("b result");
  await t.step("c nests", async (t2) => { await t2.step("c1 passes", () => {}); });
  await t.step({ name: "d ignored", ignore: true, fn: () => {} });
} });
Deno.test("ignored", { ignore: true }, () => {});
Deno.test("fails", async () => { await Promise.reject(new Error("f")); });
`;

async function suiteDir(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "deno-test-shim-" });
  for (const f of ["_deno_test.ts", "_deno_test_shim.ts"]) {
    await Deno.copyFile(join(import.meta.dirname!, f), join(dir, f));
  }
  await Deno.writeTextFile(join(dir, "suite.test.ts"), SUITE);
  return dir;
}

async function run(cmd: string, args: string[], cwd: string, env: Record<string, string> = {}) {
  const r = await new Deno.Command(cmd, { args, cwd, env, stdout: "piped", stderr: "piped" })
    .output();
  const text = new TextDecoder();
  return { code: r.code, out: text.decode(r.stdout) + text.decode(r.stderr) };
}

// Deno itself reports this suite as `1 passed (3 steps) | 2 failed (1 step)`: 4 and 3.
Deno.test("Deno.test shim counts tests and steps under node --test as Deno does", async () => {
  const dir = await suiteDir();
  try {
    const r = await run("node", [
      "--test",
      "--disable-warning=ExperimentalWarning",
      "--test-reporter=tap",
      "suite.test.ts",
    ], dir);
    assert.notEqual(r.code, 0, "a failing step fails the run");
    assert.deepEqual(parseNodeTap(r.out), { passed: 4, failed: 3 }, r.out);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("Deno.test shim reports steps under bun test through CONVEYOR_TEST_REPORT", async () => {
  const dir = await suiteDir();
  try {
    const report = join(dir, "report.jsonl");
    const r = await run("bun", ["test", "./suite.test.ts"], dir, { CONVEYOR_TEST_REPORT: report });
    assert.notEqual(r.code, 0, "a failing step fails the run");
    assert.deepEqual(parseBunSummary(r.out), { pass: 1, fail: 2, errors: 0 }, r.out);
    const lines = (await Deno.readTextFile(report)).trim().split("\n").map((l) => JSON.parse(l));
    assert.equal(lines.filter((l) => l.ok).length, 4);
    assert.equal(lines.filter((l) => !l.ok).length, 3);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
