// requires: env:CONVEYOR_TSC env:CONVEYOR_TYPE_ROOTS
// The packages' declarations type-check in a strict NodeNext TypeScript project, the way a Node
// user compiles against them (no skipLibCheck). Runs once, under Node.
import "./_deno_test_shim.js";
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

Deno.test({
  name: "the npm packages' declarations type-check in a strict NodeNext project",
  ignore: typeof globalThis.Bun === "object",
  fn() {
    const { dependencies } = JSON.parse(readFileSync("package.json", "utf8"));
    // a package whose declarations need Bun's types is for Bun users only: not checked here
    const bunOnly = (dir) =>
      readdirSync(dir, { recursive: true }).some((f) =>
        f.endsWith(".d.ts") && /from "bun(:|")/.test(readFileSync(join(dir, f), "utf8"))
      );
    const names = Object.keys(dependencies).filter((n) =>
      n.startsWith("@conveyor/") && !bunOnly(join("node_modules", n))
    );
    const source = names.map((n, i) => `export * as p${i} from "${n}";\n`).join("");
    writeFileSync("consumer.ts", source);
    const compilerOptions = {
      strict: true,
      noEmit: true,
      module: "nodenext",
      moduleResolution: "nodenext",
      target: "es2023",
      types: ["node"],
      typeRoots: [globalThis.process.env.CONVEYOR_TYPE_ROOTS],
    };
    writeFileSync("tsconfig.json", JSON.stringify({ compilerOptions, files: ["consumer.ts"] }));
    try {
      const tsc = globalThis.process.env.CONVEYOR_TSC;
      execFileSync(globalThis.process.execPath, [tsc, "-p", "tsconfig.json"], { stdio: "pipe" });
    } catch (e) {
      throw new Error(`tsc found problems:\n${e.stdout}${e.stderr}`);
    }
  },
});
