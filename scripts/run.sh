#!/usr/bin/env bash
# Starts the action server (5055), the Rasa server (5005: REST + socket.io) and the web page (8080).
# Ctrl-C stops all three.
set -euo pipefail
cd "$(dirname "$0")/.."
export RASA_TELEMETRY_ENABLED=false TF_CPP_MIN_LOG_LEVEL=2
BIN=.venv/bin
# Refuse unsafe settings (the HTTP API without a token) before anything starts: docs/security.md.
"$BIN/python" -m bot.serve --check >/dev/null
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

# The action server has no authentication and only Rasa calls it: loopback unless ACTIONS_HOST says
# otherwise (rasa-sdk reads the address from SANIC_HOST). docs/security.md.
SANIC_HOST="${ACTIONS_HOST:-127.0.0.1}" "$BIN/rasa" run actions --actions actions \
  --port "${ACTIONS_PORT:-5055}" --logging-config-file bot/resources/logging.yml &
pids+=($!)
# `rasa run` with the HTTP API and CORS from KOTOBOT_* variables (bot/serve.py).
"$BIN/python" -m bot.serve --model models/kotobot.tar.gz --port "${RASA_PORT:-5005}" \
  --credentials credentials.yml --endpoints endpoints.yml &
pids+=($!)
"$BIN/python" -m http.server "${WEB_PORT:-8080}" --bind 127.0.0.1 --directory web/dist &
pids+=($!)
echo "Kotobot: web page http://localhost:${WEB_PORT:-8080}/  REST http://localhost:${RASA_PORT:-5005}/webhooks/rest/webhook"
wait -n
