/**
 * Import first to run `Deno.test` suites under `node --test` or `bun test`: defines
 * `globalThis.Deno.test` over `node:test` (see `_deno_test.ts`) where no `Deno` global exists.
 * Only for test processes: libraries that sniff `typeof Deno` would take Node for Deno.
 *
 * @module
 */
import { test } from "./_deno_test.ts";

const g = globalThis as { Deno?: { test?: unknown } };
if (g.Deno === undefined) g.Deno = { test };
else if (typeof g.Deno.test !== "function") g.Deno.test = test;
