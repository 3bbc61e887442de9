/**
 * Builds one npm package per workspace member into `npm/<member dir>/` (git-ignored): ES modules,
 * `.d.ts` files, `package.json` and a README. One tsc program (the `typescript` npm package) covers
 * every member; `@conveyor/*` imports stay bare and become dependencies on the sibling packages.
 *
 * Usage: `deno run -A scripts/build_npm.ts [--out DIR] [--quiet]` (task `build:npm`).
 *
 * The build fails when:
 * - tsc reports any error (tsc knows no `Deno` global except `Deno.test`: other `Deno.*` use is
 *   an error there, and again in a scan of the emitted JS);
 * - an `npm:`, `jsr:` or URL specifier, a `.ts` import or an import that leaves its package
 *   reaches the output;
 * - the output imports a package that no `deno.json` import map names with a version.
 *
 * Conventions a member can use in its `deno.json`:
 * - `"publish": { "exclude": [...] }` globs are left out of the npm package too (`*_test.ts`,
 *   test helpers named `*_test_*.ts` and `testdata/` always are);
 * - `"npm": { "exclude": ["./deno.ts"] }` leaves Deno-only files out of the npm package only
 *   (an export whose entry is excluded is dropped); `"npm": { "skip": true }` skips the member.
 *
 * Code that calls `Deno.test` (the conformance suite) gets `scripts/_deno_test.ts` shipped
 * beside it as `_deno_test.js`, and those calls point to it: on Node and Bun they run on
 * `node:test`; on Deno they still reach the real `Deno.test`.
 *
 * @module
 */
import ts from "typescript";
import { builtinModules } from "node:module";
import { dirname, join, posix, relative, resolve } from "node:path";

/** A workspace member as the build sees it. */
export interface Member {
  /** Folder relative to the workspace root, e.g. `stores/memory`. */
  dir: string;
  name: string;
  version: string;
  license?: string;
  /** Export map: subpath (`.`, `./x`) → source file relative to the member (`./mod.ts`). */
  exports: Record<string, string>;
  /** The member's own import map. */
  imports: Record<string, string>;
  /** Globs (relative to the member) left out of the npm package. */
  exclude: string[];
  skip: boolean;
}

/** One npm dependency: the name code imports and the range (or `npm:` alias) to install. */
export interface Dependency {
  name: string;
  range: string;
}

/** What the build wrote for one member. */
export interface BuiltPackage {
  name: string;
  version: string;
  /** Package folder, absolute. */
  dir: string;
  /** Member folder relative to the workspace root. */
  member: string;
  files: string[];
  dependencies: Record<string, string>;
}

const ALWAYS_EXCLUDED = [
  "**/*_test.ts",
  "**/*.test.ts",
  "**/*_test_*.ts", // test helpers: _test_util.ts, _broken_store_test_helper.ts
  "**/testdata/",
  "**/node_modules/",
];
const SOURCE_EXT = /\.(ts|mts|tsx)$/;
const SHIM_SOURCE = "scripts/_deno_test.ts";
const SHIM_NAME = "_deno_test";
const BUILTINS = new Set(builtinModules);

// ---------------------------------------------------------------------------------------------
// Pure helpers (tested in build_npm_test.ts)

/** Parses `npm:name@range/subpath` (also `npm:/name@range`); `null` for anything else. */
export function parseNpmSpecifier(
  spec: string,
): { name: string; range: string; subpath: string } | null {
  const m = /^npm:\/?((?:@[^/@\s]+\/)?[^/@\s]+)(?:@([^/\s]+))?(\/.*)?$/.exec(spec);
  if (!m) return null;
  return { name: m[1], range: m[2] ?? "", subpath: m[3] ?? "" };
}

/** The package a bare specifier names: `@a/b/c` → `@a/b`, `a/b` → `a`. */
export function packageNameOf(specifier: string): string {
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0];
}

/** True for `node:x`, `bun:x` and Node's built-in module names. */
export function isBuiltin(specifier: string): boolean {
  return /^(node|bun):/.test(specifier) || BUILTINS.has(specifier.split("/")[0]) ||
    BUILTINS.has(specifier);
}

/**
 * The npm dependency an emitted bare import needs, looked up in import maps (first match wins:
 * pass the member's map before the root's). The package.json name is the name code imports; when
 * the import map aliases another package, the range is `npm:<real name>@<range>`.
 */
export function dependencyFor(
  specifier: string,
  importMaps: Record<string, string>[],
): Dependency {
  const name = packageNameOf(specifier);
  for (const map of importMaps) {
    const target = map[specifier] ?? map[name] ?? map[name + "/"];
    if (target === undefined) continue;
    const npm = parseNpmSpecifier(target);
    if (!npm) {
      throw new Error(`"${specifier}" maps to "${target}", which npm cannot install`);
    }
    if (npm.range === "") {
      throw new Error(`"${specifier}" maps to "${target}" with no version: pin one`);
    }
    return { name, range: npm.name === name ? npm.range : `npm:${npm.name}@${npm.range}` };
  }
  throw new Error(`"${specifier}" is imported but no deno.json import map names it`);
}

/** A `deno.json`-style glob (relative to a member; `**`, `*`, `?`, trailing `/`) as a RegExp. */
export function globToRegExp(glob: string): RegExp {
  let g = glob.replace(/^\.\//, "");
  const dirOnly = g.endsWith("/");
  if (dirOnly) g = g.slice(0, -1);
  let re = "";
  for (let i = 0; i < g.length; i++) {
    const c = g[i];
    if (c === "*" && g[i + 1] === "*") {
      const slash = g[i + 2] === "/";
      re += slash ? "(?:.*/)?" : ".*";
      i += slash ? 2 : 1;
    } else if (c === "*") re += "[^/]*";
    else if (c === "?") re += "[^/]";
    else re += c.replace(/[.+^${}()|[\]\\]/g, "\\$&");
  }
  // a pattern names a file or a folder (and all under it), as in deno.json
  return new RegExp(`^${re}${dirOnly ? "/" : "(?:/|$)"}`);
}

/** True when `path` (relative to the member, `/`-separated) matches one of the globs. */
export function isExcluded(path: string, globs: string[]): boolean {
  return globs.some((g) => globToRegExp(g).test(path));
}

/** Every module specifier in a JS or `.d.ts` text: imports, re-exports, `import()`, references. */
export function moduleSpecifiers(fileName: string, text: string): string[] {
  const sf = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true);
  const found: string[] = sf.typeReferenceDirectives.map((r) => r.fileName);
  const visit = (node: ts.Node): void => {
    if (
      (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) &&
      node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)
    ) found.push(node.moduleSpecifier.text);
    else if (
      ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) &&
      ts.isStringLiteral(node.argument.literal)
    ) found.push(node.argument.literal.text);
    else if (
      ts.isExternalModuleReference(node) && ts.isStringLiteral(node.expression)
    ) found.push(node.expression.text);
    else if (
      ts.isCallExpression(node) && node.arguments.length > 0 &&
      ts.isStringLiteralLike(node.arguments[0]) &&
      (node.expression.kind === ts.SyntaxKind.ImportKeyword ||
        (ts.isIdentifier(node.expression) && node.expression.text === "require"))
    ) found.push(node.arguments[0].text);
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return found;
}

/** Lines of emitted JS that use the `Deno` global (a `typeof Deno` test alone is allowed). */
export function denoUses(fileName: string, text: string): string[] {
  const sf = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true);
  const uses: string[] = [];
  const report = (node: ts.Node) => {
    const { line } = sf.getLineAndCharacterOfPosition(node.getStart(sf));
    uses.push(`${fileName}:${line + 1}: ${text.split("\n")[line].trim()}`);
  };
  const visit = (node: ts.Node): void => {
    if (ts.isIdentifier(node) && node.text === "Deno") {
      const p = node.parent;
      const isName = (ts.isPropertyAccessExpression(p) && p.name === node) ||
        ts.isPropertyAssignment(p) || ts.isImportSpecifier(p) || ts.isExportSpecifier(p);
      const viaGlobal = ts.isPropertyAccessExpression(p) && p.name === node &&
        ts.isIdentifier(p.expression) &&
        ["globalThis", "window", "self"].includes(p.expression.text);
      if ((!isName && !ts.isTypeOfExpression(p)) || viaGlobal) report(node);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return uses;
}

/** package.json `exports` for a member's export map (source paths → `.js` + `.d.ts`). */
export function npmExports(
  exports: Record<string, string>,
): Record<string, { types: string; import: string; default: string }> {
  const out: Record<string, { types: string; import: string; default: string }> = {};
  for (const [key, source] of Object.entries(exports)) {
    const base = "./" + source.replace(/^\.\//, "").replace(SOURCE_EXT, "");
    out[key] = { types: `${base}.d.ts`, import: `${base}.js`, default: `${base}.js` };
  }
  return out;
}

/** The `@module` doc comment of a source text as Markdown, or `""`. */
export function moduleDoc(text: string): string {
  for (const m of text.matchAll(/\/\*\*([\s\S]*?)\*\//g)) {
    if (!/@module\b/.test(m[1])) continue;
    return m[1].split("\n")
      .map((l) => l.replace(/^\s*\* ?/, ""))
      .filter((l) => !/^@module\b/.test(l.trim()))
      .map((l) => l.replace(/^@example\s*(.*)$/, (_, t) => `### Example${t ? `: ${t}` : ""}\n`))
      .join("\n").replace(/\{@link(?:code|plain)? ([^}|\s]+)[^}]*\}/g, "`$1`").trim();
  }
  return "";
}

/** One-line package description from a module doc: its first paragraph, plain text. */
export function describe(doc: string, name = ""): string {
  const text = (doc.split(/\n\s*\n/)[0] ?? "").replace(/`/g, "").replace(/\s+/g, " ").trim();
  return name && text.startsWith(`${name}: `) ? text.slice(name.length + 2) : text;
}

// ---------------------------------------------------------------------------------------------
// Reading the workspace

function readJsonc(path: string): Record<string, unknown> {
  const { config, error } = ts.parseConfigFileTextToJson(path, Deno.readTextFileSync(path));
  if (error) {
    throw new Error(`${path}: ${ts.flattenDiagnosticMessageText(error.messageText, "\n")}`);
  }
  return config;
}

function configPath(dir: string): string {
  for (const f of ["deno.json", "deno.jsonc"]) {
    try {
      Deno.statSync(join(dir, f));
      return join(dir, f);
    } catch { /* try the next name */ }
  }
  throw new Error(`no deno.json in ${dir}`);
}

function readMember(root: string, dir: string): Member {
  const path = configPath(join(root, dir));
  const c = readJsonc(path) as {
    name?: string;
    version?: string;
    license?: string;
    exports?: string | Record<string, string>;
    imports?: Record<string, string>;
    publish?: { exclude?: string[] };
    npm?: { exclude?: string[]; skip?: boolean };
  };
  if (!c.name || !c.version || !c.exports) {
    throw new Error(`${path}: a member needs "name", "version" and "exports"`);
  }
  return {
    dir: dir.replace(/^\.\//, "").replace(/\/$/, ""),
    name: c.name,
    version: c.version,
    license: c.license,
    exports: typeof c.exports === "string" ? { ".": c.exports } : c.exports,
    imports: c.imports ?? {},
    exclude: [...ALWAYS_EXCLUDED, ...(c.publish?.exclude ?? []), ...(c.npm?.exclude ?? [])],
    skip: c.npm?.skip === true,
  };
}

function walk(dir: string, base = ""): string[] {
  const out: string[] = [];
  for (const e of Deno.readDirSync(join(dir, base))) {
    const rel = base ? `${base}/${e.name}` : e.name;
    if (e.name.startsWith(".")) continue;
    if (e.isDirectory) out.push(...walk(dir, rel));
    else if (e.isFile && SOURCE_EXT.test(e.name) && !e.name.endsWith(".d.ts")) out.push(rel);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// tsc

/**
 * Globals tsc sees beside ES2024 and `@types/node` (what Node 22 and Bun have). `Deno`: only
 * `Deno.test`, whose calls the build points at the shim. Web listener types: Node has the
 * objects but `@types/node` keeps these names out of the global scope.
 */
const BUILD_GLOBALS = `
type EventListener = (evt: Event) => void;
interface EventListenerObject {
  handleEvent(object: Event): void;
}
type EventListenerOrEventListenerObject = EventListener | EventListenerObject;
declare namespace Deno {
  interface TestStepDefinition {
    fn: (t: TestContext) => void | Promise<void>;
    name: string;
    ignore?: boolean;
    sanitizeOps?: boolean;
    sanitizeResources?: boolean;
    sanitizeExit?: boolean;
  }
  interface TestContext {
    readonly name: string;
    readonly origin: string;
    readonly parent?: TestContext;
    step(definition: TestStepDefinition): Promise<boolean>;
    step(name: string, fn: (t: TestContext) => void | Promise<void>): Promise<boolean>;
    step(fn: (t: TestContext) => void | Promise<void>): Promise<boolean>;
  }
  interface TestDefinition extends TestStepDefinition {
    only?: boolean;
    permissions?: unknown;
  }
  type TestFn = (t: TestContext) => void | Promise<void>;
  interface DenoTest {
    (t: TestDefinition): void;
    (name: string, fn: TestFn): void;
    (fn: TestFn): void;
    (name: string, options: Omit<TestDefinition, "fn" | "name">, fn: TestFn): void;
    (options: Omit<TestDefinition, "fn">, fn: TestFn): void;
    ignore(t: TestDefinition): void;
    ignore(name: string, fn: TestFn): void;
    only(t: TestDefinition): void;
    only(name: string, fn: TestFn): void;
  }
  const test: DenoTest;
}
`;
const DENO_TYPE_NAMES: Record<string, string> = {
  TestContext: "TestContext",
  TestDefinition: "TestDefinition",
  TestStepDefinition: "TestDefinition",
};

function compilerOptions(
  root: string,
  rootConfig: Record<string, unknown>,
  members: Member[],
  types: string[],
): ts.CompilerOptions {
  // the root deno.json's compilerOptions that tsc knows (strict, erasableSyntaxOnly, ...)
  const fromDeno = { ...(rootConfig.compilerOptions as Record<string, unknown> ?? {}) };
  for (const k of ["lib", "types", "jsx", "jsxImportSource", "jsxFactory", "checkJs"]) {
    delete fromDeno[k];
  }
  const converted = ts.convertCompilerOptionsFromJson(fromDeno, root);
  const paths: Record<string, string[]> = {};
  for (const m of members) {
    for (const [key, source] of Object.entries(m.exports)) {
      paths[key === "." ? m.name : `${m.name}/${key.replace(/^\.\//, "")}`] = [
        resolve(root, m.dir, source),
      ];
    }
  }
  return {
    ...converted.options,
    module: ts.ModuleKind.ESNext,
    target: ts.ScriptTarget.ES2023,
    // what Node 22 and Bun both have
    lib: [
      "lib.es2024.d.ts",
      "lib.es2025.collection.d.ts",
      "lib.es2025.iterator.d.ts",
      "lib.esnext.array.d.ts",
      "lib.esnext.disposable.d.ts",
    ],
    types,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    rewriteRelativeImportExtensions: true,
    allowImportingTsExtensions: false,
    declaration: true,
    verbatimModuleSyntax: true,
    strict: true,
    skipLibCheck: true,
    resolveJsonModule: false,
    noEmitOnError: true,
    forceConsistentCasingInFileNames: true,
    newLine: ts.NewLineKind.LineFeed,
    rootDir: root,
    outDir: join(root, ".npm-build-out"), // never written: emit goes through writeFile below
    paths,
  };
}

function format(diagnostics: readonly ts.Diagnostic[], root: string): string {
  return ts.formatDiagnostics(diagnostics, {
    getCanonicalFileName: (f) => f,
    getCurrentDirectory: () => root,
    getNewLine: () => "\n",
  });
}

/** `(x as T)`, `x!`, `(x)` → `x`. */
function skipOuter(node: ts.Expression): ts.Expression {
  while (
    ts.isParenthesizedExpression(node) || ts.isAsExpression(node) ||
    ts.isNonNullExpression(node) || ts.isSatisfiesExpression(node) ||
    ts.isTypeAssertionExpression(node)
  ) node = node.expression;
  return node;
}

/**
 * Points member code at the shipped shim: `Deno.test` → its `test`, `globalThis.Deno` (a run-time
 * lookup) → its `Deno` (the real one on Deno, else an object with only `test`).
 */
function denoTestTransformer(
  memberOf: (file: string) => Member | undefined,
  shimImport: (file: string, member: Member) => string,
  used: Set<Member>,
): ts.TransformerFactory<ts.SourceFile> {
  return (ctx) => (sf) => {
    const member = memberOf(sf.fileName);
    if (!member) return sf;
    const f = ctx.factory;
    const locals = { test: f.createUniqueName("denoTest"), Deno: f.createUniqueName("Deno") };
    const found = new Set<keyof typeof locals>();
    const visit = (node: ts.Node): ts.Node => {
      if (ts.isPropertyAccessExpression(node)) {
        const target = skipOuter(node.expression);
        if (ts.isIdentifier(target) && target.text === "Deno" && node.name.text === "test") {
          found.add("test");
          return locals.test;
        }
        if (
          ts.isIdentifier(target) && target.text === "globalThis" && node.name.text === "Deno"
        ) {
          found.add("Deno");
          return locals.Deno;
        }
      }
      return ts.visitEachChild(node, visit, ctx);
    };
    const out = ts.visitEachChild(sf, visit, ctx);
    if (found.size === 0) return out;
    used.add(member);
    const imp = f.createImportDeclaration(
      undefined,
      f.createImportClause(
        undefined,
        undefined,
        f.createNamedImports(
          [...found].map((k) => f.createImportSpecifier(false, f.createIdentifier(k), locals[k])),
        ),
      ),
      f.createStringLiteral(shimImport(sf.fileName, member)),
    );
    return f.updateSourceFile(out, [imp, ...out.statements]);
  };
}

/** `./x.ts` → `./x.js` (tsc rewrites relative `.ts` imports in JS but not in declarations). */
export function rewriteTsExtension(specifier: string): string {
  if (!specifier.startsWith(".") || specifier.endsWith(".d.ts")) return specifier;
  return specifier.replace(/\.(m?)tsx?$/, (_, m) => `.${m}js`);
}

/**
 * Declarations: rewrites relative `.ts` imports to `.js`, and `Deno.TestContext` (and friends)
 * to the shim's types.
 */
function declarationsTransformer(
  memberOf: (file: string) => Member | undefined,
  shimImport: (file: string, member: Member) => string,
  used: Set<Member>,
  errors: string[],
): ts.TransformerFactory<ts.SourceFile | ts.Bundle> {
  return (ctx) => (node) => {
    if (!ts.isSourceFile(node)) return node;
    const member = memberOf(node.fileName);
    if (!member) return node;
    const f = ctx.factory;
    const literal = (l: ts.Expression | undefined) =>
      l && ts.isStringLiteral(l) && rewriteTsExtension(l.text) !== l.text
        ? f.createStringLiteral(rewriteTsExtension(l.text))
        : undefined;
    const visit = (n: ts.Node): ts.Node => {
      if (ts.isImportDeclaration(n)) {
        const to = literal(n.moduleSpecifier);
        if (to) {
          return f.updateImportDeclaration(n, n.modifiers, n.importClause, to, n.attributes);
        }
      } else if (ts.isExportDeclaration(n)) {
        const to = literal(n.moduleSpecifier);
        if (to) {
          return f.updateExportDeclaration(
            n,
            n.modifiers,
            n.isTypeOnly,
            n.exportClause,
            to,
            n.attributes,
          );
        }
      } else if (ts.isImportTypeNode(n) && ts.isLiteralTypeNode(n.argument)) {
        const to = literal(n.argument.literal as ts.Expression);
        if (to) {
          return f.updateImportTypeNode(
            n,
            f.createLiteralTypeNode(to),
            n.attributes,
            n.qualifier,
            n.typeArguments,
            n.isTypeOf,
          );
        }
      } else if (
        ts.isTypeReferenceNode(n) && ts.isQualifiedName(n.typeName) &&
        ts.isIdentifier(n.typeName.left) && n.typeName.left.text === "Deno"
      ) {
        const target = DENO_TYPE_NAMES[n.typeName.right.text];
        if (!target) {
          errors.push(`${node.fileName}: declarations use Deno.${n.typeName.right.text}`);
          return n;
        }
        used.add(member);
        return f.createImportTypeNode(
          f.createLiteralTypeNode(f.createStringLiteral(shimImport(node.fileName, member))),
          undefined,
          f.createIdentifier(target),
          n.typeArguments,
        );
      }
      return ts.visitEachChild(n, visit, ctx);
    };
    return ts.visitEachChild(node, visit, ctx);
  };
}

// ---------------------------------------------------------------------------------------------
// The build

/** Options of {@linkcode build}. */
export interface BuildOptions {
  /** Workspace root (folder of the root deno.json). */
  root?: string;
  /** Output folder; emptied first. @default "<root>/npm" */
  out?: string;
  log?: (line: string) => void;
}

/** Builds every member's npm package; throws (with every problem listed) when one is wrong. */
export function build(options: BuildOptions = {}): BuiltPackage[] {
  const root = resolve(options.root ?? join(import.meta.dirname ?? ".", ".."));
  const out = resolve(options.out ?? join(root, "npm"));
  const log = options.log ?? console.log;
  const rootConfig = readJsonc(configPath(root));
  const workspace = rootConfig.workspace as string[] | undefined;
  if (!Array.isArray(workspace)) throw new Error(`${root}: no "workspace" in deno.json`);
  const all = workspace.map((dir) => readMember(root, dir));
  const members = all.filter((m) => !m.skip);
  for (const m of all.filter((m) => m.skip)) log(`skip ${m.name} ("npm": { "skip": true })`);

  const memberOf = (file: string): Member | undefined => {
    const rel = relative(root, file).split("\\").join("/");
    return members.find((m) => rel.startsWith(m.dir + "/"));
  };
  const rootNames = [join(root, SHIM_SOURCE)];
  for (const m of members) {
    for (const rel of walk(join(root, m.dir))) {
      if (!isExcluded(rel, m.exclude)) rootNames.push(join(root, m.dir, rel));
    }
  }
  const usesBun = rootNames.some((f) =>
    ts.preProcessFile(Deno.readTextFileSync(f), true, true).importedFiles
      .some((i) => i.fileName === "bun" || i.fileName.startsWith("bun:"))
  );
  const types = usesBun ? ["node", "bun"] : ["node"];
  for (const t of types) {
    try {
      Deno.statSync(join(root, "node_modules/@types", t));
    } catch {
      throw new Error(`node_modules/@types/${t} is missing: run \`deno install\` first`);
    }
  }

  const opts = compilerOptions(root, rootConfig, members, types);
  const globals = join(root, ".npm-build-globals.d.ts");
  const host = ts.createCompilerHost(opts);
  const { getSourceFile, fileExists, readFile } = host;
  host.getSourceFile = (name, lang, onError, create) =>
    name === globals
      ? ts.createSourceFile(name, BUILD_GLOBALS, lang)
      : getSourceFile.call(host, name, lang, onError, create);
  host.fileExists = (name) => name === globals || fileExists.call(host, name);
  host.readFile = (name) => name === globals ? BUILD_GLOBALS : readFile.call(host, name);
  const program = ts.createProgram({ rootNames: [...rootNames, globals], options: opts, host });

  const diagnostics = ts.getPreEmitDiagnostics(program);
  if (diagnostics.length > 0) {
    const text = format(diagnostics, root);
    const hint = "\nnote: npm code is checked against ES2024 + @types/node (what Node 22 and Bun " +
      "have), not Deno's lib: a global only Deno has (any Deno.* but Deno.test, " +
      "globalThis.addEventListener, reportError) is an error here and would throw on Node. " +
      `Mark Deno-only files with "npm": { "exclude": [...] } in the member's deno.json.`;
    throw new Error(`tsc found ${diagnostics.length} problem(s):\n${text}${hint}`);
  }
  const problems: string[] = [];
  // files the program pulled in by import that the package will not hold
  const roots = new Set(rootNames);
  for (const sf of program.getSourceFiles()) {
    if (sf.isDeclarationFile || roots.has(sf.fileName) || sf.fileName.includes("/node_modules/")) {
      continue;
    }
    const m = memberOf(sf.fileName);
    problems.push(
      m
        ? `${relative(root, sf.fileName)} is excluded from ${m.name} but imported by its code`
        : `${relative(root, sf.fileName)} is outside every member but imported by one`,
    );
  }

  const outRoot = opts.outDir!;
  const emitted = new Map<string, string>(); // path relative to root, "/" separated → text
  const usesShim = new Set<Member>();
  const shimImport = (file: string, m: Member) => {
    const fromDir = posix.dirname(relative(join(root, m.dir), file).split("\\").join("/"));
    const rel = posix.relative(fromDir, `${SHIM_NAME}.js`);
    return rel.startsWith(".") ? rel : `./${rel}`;
  };
  const declErrors: string[] = [];
  const result = program.emit(
    undefined,
    (name, text) => emitted.set(relative(outRoot, name).split("\\").join("/"), text),
    undefined,
    false,
    {
      before: [denoTestTransformer(memberOf, shimImport, usesShim)],
      afterDeclarations: [declarationsTransformer(memberOf, shimImport, usesShim, declErrors)],
    },
  );
  if (result.emitSkipped || result.diagnostics.length > 0) {
    throw new Error(`tsc emit failed:\n${format(result.diagnostics, root)}`);
  }
  problems.push(...declErrors);

  // sort the output into packages and check it
  const byMember = new Map<Member, Map<string, string>>(members.map((m) => [m, new Map()]));
  const shimFiles = new Map<string, string>();
  for (const [path, text] of emitted) {
    if (path.startsWith(SHIM_SOURCE.replace(/\.ts$/, "."))) {
      shimFiles.set(`${SHIM_NAME}${path.slice(SHIM_SOURCE.length - 3)}`, text);
      continue;
    }
    const m = members.find((m) => path.startsWith(m.dir + "/"));
    if (m) byMember.get(m)!.set(path.slice(m.dir.length + 1), text);
    else problems.push(`tsc wrote ${path}, which belongs to no member`);
  }
  for (const m of usesShim) for (const [p, t] of shimFiles) byMember.get(m)!.set(p, t);

  const byName = new Map(members.map((m) => [m.name, m]));
  const skipped = new Set(all.filter((m) => m.skip).map((m) => m.name));
  const rootImports = (rootConfig.imports ?? {}) as Record<string, string>;
  const built: BuiltPackage[] = [];
  for (const m of members) {
    const files = byMember.get(m)!;
    const deps: Record<string, string> = {};
    for (const [path, text] of files) {
      const where = `${m.dir}/${path}`;
      if (path.endsWith(".js") && !path.startsWith(SHIM_NAME)) {
        for (const use of denoUses(where, text)) problems.push(`Deno global in npm code: ${use}`);
      }
      for (const spec of moduleSpecifiers(where, text)) {
        if (/^(npm|jsr|https?|file|data):/.test(spec)) {
          problems.push(`${where}: specifier "${spec}" reached the output`);
        } else if (spec.startsWith(".") || spec.startsWith("/")) {
          if (/\.(ts|mts|tsx)$/.test(spec) && !spec.endsWith(".d.ts")) {
            problems.push(`${where}: relative import "${spec}" kept its .ts extension`);
            continue;
          }
          const target = posix.normalize(posix.join(posix.dirname(path), spec));
          const exists = files.has(target) || files.has(target.replace(/\.js$/, ".d.ts"));
          if (target.startsWith("..") || spec.startsWith("/")) {
            problems.push(`${where}: "${spec}" leaves the package ${m.name}`);
          } else if (!exists) problems.push(`${where}: "${spec}" is not in the package`);
        } else if (isBuiltin(spec)) {
          continue;
        } else if (byName.has(packageNameOf(spec))) {
          // a sibling member: same version, installed from its own package
          const dep = byName.get(packageNameOf(spec))!;
          if (dep !== m) deps[dep.name] = dep.version;
        } else if (skipped.has(packageNameOf(spec))) {
          problems.push(`${where}: imports "${spec}", a member skipped for npm`);
        } else {
          try {
            const d = dependencyFor(spec, [m.imports, rootImports]);
            deps[d.name] = d.range;
          } catch (e) {
            problems.push(`${where}: ${(e as Error).message}`);
          }
        }
      }
    }
    const exports: Record<string, string> = {};
    for (const [key, source] of Object.entries(m.exports)) {
      const rel = source.replace(/^\.\//, "");
      if (isExcluded(rel, m.exclude)) {
        log(`${m.name}: export "${key}" (${source}) is excluded for npm: dropped`);
      } else if (!files.has(rel.replace(SOURCE_EXT, ".js"))) {
        problems.push(`${m.name}: export "${key}" → ${source} produced no JS`);
      } else exports[key] = source;
    }
    const dependencies = Object.fromEntries(
      Object.entries(deps).sort(([a], [b]) => a < b ? -1 : 1),
    );
    built.push({
      name: m.name,
      version: m.version,
      dir: join(out, m.dir),
      member: m.dir,
      files: [...files.keys()].sort(),
      dependencies,
    });
    const npmExportMap = npmExports(exports);
    const main = npmExportMap["."];
    const entry = m.exports["."] ? Deno.readTextFileSync(join(root, m.dir, m.exports["."])) : "";
    const doc = moduleDoc(entry);
    files.set(
      "package.json",
      JSON.stringify(
        {
          name: m.name,
          version: m.version,
          ...(describe(doc, m.name) ? { description: describe(doc, m.name) } : {}),
          ...(m.license ? { license: m.license } : {}),
          type: "module",
          ...(main ? { main: main.import, types: main.types } : {}),
          exports: npmExportMap,
          engines: { node: ">=22" },
          dependencies,
        },
        null,
        2,
      ) + "\n",
    );
    files.set("README.md", readme(root, m, doc));
  }
  if (problems.length > 0) {
    throw new Error(`npm build found ${problems.length} problem(s):\n  ${problems.join("\n  ")}`);
  }

  if (root.startsWith(out + "/") || root === out) throw new Error(`refusing to empty ${out}`);
  try {
    Deno.removeSync(out, { recursive: true });
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  for (const [m, files] of byMember) {
    for (const [path, text] of files) {
      const dest = join(out, m.dir, path);
      Deno.mkdirSync(dirname(dest), { recursive: true });
      Deno.writeTextFileSync(dest, text);
    }
    for (const license of ["LICENSE", "LICENSE.md"]) {
      for (const from of [join(root, m.dir, license), join(root, license)]) {
        try {
          Deno.copyFileSync(from, join(out, m.dir, license));
          break;
        } catch { /* no such file */ }
      }
    }
  }
  // what scripts/npm_test.ts --no-build packs
  Deno.writeTextFileSync(join(out, ".packages.json"), JSON.stringify(built, null, 2) + "\n");
  for (const p of built) {
    const deps = Object.entries(p.dependencies).map(([k, v]) => `${k}@${v}`).join(", ");
    log(
      `${p.name}@${p.version} → ${relative(root, p.dir)}/ (${p.files.length} files` +
        `${deps ? `; deps: ${deps}` : ""})`,
    );
  }
  return built;
}

function readme(root: string, m: Member, doc: string): string {
  try {
    return Deno.readTextFileSync(join(root, m.dir, "README.md"));
  } catch { /* generate one */ }
  return [
    `# ${m.name}`,
    "",
    doc || `Part of Conveyor, a job queue for Deno, Node and Bun.`,
    "",
    "## Install",
    "",
    "```sh",
    `npm install ${m.name}    # or: bun add ${m.name}`,
    "```",
    "",
    `Built for Node (22+) and Bun from the Deno sources (published to JSR as ${m.name}).`,
    "",
  ].join("\n");
}

if (import.meta.main) {
  const args = [...Deno.args];
  const outIndex = args.indexOf("--out");
  const quiet = args.includes("--quiet");
  const started = performance.now();
  try {
    const built = build({
      out: outIndex >= 0 ? args[outIndex + 1] : undefined,
      log: quiet ? () => {} : console.log,
    });
    const s = ((performance.now() - started) / 1000).toFixed(1);
    console.log(`built ${built.length} npm package(s) in ${s} s`);
  } catch (e) {
    console.error(`error: ${(e as Error).message}`);
    Deno.exit(1);
  }
}
