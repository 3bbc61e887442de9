// Every example runs to completion by itself: examples cannot rot.
import assert from "node:assert/strict";

const here = new URL(".", import.meta.url);
const examples = [...Deno.readDirSync(here)]
  .map((entry) => entry.name)
  .filter((name) => name.endsWith(".ts") && !name.endsWith("_test.ts"))
  .sort();

for (const name of examples) {
  Deno.test(`examples/${name} runs to completion and exits 0`, async () => {
    const command = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", new URL(name, here).pathname],
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
      signal: AbortSignal.timeout(60_000),
    });
    const { code, stdout, stderr } = await command.output();
    const out = new TextDecoder().decode(stdout);
    const err = new TextDecoder().decode(stderr);
    assert.equal(code, 0, `exit code ${code}\n--- stdout\n${out}\n--- stderr\n${err}`);
    assert.ok(out.trim().length > 0, "the example prints what it did");
    assert.doesNotMatch(err, /error|uncaught/i, "nothing on stderr looks like an error");
  });
}
