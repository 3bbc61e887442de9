#!/usr/bin/env bash
# The whole test suite: static checks, then every test on every runtime, then a summary line.
# Usage: bash scripts/test.sh            (from a fresh clone; needs only Node and npm)
source "$(dirname "${BASH_SOURCE[0]}")/_env.sh"
source scripts/_postgres.sh

echo "==> deno install (npm dependencies into node_modules/)"
deno install --frozen --quiet

LOG="$(mktemp -d)"
trap 'rm -rf "$LOG"' EXIT
failed_checks=0
check() {
  local name="$1"
  shift
  echo "==> $name"
  if ! "$@"; then
    echo "CHECK FAILED: $name"
    failed_checks=$((failed_checks + 1))
  fi
}

MEMBERS=$(deno eval --quiet 'const c = JSON.parse(await Deno.readTextFile("deno.json")); console.log(c.workspace.join(" "))')
ENTRIES=""
for m in $MEMBERS; do ENTRIES="$ENTRIES $m/mod.ts"; done

check "deno fmt --check" deno fmt --check
check "deno lint" deno lint
check "deno check" deno check $(git ls-files --cached --others --exclude-standard '*.ts')
check "deno doc --lint" deno doc --lint $ENTRIES
check "deno publish --dry-run (every member, slow types included)" deno publish --dry-run --allow-dirty --quiet

echo "==> deno test"
set +e
deno test -A --parallel 2>&1 | tee "$LOG/deno.txt"
deno_rc=${PIPESTATUS[0]}
set -e

echo "==> npm packages on Node 22 and Bun (the same suites, from the built tarballs)"
set +e
bash scripts/npm_test.sh 2>&1 | tee "$LOG/npm.txt"
npm_rc=${PIPESTATUS[0]}
set -e

# The benchmark harness in smoke mode (a few hundred jobs per workload, every system): it asserts
# nothing about speed, only that the harness and every row still run. Needs PostgreSQL and Redis.
if [ "${CI:-}" = "true" ] || (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null; then
  if [ -n "${CONVEYOR_PG_URL:-}" ]; then export BENCH_PG_URL="${BENCH_PG_URL:-${CONVEYOR_PG_URL%/*}/conveyor_bench}"; fi
  check "bench smoke (deno task bench:smoke --strict)" deno run -A bench/run.ts --smoke --strict
else
  echo "warning: no Redis on 127.0.0.1:6379: bench smoke skipped (it runs on CI)" >&2
fi

summary=$(deno run --quiet --allow-read scripts/summarize.ts "$LOG/deno.txt" "$LOG/npm.txt")
echo
echo "exit codes: deno test $deno_rc, npm packages $npm_rc; failed checks: $failed_checks"
echo "$summary"
if [ "$deno_rc" -ne 0 ] || [ "$npm_rc" -ne 0 ] || [ "$failed_checks" -ne 0 ]; then exit 1; fi
