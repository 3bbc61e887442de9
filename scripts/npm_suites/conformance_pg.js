// requires: @conveyor/conformance#runConformance @conveyor/store-pg#PgStore env:CONVEYOR_PG_URL
// The conformance suite against PgStore, from the installed npm packages, on a real server:
// one fresh schema per case, dropped afterwards.
import { runConformance } from "@conveyor/conformance";
import { PgStore } from "@conveyor/store-pg";
import postgres from "postgres"; // installed with @conveyor/store-pg

const url = globalThis.process.env.CONVEYOR_PG_URL;
const runtime = typeof globalThis.Bun === "object" ? "bun" : "node";

runConformance("PgStore", () => {
  const schema = `conveyor_npm_${runtime}_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
  return new PgStore({ connection: url, schema });
}, {
  teardown: async (store) => {
    const sql = postgres(url, { max: 1, onnotice: () => {} });
    try {
      await sql.unsafe(`drop schema if exists "${store.schema}" cascade`);
    } finally {
      await sql.end({ timeout: 1 });
    }
  },
});
