/**
 * `Deno.test` for Node and Bun, over `node:test`: the same suites run under `deno test`,
 * `node --test` and `bun test`. `t.step` maps to node:test's `t.test`; a failing step fails its
 * parent (as in Deno). Sanitizer and permission options are accepted and ignored. Where a real
 * `Deno.test` exists (Deno), calls go to it. The npm build ships this file inside packages whose
 * code calls `Deno.test` (the conformance suite) and points those calls (and `globalThis.Deno`
 * lookups) here, so no `Deno` global is defined for other libraries to mistake Node for Deno.
 *
 * With `CONVEYOR_TEST_REPORT=<file>` set, each test and step appends `{"ok":bool,"depth":n}` to
 * that file: `bun test` counts top-level tests only, so `scripts/npm_test.ts` counts steps here.
 *
 * @module
 */
import { appendFileSync } from "node:fs";
import { test as nodeTest } from "node:test";
import type { TestContext as NodeContext } from "node:test";

type Fn = (t: TestContext) => void | Promise<void>;
/** Options of a test or step, as `Deno.test` takes them (sanitizers and permissions ignored). */
export interface TestDefinition {
  name: string;
  fn: Fn;
  ignore?: boolean;
  only?: boolean;
  [option: string]: unknown;
}
/** The context a test or step function receives, like `Deno.TestContext`. */
export interface TestContext {
  name: string;
  origin: string;
  parent?: TestContext;
  step(a: string | TestDefinition | Fn, b?: Fn): Promise<boolean>;
}
type Args = [string | Fn | Partial<TestDefinition>, (Fn | Partial<TestDefinition>)?, Fn?];

function define([a, b, c]: Args): TestDefinition {
  const opts = [a, b].find((x) => typeof x === "object") as Partial<TestDefinition> | undefined;
  const fn = ([c, b, a].find((x) => typeof x === "function") ?? opts?.fn) as Fn | undefined;
  const name = typeof a === "string" ? a : opts?.name ?? fn?.name;
  if (!name || !fn) throw new TypeError("Deno.test shim: a test needs a name and a function");
  return { ...opts, name, fn };
}

function record(ok: boolean, depth: number): void {
  const file = typeof process === "object" ? process.env.CONVEYOR_TEST_REPORT : undefined;
  if (file) appendFileSync(file, JSON.stringify({ ok, depth }) + "\n");
}

function body(def: TestDefinition, depth: number, parent?: TestContext) {
  return async (nt: NodeContext): Promise<void> => {
    let failedSteps = 0;
    const t: TestContext = {
      name: def.name,
      origin: import.meta.url,
      parent,
      async step(a, b) {
        const step = define([a, b]);
        if (step.ignore) return await nt.test(step.name, { skip: true }, () => {}), false;
        let ok = true;
        try {
          await nt.test(step.name, async (st) => {
            try {
              await body(step, depth + 1, t)(st);
            } catch (e) {
              ok = false;
              throw e;
            }
          });
        } catch {
          ok = false; // Bun rejects on a failed subtest; Node resolves
        }
        if (!ok) failedSteps++;
        return ok;
      },
    };
    let ok = false;
    try {
      await def.fn(t);
      if (failedSteps > 0) throw new Error(`${failedSteps} step(s) of "${def.name}" failed`);
      ok = true;
    } finally {
      record(ok, depth);
    }
  };
}

/** `Deno.test` (all its call forms), on `node:test` unless a real `Deno.test` exists. */
export function test(...args: Args): void {
  const real = (globalThis as { Deno?: { test?: (...a: unknown[]) => void } }).Deno?.test;
  if (typeof real === "function" && real !== test) return real(...args);
  const def = define(args);
  nodeTest(def.name, { skip: def.ignore === true, only: def.only === true }, body(def, 0));
}
/** `Deno.test.ignore`: registers a skipped test. */
test.ignore = (...args: Args): void => test({ ...define(args), ignore: true });
/** `Deno.test.only`: registers a test that runs alone under `--test-only`. */
test.only = (...args: Args): void => test({ ...define(args), only: true });

/** The real `Deno` where there is one, else an object holding only {@linkcode test}. */
export const Deno: { test: typeof test } = (globalThis as { Deno?: { test: typeof test } }).Deno ??
  { test };
