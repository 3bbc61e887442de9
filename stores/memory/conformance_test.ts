import { runConformance } from "@conveyor/conformance";
import { MemoryStore } from "@conveyor/store-memory";

runConformance("MemoryStore", () => new MemoryStore());
