/**
 * Tests the npm build the way a user gets it: builds (`build_npm.ts`), `npm pack`s each package,
 * installs the tarballs into a scratch Node project and a scratch Bun project in a temp folder,
 * and runs the suites of `scripts/npm_suites/` there under `node --test` (Node 22) and
 * `bun test`. Prints `node: N passed, M failed` and `bun: N passed, M failed` last and exits
 * non-zero on any failure. Counts include test steps, as `scripts/summarize.ts` counts Deno's.
 *
 * Usage: `deno run -A scripts/npm_test.ts [--no-build] [--keep] [--runtime node|bun]`
 * (normally through `scripts/npm_test.sh`). `CONVEYOR_PG_URL` enables the PostgreSQL suites.
 *
 * A suite file starts with `// requires: <package>#<export> ... env:<NAME>` (and optionally
 * `// runtimes: node bun`); it is copied into each project as `<name>.test.js` when every package
 * has the export (a placeholder package has none), every variable is set and the runtime is
 * listed, and skipped with a note otherwise.
 *
 * @module
 */
import ts from "typescript";
import { join, resolve } from "node:path";
import { build, type BuiltPackage } from "./build_npm.ts";

const ROOT = resolve(import.meta.dirname ?? ".", "..");
const SUITES = join(ROOT, "scripts/npm_suites");
// one runtime's whole run; also ends a run that hangs on a leaked handle (no --test-force-exit:
// it drops tests that are not registered yet, silently)
const TIMEOUT_MS = 10 * 60_000;
const TEST_TIMEOUT_MS = 180_000; // one top-level test (a conformance area)

/** Passed/failed counts of one runtime. */
export interface Counts {
  passed: number;
  failed: number;
}

/** Counts from node's TAP summary (`# pass N`, `# fail N`, `# cancelled N`); null if none. */
export function parseNodeTap(text: string): Counts | null {
  const n = (key: string) => {
    const all = [...text.matchAll(new RegExp(`^# ${key} (\\d+)$`, "gm"))];
    return all.length ? Number(all[all.length - 1][1]) : null;
  };
  const passed = n("pass");
  const failed = n("fail");
  if (passed === null || failed === null) return null;
  return { passed, failed: failed + (n("cancelled") ?? 0) };
}

/** Bun's summary (` N pass`, ` N fail`, ` N error`, top-level tests only); null if none. */
export function parseBunSummary(
  text: string,
): { pass: number; fail: number; errors: number } | null {
  // deno-lint-ignore no-control-regex
  const plain = text.replace(/\x1b\[[0-9;]*m/g, "");
  const n = (key: string) => {
    const m = [...plain.matchAll(new RegExp(`^\\s*(\\d+) ${key}s?$`, "gm"))];
    return m.length ? Number(m[m.length - 1][1]) : null;
  };
  const pass = n("pass");
  const fail = n("fail");
  if (pass === null || fail === null) return null;
  return { pass, fail, errors: n("error") ?? 0 };
}

/**
 * Bun counts: tests and steps from the shim's report (`{"ok","depth"}` lines), plus failures bun
 * saw that the shim did not (a file that threw on import, an error between tests).
 */
export function bunCounts(
  report: string,
  summary: { pass: number; fail: number; errors: number },
): Counts {
  const lines = report.split("\n").filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as { ok: boolean; depth: number });
  const passed = lines.filter((l) => l.ok).length;
  const failed = lines.filter((l) => !l.ok).length;
  const topFailed = lines.filter((l) => !l.ok && l.depth === 0).length;
  return { passed, failed: failed + Math.max(0, summary.fail - topFailed) + summary.errors };
}

/**
 * A suite's header: `// requires:` package exports (`pkg#name`) and env variables (`env:NAME`),
 * and `// runtimes:` (default: every runtime).
 */
export function parseRequires(
  text: string,
): { exports: [string, string][]; env: string[]; runtimes?: string[] } {
  const words = (key: string) =>
    new RegExp(`^// ${key}:(.*)$`, "m").exec(text)?.[1].trim().split(/\s+/).filter(Boolean);
  const required = words("requires") ?? [];
  const runtimes = words("runtimes");
  return {
    exports: required.filter((w) => w.includes("#")).map((w) => w.split("#") as [string, string]),
    env: required.filter((w) => w.startsWith("env:")).map((w) => w.slice(4)),
    ...(runtimes ? { runtimes } : {}),
  };
}

interface Run {
  code: number;
  output: string;
}

async function run(
  cmd: string,
  args: string[],
  opts: { cwd?: string; env?: Record<string, string>; quiet?: boolean } = {},
): Promise<Run> {
  const child = new Deno.Command(cmd, {
    args,
    cwd: opts.cwd ?? ROOT,
    env: opts.env,
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(TIMEOUT_MS),
  }).spawn();
  let output = "";
  const decoder = new TextDecoder();
  const pump = async (stream: ReadableStream<Uint8Array>, to: typeof Deno.stdout) => {
    for await (const chunk of stream) {
      output += decoder.decode(chunk, { stream: true });
      if (!opts.quiet) await to.write(chunk);
    }
  };
  const [status] = await Promise.all([
    child.status,
    pump(child.stdout, Deno.stdout),
    pump(child.stderr, Deno.stderr),
  ]);
  return { code: status.code, output };
}

async function must(cmd: string, args: string[], opts: Parameters<typeof run>[2] = {}) {
  const r = await run(cmd, args, { quiet: true, ...opts });
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (${r.code}):\n${r.output}`);
  return r.output;
}

/** The shim as JS for the scratch projects (`_deno_test_shim.js` + `_deno_test.js`). */
function shimFiles(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of ["_deno_test", "_deno_test_shim"]) {
    const source = Deno.readTextFileSync(join(ROOT, "scripts", `${name}.ts`));
    out[`${name}.js`] = ts.transpileModule(source, {
      compilerOptions: {
        module: ts.ModuleKind.ESNext,
        target: ts.ScriptTarget.ES2023,
        rewriteRelativeImportExtensions: true,
        verbatimModuleSyntax: true,
      },
    }).outputText;
  }
  return out;
}

/** A suite that checks every package loads and that its package.json is what npm installed. */
function importsSuite(packages: BuiltPackage[]): string {
  return [
    `import "./_deno_test_shim.js";`,
    `const runtime = typeof Bun === "object" ? "bun" : "node";`,
    ...packages.map((p) =>
      `Deno.test(${JSON.stringify(`${p.name} loads on `)} + runtime, async () => {\n` +
      `  await import(${JSON.stringify(p.name)});\n});`
    ),
    "",
  ].join("\n");
}

async function exportNames(cwd: string, runtime: string, names: string[]) {
  const code = `const out = {};
for (const n of ${JSON.stringify(names)}) {
  try { out[n] = Object.keys(await import(n)); } catch (e) { out[n] = String(e); }
}
console.log(JSON.stringify(out));`;
  const args = runtime === "bun"
    ? ["-e", code]
    : ["--disable-warning=ExperimentalWarning", "--input-type=module", "-e", code];
  const text = await must(runtime, args, { cwd });
  const line = text.split("\n").findLast((l) => l.startsWith("{"));
  if (!line) throw new Error(`${runtime} printed no export list:\n${text}`);
  return JSON.parse(line) as Record<string, string[] | string>;
}

/** Fails when a `@conveyor/*` package came from anywhere but our tarballs. */
function checkInstalled(project: string, packages: BuiltPackage[]): void {
  for (const p of packages) {
    const installed = join(project, "node_modules", p.name);
    const pj = JSON.parse(Deno.readTextFileSync(join(installed, "package.json")));
    if (pj.version !== p.version) throw new Error(`${installed}: version ${pj.version}`);
    for (const dep of Object.keys(p.dependencies).filter((d) => d.startsWith("@conveyor/"))) {
      try {
        Deno.statSync(join(installed, "node_modules", dep));
        throw new Error(`${installed} has its own copy of ${dep}: not deduplicated to the tarball`);
      } catch (e) {
        if (!(e instanceof Deno.errors.NotFound)) throw e;
      }
    }
  }
}

async function main(): Promise<number> {
  const args = Deno.args;
  const only = args.includes("--runtime") ? args[args.indexOf("--runtime") + 1] : undefined;
  const runtimes = (["node", "bun"] as const).filter((r) => !only || r === only);
  const started = performance.now();
  const secs = () => ((performance.now() - started) / 1000).toFixed(1);

  const out = join(ROOT, "npm");
  let packages: BuiltPackage[];
  if (args.includes("--no-build")) {
    packages = JSON.parse(Deno.readTextFileSync(join(out, ".packages.json")));
  } else {
    console.log("==> npm build");
    packages = build({ root: ROOT, out });
  }

  // for the types suite: the workspace's tsc and @types
  Deno.env.set("CONVEYOR_TSC", join(ROOT, "node_modules/typescript/bin/tsc"));
  Deno.env.set("CONVEYOR_TYPE_ROOTS", join(ROOT, "node_modules/@types"));
  const tmp = Deno.makeTempDirSync({ prefix: "conveyor-npm-test-" });
  try {
    console.log(`==> npm pack (${packages.length} packages) into ${tmp}/tarballs`);
    const tarballs = join(tmp, "tarballs");
    Deno.mkdirSync(tarballs);
    const packed = JSON.parse(
      await must("npm", [
        "pack",
        "--json",
        "--loglevel=error",
        "--pack-destination",
        tarballs,
        ...packages.map((p) => p.dir),
      ]),
    ) as { name: string; filename: string }[];
    const deps: Record<string, string> = {};
    for (const p of packed) deps[p.name] = `file:${join(tarballs, p.filename)}`;

    // suites: the ones whose packages, exports and variables are all there
    const suiteFiles = [...Deno.readDirSync(SUITES)].filter((e) => e.name.endsWith(".js"))
      .map((e) => e.name).sort();
    const results: Record<string, Counts> = {};
    for (const runtime of runtimes) {
      const project = join(tmp, runtime);
      Deno.mkdirSync(project);
      const pkg = {
        name: `conveyor-npm-test-${runtime}`,
        private: true,
        type: "module",
        dependencies: deps,
        // Bun does not dedupe a tarball's sibling @conveyor/* dependency without this
        ...(runtime === "bun" ? { overrides: deps } : {}),
      };
      Deno.writeTextFileSync(join(project, "package.json"), JSON.stringify(pkg, null, 2));
      console.log(`==> ${runtime}: installing the tarballs (${secs()} s)`);
      if (runtime === "node") {
        await must("npm", ["install", "--no-audit", "--no-fund", "--loglevel=error"], {
          cwd: project,
        });
      } else {
        await must("bun", ["install", "--no-progress"], {
          cwd: project,
          env: { BUN_INSTALL_CACHE_DIR: join(tmp, "bun-cache") },
        });
      }
      checkInstalled(project, packages);
      const exported = await exportNames(project, runtime, packages.map((p) => p.name));

      for (const [name, text] of Object.entries(shimFiles())) {
        Deno.writeTextFileSync(join(project, name), text);
      }
      Deno.writeTextFileSync(join(project, "imports.test.js"), importsSuite(packages));
      const files = ["./imports.test.js"];
      for (const file of suiteFiles) {
        const text = Deno.readTextFileSync(join(SUITES, file));
        const req = parseRequires(text);
        if (req.runtimes && !req.runtimes.includes(runtime)) continue;
        const missing = [
          ...req.exports.filter(([p, e]) => !Array.isArray(exported[p]) || !exported[p].includes(e))
            .map(([p, e]) => `${p} exports no ${e}`),
          ...req.env.filter((v) => !Deno.env.get(v)).map((v) => `${v} is not set`),
        ];
        if (missing.length > 0) {
          console.log(`    skip ${file}: ${missing.join("; ")}`);
          continue;
        }
        const dest = file.replace(/\.js$/, ".test.js");
        Deno.writeTextFileSync(join(project, dest), text);
        files.push(`./${dest}`);
      }

      console.log(`==> ${runtime}: ${files.join(" ")} (${secs()} s)`);
      const report = join(project, "report.jsonl");
      Deno.writeTextFileSync(report, "");
      const env = { CONVEYOR_TEST_REPORT: report };
      let counts: Counts;
      if (runtime === "node") {
        const tap = join(project, "tap.txt");
        const r = await run("node", [
          "--test",
          `--test-timeout=${TEST_TIMEOUT_MS}`,
          "--disable-warning=ExperimentalWarning",
          "--test-reporter=spec",
          "--test-reporter-destination=stdout",
          "--test-reporter=tap",
          `--test-reporter-destination=${tap}`,
          ...files,
        ], { cwd: project, env });
        counts = parseNodeTap(Deno.readTextFileSync(tap)) ?? { passed: 0, failed: 1 };
        if (r.code !== 0 && counts.failed === 0) counts.failed = 1;
      } else {
        const r = await run("bun", ["test", "--timeout", String(TEST_TIMEOUT_MS), ...files], {
          cwd: project,
          env,
        });
        const summary = parseBunSummary(r.output);
        counts = summary
          ? bunCounts(Deno.readTextFileSync(report), summary)
          : { passed: 0, failed: 1 };
        if (r.code !== 0 && counts.failed === 0) counts.failed = 1;
      }
      results[runtime] = counts;
    }

    console.log(`\nnpm_test: ${secs()} s`);
    for (const [runtime, c] of Object.entries(results)) {
      console.log(`${runtime}: ${c.passed} passed, ${c.failed} failed`);
    }
    const ok = Object.values(results).every((c) => c.failed === 0 && c.passed > 0);
    return ok ? 0 : 1;
  } finally {
    if (args.includes("--keep")) console.log(`kept ${tmp}`);
    else Deno.removeSync(tmp, { recursive: true });
  }
}

if (import.meta.main) {
  try {
    Deno.exit(await main());
  } catch (e) {
    console.error(`error: ${(e as Error).message}`);
    Deno.exit(1);
  }
}
