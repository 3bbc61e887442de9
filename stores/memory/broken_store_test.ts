// The conformance suite must be able to fail: run it against deliberately broken stores and
// assert that the cases guarding the broken guarantee fail while unrelated cases still pass.

import assert from "node:assert/strict";
import { conformanceCases, runConformanceCases } from "@conveyor/conformance";
import type { StoreInterface } from "@conveyor/shared";
import {
  doubleLeasingStore,
  forgetfulPauseStore,
  piecemealFlowStore,
  unfencedStore,
} from "./_broken_store_test_helper.ts";
import { MemoryStore } from "./mod.ts";

/** Run the named cases against `factory` and assert which fail and which pass. */
async function assertOutcomes(
  factory: () => StoreInterface,
  expected: { fail: string[]; pass: string[] },
): Promise<void> {
  const names = new Set([...expected.fail, ...expected.pass]);
  const known = new Set(conformanceCases().map((c) => c.name));
  for (const name of names) assert.ok(known.has(name), `no conformance case is named "${name}"`);
  const results = await runConformanceCases(factory, { filter: (c) => names.has(c.name) });
  const byName = new Map(results.map((r) => [r.name, r]));
  for (const name of expected.fail) {
    assert.equal(byName.get(name)?.status, "failed", `"${name}" must fail`);
  }
  for (const name of expected.pass) {
    const result = byName.get(name);
    assert.equal(result?.status, "passed", `"${name}" must pass: ${result?.error}`);
  }
}

/**
 * Assert the expected failures come from the breakage: the same cases pass on an intact
 * MemoryStore, and fail on the broken one.
 */
async function expectOutcomes(
  broken: () => StoreInterface,
  expected: { fail: string[]; pass: string[] },
): Promise<void> {
  const all = [...expected.fail, ...expected.pass];
  await assertOutcomes(() => new MemoryStore(), { fail: [], pass: all });
  await assertOutcomes(broken, expected);
}

const CRUD_BASIC = "saveJob stores a waiting job with every field initialised";

Deno.test("conformance catches a store that leases one job to two workers", async () => {
  await expectOutcomes(doubleLeasingStore, {
    fail: [
      "fetchNextJob never leases one job to two workers",
      "fetchNextJobs never leases one job to two workers",
      "fetchNextJob and fetchNextJobs running together never share a job",
      "fetchNextJob never leases one job to two workers with priorities and LIFO jobs",
    ],
    pass: [CRUD_BASIC, "saveFlow saves the parent waiting-children and its leaf children waiting"],
  });
});

Deno.test("conformance catches a store that ignores lease tokens", async () => {
  await expectOutcomes(unfencedStore, {
    fail: [
      "completeJob with a lost lease changes nothing",
      "failJob with a lost lease changes nothing",
      "extendLock with a lost lease returns false and leaves the new lease",
      "releaseLock with a lost lease returns false and keeps the job active",
      "updateJob with a lost lease changes nothing",
      "addLog with a lost lease changes nothing",
      "a released lease's token cannot touch the job's next run",
      "fenced operations with a wrong token are refused",
    ],
    pass: [CRUD_BASIC, "completeJob stores the result and releases the lease"],
  });
});

Deno.test("conformance catches a store that does not store pauses", async () => {
  await expectOutcomes(forgetfulPauseStore, {
    fail: [
      "pauseJobName stops claims of that name only",
      "pausing ALL_JOB_NAMES stops every claim of the queue",
      "concurrent claims never take jobs of a paused name",
    ],
    pass: [CRUD_BASIC, "fetchNextJob claims the highest priority (lowest number) first"],
  });
});

Deno.test("conformance catches a store whose saveFlow is not all-or-nothing", async () => {
  await expectOutcomes(piecemealFlowStore, {
    fail: [
      "saveFlow with an id twice in the list rejects with FlowError and saves nothing",
      "saveFlow with a duplicate id deep in a large tree saves nothing",
    ],
    pass: [CRUD_BASIC],
  });
});
