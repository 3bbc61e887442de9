// Every case, in area order. Case names are unique: skips refer to them.

import { CONFORMANCE_AREAS, type ConformanceCase } from "../case.ts";
import { badInputCases } from "./bad_input.ts";
import { claimCases } from "./claim.ts";
import { concurrentClaimCases } from "./claim_concurrent.ts";
import { cleanupCases } from "./cleanup.ts";
import { crudCases } from "./crud.ts";
import { dedupCases } from "./dedup.ts";
import { delayedCases } from "./delayed.ts";
import { eventsCases } from "./events.ts";
import { flowPolicyCases } from "./flow_policies.ts";
import { flowCases } from "./flows.ts";
import { groupCases } from "./groups.ts";
import { leaseCases } from "./lease.ts";
import { lifecycleCases } from "./lifecycle.ts";
import { pauseCases } from "./pause.ts";
import { queryCases } from "./queries.ts";
import { stalledCases } from "./stalled.ts";

function collect(): readonly ConformanceCase[] {
  const all = [
    ...lifecycleCases,
    ...crudCases,
    ...claimCases,
    ...concurrentClaimCases,
    ...leaseCases,
    ...delayedCases,
    ...pauseCases,
    ...stalledCases,
    ...cleanupCases,
    ...eventsCases,
    ...flowCases,
    ...flowPolicyCases,
    ...dedupCases,
    ...groupCases,
    ...queryCases,
    ...badInputCases,
  ];
  const seen = new Set<string>();
  for (const c of all) {
    if (seen.has(c.name)) throw new Error(`two conformance cases are named "${c.name}"`);
    seen.add(c.name);
  }
  const ordered = CONFORMANCE_AREAS.flatMap((area) => all.filter((c) => c.area === area));
  return Object.freeze(ordered.map((c) => Object.freeze(c)));
}

/** Every conformance case, grouped by area. */
export const ALL_CASES: readonly ConformanceCase[] = collect();
