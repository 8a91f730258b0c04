#!/usr/bin/env bash
# Builds the web chat page into web/dist, the only folder that is served (bot/tools/harness.py, and
# tests/test_browser.py builds its own copy):
# 1. web/node_modules: `npm ci` exactly as pinned by web/package-lock.json (socket.io-client;
#    axe-core, for the browser test only, is never served), when missing or older than the lock;
# 2. web/i18n.json, the page's texts in the languages of topics.yml, from locales/*.yml (web:);
# 3. web/dist: the page's own files, i18n.json, config.json and socket.io-client's browser bundle
#    (bot/tools/web_i18n.py build_dist). Nothing else from node_modules.
#
# WEB_SOCKET_URL, the one setting: where the page finds Rasa's socket.io channel (a variable of
# the scripts, like scripts/run.sh's WEB_PORT, not one of the bot's KOTOBOT_* settings).
#   unset    ":${RASA_PORT:-5005}", the page's own host on Rasa's port (`make run`; deploy/
#            publishes 5005 too)
#   ""       the page's own origin (a proxy in front sends /socket.io/ to Rasa)
#   ":PORT"  the page's own host on that port;  "https://host[:port]"  that origin
# Needs npm (Node.js >= 16) and the npm registry; nothing is fetched at run time (no CDN).
set -euo pipefail
cd "$(dirname "$0")/.."

STAMP=web/node_modules/.kotobot-npm-ci
BUNDLE=web/node_modules/socket.io-client/dist/socket.io.min.js
if [ ! -f "$STAMP" ] || [ ! -f "$BUNDLE" ] || [ web/package-lock.json -nt "$STAMP" ]; then
  if ! command -v npm >/dev/null 2>&1; then
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
      DEBIAN_FRONTEND=noninteractive apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
    else
      echo "build-web: npm is missing (Debian: apt-get install nodejs npm)" >&2
      exit 1
    fi
  fi
  # --ignore-scripts: the page only needs the prebuilt bundle; no package's install script runs.
  (cd web && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
  test -f "$BUNDLE"
  touch "$STAMP"
fi

SOCKET_URL="${WEB_SOCKET_URL-:${RASA_PORT:-5005}}"
"${PYTHON:-.venv/bin/python}" -m bot.tools.web_i18n --dist web/dist --socket-url "$SOCKET_URL"
echo "build-web: web/dist built (socket.io address: \"$SOCKET_URL\")"
