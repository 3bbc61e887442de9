// The store contract suite, run against PgStore: one fresh schema per case, dropped afterwards.
import { runConformance } from "@conveyor/conformance";
import { PgStore } from "./pg_store.ts";
import { dropSchema, freshSchema, PG_URL, reachable } from "./_test_utils.ts";

const CI = (Deno.env.get("CI") ?? "") !== "";

if (reachable || CI) {
  runConformance(
    "PgStore",
    () => new PgStore({ connection: PG_URL, schema: freshSchema("conveyor_conf") }),
    { teardown: (store) => dropSchema((store as PgStore).schema) },
  );
}
