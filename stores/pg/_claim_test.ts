import assert from "node:assert/strict";
import { createNewJob } from "@conveyor/shared";
import { CLAIM, CLAIM_LIMITED, CLAIM_ONE } from "./_claim.ts";
import { quoteIdent } from "./_db.ts";
import { admin, pgTest, withStore } from "./_test_utils.ts";

/** Every relation a plan (EXPLAIN's JSON) reads by a sequential scan. */
function seqScans(plan: Record<string, unknown>): string[] {
  const own = plan["Node Type"] === "Seq Scan" ? [String(plan["Relation Name"])] : [];
  const children = (plan.Plans ?? []) as Record<string, unknown>[];
  return [...own, ...children.flatMap(seqScans)];
}

pgTest(
  "PgStore claims read the waiting index, not the whole table, once statistics say one job name fills the queue",
  async () => {
    await withStore(async (store, schema) => {
      // A backlog of one job name in one group: the common case, and the one whose statistics
      // made the planner expect no job to pass the paused-names filter (then scan and sort all).
      for (let k = 0; k < 10; k++) {
        const jobs = await Promise.all(
          Array.from(
            { length: 1000 },
            (_, i) => createNewJob("same", { i }, { groupId: "g" }),
          ),
        );
        await store.saveBulk("q", jobs);
      }
      const s = quoteIdent(schema);
      await admin(async (sql) => {
        await sql.unsafe(`analyze ${s}.jobs`);
        const plans: [string, string, unknown[]][] = [
          ["one worker", CLAIM_ONE(s), ["q", "w", 30_000, 500, "~o", "1"]],
          ["several workers", CLAIM(s), ["q", ["w", "v"], [30_000, 30_000], 2, "~o"]],
          ["limits", CLAIM_LIMITED(s), [
            "q",
            ["w"],
            [30_000],
            1,
            "~o",
            5,
            100,
            50,
            1000,
          ]],
        ];
        for (const [what, text, params] of plans) {
          const [row] = await sql.unsafe(`explain (format json) ${text}`, params as never[]);
          const plan = (row["QUERY PLAN"] as { Plan: Record<string, unknown> }[])[0].Plan;
          assert.deepEqual(seqScans(plan).filter((r) => r === "jobs"), [], `claim (${what})`);
        }
      });
    });
  },
);
