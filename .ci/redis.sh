# shellcheck shell=bash
# Sourced by .ci/run: Debian's redis-server for the job queue's tests. The tests start their own
# throwaway servers (one per test file, on a free port of 127.0.0.1, no persistence unless a test
# asks for it) and skip with a message when redis-server is not on PATH; nothing is started here.

# Installs Debian's redis-server (a few seconds) unless it is already on PATH. Its service is not
# started (no init system in CI; the tests start their own servers).
ensure_redis_installed() {
  if command -v redis-server >/dev/null 2>&1; then return 0; fi
  echo "Installing Debian's redis-server for the job queue's tests…"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends redis-server >/dev/null
}
