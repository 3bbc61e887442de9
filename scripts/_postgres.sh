# Sourced by test.sh: makes sure a PostgreSQL server is reachable for the store-pg tests and
# exports CONVEYOR_PG_URL. On CI (CI=true) a server that cannot be had is an error, never a skip.
pg_ready() { pg_isready -q -h "$1" -p "$2" 2>/dev/null || (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

if [ -n "${CONVEYOR_PG_URL:-}" ]; then
  return 0
fi
if pg_ready 127.0.0.1 5432; then
  export CONVEYOR_PG_URL="postgres://postgres@127.0.0.1:5432/test"
  # the machines' server has a database "test"; create it where missing
  psql -h 127.0.0.1 -U postgres -tAc "select 1 from pg_database where datname='test'" 2>/dev/null | grep -q 1 ||
    psql -h 127.0.0.1 -U postgres -c "create database test" >/dev/null 2>&1 || true
  return 0
fi
if [ -d /etc/postgresql ] && command -v pg_ctlcluster >/dev/null 2>&1; then
  echo "==> starting the local PostgreSQL cluster"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start 2>/dev/null || true
  for _ in $(seq 1 30); do pg_ready 127.0.0.1 5432 && break; sleep 0.5; done
  if pg_ready 127.0.0.1 5432; then
    export CONVEYOR_PG_URL="postgres://postgres@127.0.0.1:5432/test"
    psql -h 127.0.0.1 -U postgres -tAc "select 1 from pg_database where datname='test'" | grep -q 1 ||
      psql -h 127.0.0.1 -U postgres -c "create database test" >/dev/null
    return 0
  fi
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "==> installing PostgreSQL from Debian's packages and starting a private cluster on 5433"
  if ! command -v pg_createcluster >/dev/null 2>&1; then
    apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >/dev/null
  fi
  ver="$(ls /usr/lib/postgresql | sort -n | tail -n1)"
  if [ ! -d "/etc/postgresql/$ver/conveyor" ]; then
    pg_createcluster "$ver" conveyor --port 5433 --start-conf=manual -- --auth-local=trust --auth-host=trust >/dev/null
  fi
  pg_ctlcluster "$ver" conveyor start || true
  for _ in $(seq 1 30); do pg_ready 127.0.0.1 5433 && break; sleep 0.5; done
  psql -h 127.0.0.1 -p 5433 -U postgres -tAc "select 1 from pg_database where datname='test'" | grep -q 1 ||
    psql -h 127.0.0.1 -p 5433 -U postgres -c "create database test" >/dev/null
  export CONVEYOR_PG_URL="postgres://postgres@127.0.0.1:5433/test"
  return 0
fi
if [ "${CI:-}" = "true" ]; then
  echo "error: no PostgreSQL server reachable and none could be installed; CI needs one" >&2
  exit 1
fi
echo "warning: no PostgreSQL server found: the store-pg tests will fail. Set CONVEYOR_PG_URL or start a server." >&2
