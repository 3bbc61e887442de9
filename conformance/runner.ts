/**
 * Running the conformance cases: as `Deno.test` suites, or programmatically.
 *
 * @module
 */

import { isConveyorError, type StoreInterface } from "@conveyor/shared";
import { CONFORMANCE_AREAS, type ConformanceArea, type ConformanceCase } from "./case.ts";
import { ALL_CASES } from "./cases/_all.ts";

/** Makes a fresh, empty, isolated store for one case (not yet connected). */
export type StoreFactory = () => StoreInterface | Promise<StoreInterface>;

/** Options of {@linkcode runConformance} and {@linkcode runConformanceCases}. */
export interface ConformanceOptions {
  /**
   * Cases not to run: exact case name → reason (non-empty). A name that is not a case, or an
   * empty reason, fails the run.
   * @default {}
   */
  skip?: Record<string, string>;
  /**
   * Called after each case, once the store is disconnected (drop a schema, delete a file).
   * @default nothing
   */
  teardown?: (store: StoreInterface) => Promise<void>;
  /**
   * Time limit of one case in milliseconds; a case still running then fails and its store is
   * disconnected.
   * @default 15000
   */
  caseTimeout?: number;
}

/** Options of {@linkcode runConformanceCases}. */
export interface RunCasesOptions extends ConformanceOptions {
  /**
   * Run only the cases for which this returns `true` (the others are not reported).
   * @default every case
   */
  filter?: (testCase: ConformanceCase) => boolean;
}

/** Outcome of one case in {@linkcode runConformanceCases}. */
export interface CaseResult {
  /** Area of the case. */
  area: ConformanceArea;
  /** Name of the case. */
  name: string;
  /** `passed`, `failed`, or `skipped` (named in `options.skip`, not run). */
  status: "passed" | "failed" | "skipped";
  /** `true` only when the case ran and passed. */
  passed: boolean;
  /** The skip reason, when the case was skipped. */
  skipped?: string;
  /** What the case threw, when it failed. */
  error?: unknown;
}

/**
 * Every conformance case, grouped by area in {@linkcode CONFORMANCE_AREAS} order.
 *
 * @returns the cases (frozen); names are unique
 */
export function conformanceCases(): readonly ConformanceCase[] {
  return ALL_CASES;
}

/**
 * Check a skip list: every key must name a case and carry a non-empty reason.
 * @returns one message per problem (empty when the list is fine)
 */
export function checkSkipList(skip: Record<string, string> | undefined): string[] {
  if (skip === undefined) return [];
  const names = new Set(ALL_CASES.map((c) => c.name));
  const problems: string[] = [];
  for (const [name, reason] of Object.entries(skip)) {
    if (!names.has(name)) problems.push(`skip names an unknown conformance case: "${name}"`);
    else if (typeof reason !== "string" || reason.trim() === "") {
      problems.push(`skip of conformance case "${name}" gives no reason`);
    }
  }
  return problems;
}

function skipReason(options: ConformanceOptions, name: string): string | undefined {
  const skip = options.skip;
  return skip !== undefined && Object.hasOwn(skip, name) ? skip[name] : undefined;
}

async function withTimeout(work: Promise<void>, ms: number, name: string): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`conformance case "${name}" did not finish within ${ms} ms`)),
      ms,
    );
  });
  try {
    await Promise.race([work, limit]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Run one case against a fresh store: factory, `connect()`, the check, then always
 * `disconnect()` (a `StoreClosedError` from it is ignored: the case may have closed the store)
 * and `teardown`. Throws the first failure.
 */
async function runCase(
  testCase: ConformanceCase,
  factory: StoreFactory,
  options: ConformanceOptions,
): Promise<void> {
  const store = await factory();
  let failure: { error: unknown } | undefined;
  try {
    await store.connect();
    await withTimeout(testCase.fn(store), options.caseTimeout ?? 15_000, testCase.name);
  } catch (error) {
    failure = { error };
  }
  try {
    await store.disconnect();
  } catch (error) {
    if (!isConveyorError(error, "STORE_CLOSED")) failure ??= { error };
  }
  if (options.teardown) {
    try {
      await options.teardown(store);
    } catch (error) {
      failure ??= { error };
    }
  }
  if (failure) throw failure.error;
}

/**
 * Run the cases one after another and report each outcome, without registering tests: for
 * tools, and for tests that assert which cases a store fails.
 *
 * @param factory makes a fresh, empty, isolated store; called once per case
 * @param options skips, teardown, time limit and a filter
 * @returns one result per selected case, in case order
 * @throws {RangeError} before running anything, when the skip list names an unknown case
 *
 * @example Listing the cases a store fails
 * ```ts ignore
 * import { runConformanceCases } from "@conveyor/conformance";
 * import { MemoryStore } from "@conveyor/store-memory";
 * const results = await runConformanceCases(() => new MemoryStore());
 * console.log(results.filter((r) => r.status === "failed").map((r) => r.name));
 * ```
 */
export async function runConformanceCases(
  factory: StoreFactory,
  options: RunCasesOptions = {},
): Promise<CaseResult[]> {
  const problems = checkSkipList(options.skip);
  if (problems.length > 0) throw new RangeError(problems.join("; "));
  const results: CaseResult[] = [];
  for (const testCase of ALL_CASES) {
    if (options.filter && !options.filter(testCase)) continue;
    const { area, name } = testCase;
    const reason = skipReason(options, name);
    if (reason !== undefined) {
      results.push({ area, name, status: "skipped", passed: false, skipped: reason });
      continue;
    }
    try {
      await runCase(testCase, factory, options);
      results.push({ area, name, status: "passed", passed: true });
    } catch (error) {
      results.push({ area, name, status: "failed", passed: false, error });
    }
  }
  return results;
}

interface StepDefinition {
  name: string;
  ignore?: boolean;
  fn: () => Promise<void>;
}

interface TestContextLike {
  step(definition: StepDefinition): Promise<boolean>;
}

interface TestDefinitionLike {
  name: string;
  fn: (t: TestContextLike) => void | Promise<void>;
}

/** `Deno.test`, looked up at run time so the module also loads where a shim provides it. */
function registerTest(definition: TestDefinitionLike): void {
  const deno = (globalThis as { Deno?: { test?: (d: TestDefinitionLike) => void } }).Deno;
  if (typeof deno?.test !== "function") {
    throw new Error("runConformance needs Deno.test (or a shim that provides it)");
  }
  deno.test(definition);
}

/**
 * Register the conformance suites with `Deno.test`: one test per area, one step per case. Each
 * case gets its own store from `factory`, connected before and disconnected after.
 *
 * @param name name of the store under test, prefixed to every test name
 * @param factory makes a fresh, empty, isolated store; called once per case
 * @param options skips (exact case name → reason), teardown, time limit
 *
 * @example
 * ```ts ignore
 * import { runConformance } from "@conveyor/conformance";
 * import { MemoryStore } from "@conveyor/store-memory";
 * runConformance("MemoryStore", () => new MemoryStore());
 * ```
 */
export function runConformance(
  name: string,
  factory: StoreFactory,
  options: ConformanceOptions = {},
): void {
  const problems = checkSkipList(options.skip);
  if (problems.length > 0) {
    registerTest({
      name: `${name} conformance: skip list`,
      fn() {
        throw new RangeError(problems.join("; "));
      },
    });
  }
  for (const area of CONFORMANCE_AREAS) {
    const cases = ALL_CASES.filter((c) => c.area === area);
    registerTest({
      name: `${name} conformance: ${area}`,
      async fn(t) {
        for (const testCase of cases) {
          const reason = skipReason(options, testCase.name);
          await t.step({
            name: reason === undefined ? testCase.name : `${testCase.name} (skipped: ${reason})`,
            ignore: reason !== undefined,
            fn: () => runCase(testCase, factory, options),
          });
        }
      },
    });
  }
}
