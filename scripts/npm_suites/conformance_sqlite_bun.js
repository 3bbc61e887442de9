// requires: @conveyor/conformance#runConformance @conveyor/store-sqlite-bun#SqliteBunStore
// runtimes: bun
// The conformance suite against SqliteBunStore (bun:sqlite), from the installed npm packages.
// Bun only: under Node this file registers nothing. A fresh temp file per case.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runConformance } from "@conveyor/conformance";
import { SqliteBunStore } from "@conveyor/store-sqlite-bun";

if (typeof globalThis.Bun === "object") {
  const dir = mkdtempSync(join(tmpdir(), "conveyor-sqlite-bun-"));
  let n = 0;
  runConformance("SqliteBunStore", () => new SqliteBunStore({ filename: join(dir, `${n++}.db`) }), {
    teardown(store) {
      for (const suffix of ["", "-wal", "-shm"]) rmSync(store.filename + suffix, { force: true });
      return Promise.resolve();
    },
  });
}
