// requires: @conveyor/conformance#runConformance @conveyor/store-sqlite-node#SqliteNodeStore
// The conformance suite against SqliteNodeStore (node:sqlite), from the installed npm packages:
// on Node 22 and on Bun (which also provides node:sqlite). A fresh temp file per case.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runConformance } from "@conveyor/conformance";
import { SqliteNodeStore } from "@conveyor/store-sqlite-node";

const dir = mkdtempSync(join(tmpdir(), "conveyor-sqlite-node-"));
let n = 0;
runConformance("SqliteNodeStore", () => new SqliteNodeStore({ filename: join(dir, `${n++}.db`) }), {
  teardown(store) {
    for (const suffix of ["", "-wal", "-shm"]) rmSync(store.filename + suffix, { force: true });
    return Promise.resolve();
  },
});
