# shellcheck shell=bash
# Sourced by .ci/run: a throwaway PostgreSQL 15 cluster for the journal's server-backend tests.
# Debian's server refuses to run as root, so the cluster lives in a temporary folder owned by the
# `postgres` user, listens on a free port on 127.0.0.1 only (and a socket in that folder), trusts
# local connections (nothing else can reach it), and is stopped and deleted when the script exits.

PG_BIN=/usr/lib/postgresql/15/bin

# Installs Debian's postgresql (about a minute) unless its pg_ctl is already there.
ensure_postgres_installed() {
  if [ -x "$PG_BIN/pg_ctl" ]; then return 0; fi
  echo "Installing Debian's postgresql for the journal's server tests…"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends postgresql >/dev/null
}

# Starts the cluster and exports TEST_DATABASE_URL; stop_test_postgres (on the EXIT trap) ends it.
start_test_postgres() {
  PG_TMP=$(mktemp -d /tmp/sightread-pg.XXXXXX)
  chown postgres: "$PG_TMP"
  runuser -u postgres -- "$PG_BIN/initdb" -D "$PG_TMP/data" -A trust -U test --no-sync >/dev/null
  local port attempt
  # A port found free can be taken before the server binds it: then try another.
  for attempt in 1 2 3; do
    port=$(node -e "const s=require('node:net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
    # fsync off: a test cluster never needs to survive a power cut, and it saves seconds of I/O.
    if runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PG_TMP/data" -w -l "$PG_TMP/log" \
      -o "-p $port -k $PG_TMP -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null; then
      export TEST_DATABASE_URL="postgres://test@127.0.0.1:$port/postgres"
      echo "PostgreSQL 15 for the journal tests on 127.0.0.1:$port (cluster in $PG_TMP)."
      return 0
    fi
    echo "PostgreSQL did not start on port $port (attempt $attempt):" >&2
    tail -n 5 "$PG_TMP/log" >&2 || true
  done
  return 1
}

stop_test_postgres() {
  if [ -n "${PG_TMP:-}" ] && [ -d "$PG_TMP/data" ]; then
    runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PG_TMP/data" -m fast -w stop >/dev/null 2>&1 || true
    rm -rf "$PG_TMP"
  fi
}
