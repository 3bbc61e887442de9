// A separate process for sqlite_store_test.ts: claims from the file given as argument until
// nothing is left, and prints the claimed ids as JSON.
import { DatabaseSync } from "node:sqlite";
import { SqliteStore, type SqlRow } from "./mod.ts";

const file = Deno.args[0];
const store = new SqliteStore({
  open() {
    const db = new DatabaseSync(file);
    return {
      exec: (sql) => db.exec(sql),
      prepare(sql) {
        const s = db.prepare(sql);
        return {
          run: (...p) => s.run(...p),
          get: (...p) => s.get(...p) as SqlRow | undefined,
          all: (...p) => s.all(...p) as SqlRow[],
        };
      },
      close: () => db.close(),
    };
  },
});
await store.connect();
const ids: string[] = [];
for (;;) {
  const got = await store.fetchNextJobs("q", `pid-${Deno.pid}`, 60_000, 3);
  if (got.length === 0) break;
  ids.push(...got.map((j) => j.id));
}
await store.disconnect();
console.log(JSON.stringify(ids));
