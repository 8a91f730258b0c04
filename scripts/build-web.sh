#!/usr/bin/env bash
# Builds web/ for `python -m http.server --directory web` (scripts/run.sh) and tests/test_browser.py:
# 1. the rasa-webchat widget: `npm ci` into web/node_modules, exactly as pinned by
#    web/package-lock.json (rasa-webchat 1.0.1), when missing or older than the lock file;
# 2. web/i18n.json, the page's texts in the 13 languages, from locales/*.yml and web/texts.yml.
# Needs npm (Node.js >= 16) and the npm registry; nothing else is fetched at run time (no CDN).
set -euo pipefail
cd "$(dirname "$0")/.."

STAMP=web/node_modules/.kotobot-npm-ci
BUNDLE=web/node_modules/rasa-webchat/lib/index.js
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

"${PYTHON:-.venv/bin/python}" -m bot.web_i18n
