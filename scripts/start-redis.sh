#!/usr/bin/env bash
# Starts a throw-away Redis (Debian's package) on 127.0.0.1:56379 for the lock-store and scale-out
# tests, and prints the `export` line to use it:   eval "$(scripts/start-redis.sh)"
# Installs the package when missing (root, apt). No persistence: nothing is written but the log and
# pid file in /tmp. Stop with: scripts/start-redis.sh stop
set -euo pipefail
PORT=${KOTOBOT_REDIS_PORT:-56379}
DATA=${KOTOBOT_REDIS_DIR:-/tmp/kotobot-redis}

if [ "${1:-}" = stop ]; then
  if command -v redis-cli >/dev/null && redis-cli -h 127.0.0.1 -p "$PORT" ping >/dev/null 2>&1; then
    redis-cli -h 127.0.0.1 -p "$PORT" shutdown nosave >/dev/null 2>&1 || true
  fi
  exit 0
fi

if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2 && apt-get install -y -qq redis-server >&2
fi
if ! redis-cli -h 127.0.0.1 -p "$PORT" ping >/dev/null 2>&1; then
  rm -rf "$DATA" && mkdir -p "$DATA"
  redis-server --port "$PORT" --bind 127.0.0.1 --dir "$DATA" --save '' --appendonly no \
    --daemonize yes --pidfile "$DATA/redis.pid" --logfile "$DATA/log" >&2
  for _ in $(seq 50); do
    redis-cli -h 127.0.0.1 -p "$PORT" ping >/dev/null 2>&1 && break
    sleep 0.1
  done
  redis-cli -h 127.0.0.1 -p "$PORT" ping >/dev/null
fi
echo "export KOTOBOT_TEST_REDIS_URL=redis://127.0.0.1:$PORT/0"
