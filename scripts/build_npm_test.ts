import assert from "node:assert/strict";
import {
  denoUses,
  dependencyFor,
  describe,
  globToRegExp,
  isBuiltin,
  isExcluded,
  moduleDoc,
  moduleSpecifiers,
  npmExports,
  packageNameOf,
  parseNpmSpecifier,
  rewriteTsExtension,
} from "./build_npm.ts";

Deno.test("parseNpmSpecifier reads name, range and subpath", () => {
  assert.deepEqual(parseNpmSpecifier("npm:postgres@3.4.9"), {
    name: "postgres",
    range: "3.4.9",
    subpath: "",
  });
  assert.deepEqual(parseNpmSpecifier("npm:@sinonjs/fake-timers@^15.5.0/sub/x.js"), {
    name: "@sinonjs/fake-timers",
    range: "^15.5.0",
    subpath: "/sub/x.js",
  });
  assert.deepEqual(parseNpmSpecifier("npm:/croner@10"), {
    name: "croner",
    range: "10",
    subpath: "",
  });
  assert.deepEqual(parseNpmSpecifier("npm:croner"), { name: "croner", range: "", subpath: "" });
  assert.equal(parseNpmSpecifier("jsr:@std/assert@1"), null);
  assert.equal(parseNpmSpecifier("./local.ts"), null);
});

Deno.test("packageNameOf strips subpaths from bare specifiers", () => {
  assert.equal(packageNameOf("postgres"), "postgres");
  assert.equal(packageNameOf("postgres/cf/polyfills"), "postgres");
  assert.equal(packageNameOf("@conveyor/shared"), "@conveyor/shared");
  assert.equal(packageNameOf("@scope/pkg/deep/file.js"), "@scope/pkg");
});

Deno.test("isBuiltin knows node:, bun: and bare Node module names", () => {
  for (const s of ["node:sqlite", "node:fs/promises", "bun:sqlite", "fs", "fs/promises"]) {
    assert.equal(isBuiltin(s), true, s);
  }
  for (const s of ["postgres", "@conveyor/shared", "croner"]) assert.equal(isBuiltin(s), false, s);
});

Deno.test("dependencyFor reads versions from the member's map before the root's", () => {
  const member = { postgres: "npm:postgres@3.4.9" };
  const root = { postgres: "npm:postgres@3.0.0", croner: "npm:croner@10.0.1" };
  assert.deepEqual(dependencyFor("postgres", [member, root]), {
    name: "postgres",
    range: "3.4.9",
  });
  assert.deepEqual(dependencyFor("croner", [member, root]), { name: "croner", range: "10.0.1" });
  assert.deepEqual(dependencyFor("postgres/subpath.js", [member]), {
    name: "postgres",
    range: "3.4.9",
  });
  assert.deepEqual(dependencyFor("lodash/fp", [{ "lodash/": "npm:/lodash@4.17.21/" }]), {
    name: "lodash",
    range: "4.17.21",
  });
});

Deno.test("dependencyFor keeps an import-map alias as an npm alias", () => {
  assert.deepEqual(dependencyFor("pg", [{ pg: "npm:postgres@3.4.9" }]), {
    name: "pg",
    range: "npm:postgres@3.4.9",
  });
});

Deno.test("dependencyFor refuses unmapped, unpinned and non-npm imports", () => {
  assert.throws(() => dependencyFor("left-pad", [{}]), /no deno.json import map names it/);
  assert.throws(() => dependencyFor("croner", [{ croner: "npm:croner" }]), /no version/);
  assert.throws(
    () => dependencyFor("@std/assert", [{ "@std/assert": "jsr:@std/assert@1" }]),
    /npm cannot install/,
  );
});

Deno.test("globToRegExp and isExcluded follow deno.json publish.exclude globs", () => {
  const globs = ["**/*_test.ts", "**/testdata/", "./deno.ts", "bench/*.ts"];
  assert.equal(isExcluded("queue_test.ts", globs), true);
  assert.equal(isExcluded("deep/x/queue_test.ts", globs), true);
  assert.equal(isExcluded("testdata/a.ts", globs), true);
  assert.equal(isExcluded("cases/testdata/a.ts", globs), true);
  assert.equal(isExcluded("deno.ts", globs), true);
  assert.equal(isExcluded("src/deno.ts", globs), false);
  assert.equal(isExcluded("bench/a.ts", globs), true);
  assert.equal(isExcluded("bench/deep/a.ts", globs), false);
  assert.equal(isExcluded("queue.ts", globs), false);
  assert.equal(isExcluded("testdata.ts", globs), false);
  assert.equal(globToRegExp("cases").test("cases/x.ts"), true); // a folder name covers its files
  assert.equal(globToRegExp("a?.ts").test("ab.ts"), true);
  assert.equal(globToRegExp("a.ts").test("abts"), false); // dots are literal
});

Deno.test("moduleSpecifiers finds every kind of import in JS and declarations", () => {
  const js = `import a from "a"; import "./side.js"; export * from "@conveyor/shared";
export { x } from "./x.js"; const m = await import("dyn"); const r = require("req");
import("./not" + "literal");`;
  assert.deepEqual(moduleSpecifiers("f.js", js), [
    "a",
    "./side.js",
    "@conveyor/shared",
    "./x.js",
    "dyn",
    "req",
  ]);
  const dts = `/// <reference types="node" />
import type { A } from "./a.js";
export declare function f(x: import("@conveyor/core").Job): import("postgres").Sql;`;
  assert.deepEqual(moduleSpecifiers("f.d.ts", dts), [
    "node",
    "./a.js",
    "@conveyor/core",
    "postgres",
  ]);
});

Deno.test("denoUses flags Deno globals in JS but allows a typeof test", () => {
  const js = `if (typeof Deno !== "undefined") {}
const env = Deno.env.get("X");
const d = globalThis.Deno;
const o = { Deno: 1 }; o.Deno;`;
  const uses = denoUses("f.js", js);
  assert.equal(uses.length, 2);
  assert.match(uses[0], /^f\.js:2: const env/);
  assert.match(uses[1], /^f\.js:3: const d/);
});

Deno.test("rewriteTsExtension rewrites relative .ts imports only", () => {
  assert.equal(rewriteTsExtension("./types.ts"), "./types.js");
  assert.equal(rewriteTsExtension("../a/b.mts"), "../a/b.mjs");
  assert.equal(rewriteTsExtension("./c.tsx"), "./c.js");
  assert.equal(rewriteTsExtension("./d.d.ts"), "./d.d.ts");
  assert.equal(rewriteTsExtension("pkg/x.ts"), "pkg/x.ts");
});

Deno.test("npmExports maps source entries to types and import conditions", () => {
  assert.deepEqual(npmExports({ ".": "./mod.ts", "./testing": "./src/testing.ts" }), {
    ".": { types: "./mod.d.ts", import: "./mod.js", default: "./mod.js" },
    "./testing": {
      types: "./src/testing.d.ts",
      import: "./src/testing.js",
      default: "./src/testing.js",
    },
  });
});

Deno.test("moduleDoc and describe turn the @module comment into README text and a description", () => {
  const source = `// a plain comment
/**
 * \`@conveyor/x\`: does {@linkcode Thing} well.
 * Second line.
 *
 * More text.
 *
 * @example Use it
 * \`\`\`ts
 * new Thing();
 * \`\`\`
 *
 * @module
 */
export {};`;
  const doc = moduleDoc(source);
  assert.equal(
    doc,
    "`@conveyor/x`: does `Thing` well.\nSecond line.\n\nMore text.\n\n### Example: Use it\n\n" +
      "```ts\nnew Thing();\n```",
  );
  assert.equal(describe(doc, "@conveyor/x"), "does Thing well. Second line.");
  assert.equal(moduleDoc("/** Not a module doc. */"), "");
});
