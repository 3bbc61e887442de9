import assert from "node:assert/strict";
import type { StoreInterface } from "@conveyor/shared";
import { CONFORMANCE_AREAS, conformanceCases, runConformance, runConformanceCases } from "./mod.ts";

interface Recorded {
  name: string;
  fn: (t: { step(d: { name: string; ignore?: boolean }): Promise<boolean> }) => unknown;
}

/** Call `runConformance` with `Deno.test` replaced by a recorder. */
function register(options?: Parameters<typeof runConformance>[2]): Recorded[] {
  const original = Deno.test;
  const recorded: Recorded[] = [];
  try {
    (Deno as { test: unknown }).test = (d: Recorded) => void recorded.push(d);
    runConformance("Fake", () => fakeStore().store, options);
  } finally {
    (Deno as { test: unknown }).test = original;
  }
  return recorded;
}

/** A store whose every method except disconnect rejects; counts calls in order. */
function fakeStore(): { store: StoreInterface; calls: string[] } {
  const calls: string[] = [];
  const store = new Proxy({}, {
    get(_, prop) {
      if (prop === "contractVersion") return 1;
      if (typeof prop !== "string" || prop === "then") return undefined;
      return () => {
        calls.push(prop);
        return prop === "disconnect" || prop === "connect"
          ? Promise.resolve()
          : Promise.reject(new Error(`${prop} refused`));
      };
    },
  }) as StoreInterface;
  return { store, calls };
}

Deno.test("conformanceCases have unique names and cover every area", () => {
  const cases = conformanceCases();
  assert.ok(cases.length > 100);
  assert.equal(new Set(cases.map((c) => c.name)).size, cases.length);
  for (const area of CONFORMANCE_AREAS) {
    assert.ok(cases.some((c) => c.area === area), `area ${area} has cases`);
  }
  const order = cases.map((c) => CONFORMANCE_AREAS.indexOf(c.area));
  assert.deepEqual(order, [...order].sort((a, b) => a - b), "cases are grouped by area");
});

Deno.test("runConformance registers one test per area and one step per case", async () => {
  const tests = register({ skip: { "a fresh store is empty": "demonstration" } });
  assert.deepEqual(
    tests.map((t) => t.name),
    CONFORMANCE_AREAS.map((a) => `Fake conformance: ${a}`),
  );
  const steps: { name: string; ignore?: boolean }[] = [];
  await tests[0].fn({ step: (d) => (steps.push(d), Promise.resolve(true)) });
  const lifecycle = conformanceCases().filter((c) => c.area === "lifecycle");
  assert.equal(steps.length, lifecycle.length);
  const skipped = steps.filter((s) => s.ignore);
  assert.deepEqual(skipped.map((s) => s.name), ["a fresh store is empty (skipped: demonstration)"]);
});

Deno.test("runConformance fails the run when a skip names an unknown case", () => {
  const tests = register({ skip: { "no such case": "x", "a fresh store is empty": " " } });
  const check = tests.find((t) => t.name === "Fake conformance: skip list");
  assert.ok(check, "a failing test is registered");
  assert.throws(
    () => check.fn({ step: () => Promise.resolve(true) }),
    (err: unknown) =>
      err instanceof RangeError && err.message.includes('"no such case"') &&
      err.message.includes('"a fresh store is empty" gives no reason'),
  );
});

Deno.test("runConformanceCases connects before each case and always disconnects and tears down", async () => {
  const stores: ReturnType<typeof fakeStore>[] = [];
  const torn: StoreInterface[] = [];
  const results = await runConformanceCases(() => {
    stores.push(fakeStore());
    return stores.at(-1)!.store;
  }, {
    filter: (c) => c.area === "queries",
    teardown: (store) => (torn.push(store), Promise.resolve()),
  });
  assert.equal(results.length, conformanceCases().filter((c) => c.area === "queries").length);
  assert.ok(results.every((r) => r.status === "failed" && r.error instanceof Error));
  assert.equal(stores.length, results.length, "one store per case");
  assert.deepEqual(torn, stores.map((s) => s.store));
  for (const { calls } of stores) {
    assert.equal(calls[0], "connect");
    assert.equal(calls.at(-1), "disconnect");
    assert.equal(calls.filter((c) => c === "disconnect").length, 1);
  }
});

Deno.test("runConformanceCases fails a case that outlives caseTimeout", async () => {
  const hanging = new Proxy({}, {
    get: (_, prop) =>
      prop === "then" ? undefined : prop === "contractVersion" ? 1 : prop === "connect" ||
          prop === "disconnect"
        ? () => Promise.resolve()
        : () => new Promise(() => {}),
  }) as StoreInterface;
  const [result] = await runConformanceCases(() => hanging, {
    filter: (c) => c.name === "getJob returns null for an unknown id",
    caseTimeout: 20,
  });
  assert.equal(result.status, "failed");
  assert.match(String(result.error), /did not finish within 20 ms/);
});

Deno.test("runConformanceCases refuses a skip list naming an unknown case", async () => {
  let made = 0;
  await assert.rejects(
    () => runConformanceCases(() => (made++, fakeStore().store), { skip: { "no such case": "x" } }),
    (err: unknown) => err instanceof RangeError && err.message.includes('"no such case"'),
  );
  assert.equal(made, 0, "nothing ran");
});

Deno.test("runConformanceCases reports a skipped case without running it", async () => {
  let made = 0;
  const results = await runConformanceCases(() => (made++, fakeStore().store), {
    filter: (c) => c.area === "lifecycle",
    skip: { "a fresh store is empty": "demonstration" },
  });
  assert.deepEqual(results.find((r) => r.name === "a fresh store is empty"), {
    area: "lifecycle",
    name: "a fresh store is empty",
    status: "skipped",
    passed: false,
    skipped: "demonstration",
  });
  assert.equal(made, results.length - 1, "one store per case that ran");
});
