# Sourced by the scripts in this folder: installs the pinned runtimes (tools/) when needed and
# puts them first on PATH. Needs only Node and npm.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
if [ ! -x tools/node_modules/.bin/deno ] || [ tools/package-lock.json -nt tools/node_modules/.package-lock.json ]; then
  echo "==> installing pinned runtimes (Deno, Node 22, Bun) into tools/ from the npm registry"
  npm ci --prefix tools --no-audit --no-fund --loglevel=error
fi
export PATH="$ROOT/tools/node_modules/.bin:$PATH"
export RUST_BACKTRACE=0
export DENO_NO_UPDATE_CHECK=1
