// requires: @conveyor/conformance#runConformance @conveyor/store-memory#MemoryStore
// The conformance suite against MemoryStore, from the installed npm packages. No shim import:
// the npm build points the conformance package's Deno.test calls at the shim it ships.
import { runConformance } from "@conveyor/conformance";
import { MemoryStore } from "@conveyor/store-memory";

runConformance("MemoryStore", () => new MemoryStore());
