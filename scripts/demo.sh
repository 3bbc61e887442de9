#!/usr/bin/env bash
# The main demo on the embedded default store. Usage: bash scripts/demo.sh (needs only Node and npm)
source "$(dirname "${BASH_SOURCE[0]}")/_env.sh"
deno install --frozen --quiet
exec deno task demo
