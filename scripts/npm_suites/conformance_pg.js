// requires: @conveyor/conformance#runConformance @conveyor/store-pg#PgStore env:CONVEYOR_PG_URL
// The conformance suite against PgStore, from the installed npm packages, on a real server.
import { runConformance } from "@conveyor/conformance";
import { PgStore } from "@conveyor/store-pg";

const url = globalThis.process.env.CONVEYOR_PG_URL;
const runtime = typeof globalThis.Bun === "object" ? "bun" : "node";
let n = 0;
// one schema per case, named for the runtime so parallel Node and Bun runs never share one
runConformance(
  "PgStore",
  () => new PgStore({ url, schema: `npm_${runtime}_${Date.now()}_${n++}` }),
);
