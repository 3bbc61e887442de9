# Sourced by the scripts in this folder: installs the pinned runtimes (tools/) when needed and
# puts them first on PATH. Needs only Node and npm.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# Reinstall only when tools/package-lock.json changed since the last install (a stamp holds its
# contents), so scripts running side by side never pull the runtimes from under each other.
STAMP=tools/node_modules/.conveyor-lock-stamp
if [ ! -x tools/node_modules/.bin/deno ] || ! cmp -s tools/package-lock.json "$STAMP"; then
  echo "==> installing pinned runtimes (Deno, Node 22, Bun) into tools/ from the npm registry"
  npm ci --prefix tools --no-audit --no-fund --loglevel=error
  cp tools/package-lock.json "$STAMP"
fi
export PATH="$ROOT/tools/node_modules/.bin:$PATH"
export RUST_BACKTRACE=0
export DENO_NO_UPDATE_CHECK=1
