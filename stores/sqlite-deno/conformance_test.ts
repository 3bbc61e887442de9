// The store contract suite against SqliteDenoStore: a fresh temp file per case, deleted after.
import { runConformance } from "@conveyor/conformance";
import type { StoreInterface } from "@conveyor/shared";
import { SqliteDenoStore } from "./sqlite_deno_store.ts";

const dir = Deno.makeTempDirSync({ prefix: "conveyor-sqlite-conformance-" });
let n = 0;

runConformance(
  "SqliteDenoStore",
  () => new SqliteDenoStore({ filename: `${dir}/case-${n++}.db` }),
  {
    async teardown(store: StoreInterface) {
      const file = (store as SqliteDenoStore).filename;
      for (const suffix of ["", "-wal", "-shm"]) {
        await Deno.remove(file + suffix).catch(() => {});
      }
    },
  },
);

Deno.test({
  name: "SqliteDenoStore conformance: temp folder is removed",
  fn: () => Deno.removeSync(dir, { recursive: true }),
});
