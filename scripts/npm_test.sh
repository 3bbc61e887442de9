#!/usr/bin/env bash
# The npm build on Node 22 and Bun: builds the packages, installs their tarballs into scratch
# Node and Bun projects and runs the conformance suite (MemoryStore; PgStore when
# CONVEYOR_PG_URL is set) and a core smoke there. Ends with `node: N passed, M failed` and
# `bun: N passed, M failed`; exits non-zero on any failure.
# Usage: bash scripts/npm_test.sh [--keep] [--runtime node|bun] [--no-build]
source "$(dirname "${BASH_SOURCE[0]}")/_env.sh"
source scripts/_postgres.sh # exports CONVEYOR_PG_URL (already set when run from test.sh)
if [ ! -d node_modules/typescript ] || [ ! -d node_modules/@types/node ]; then
  deno install --frozen --quiet
fi
exec deno run -A scripts/npm_test.ts "$@"
