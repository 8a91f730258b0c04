#!/usr/bin/env bash
# Installs Debian's chromium for the browser test (tests/test_browser.py) when it is missing.
# Needs only the Debian package mirrors: Playwright drives /usr/bin/chromium, it never downloads
# a browser of its own (never run `playwright install`). Run as root (CI), or with sudo available.
set -euo pipefail

CHROMIUM=/usr/bin/chromium
if [ -x "$CHROMIUM" ]; then
  echo "chromium: $("$CHROMIUM" --version 2>/dev/null || echo present)"
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-browser: $CHROMIUM is missing and apt-get is not available; install chromium" \
    "with your system's package manager" >&2
  exit 1
fi

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo)
  else
    echo "install-browser: run as root (or install sudo) to apt-get install chromium" >&2
    exit 1
  fi
fi

export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq
# fonts-dejavu-core: Latin/Cyrillic; fonts-noto-core: Arabic, Persian;
# fonts-wqy-zenhei: Chinese (so that screenshots show text instead of boxes).
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends \
  chromium fonts-dejavu-core fonts-noto-core fonts-wqy-zenhei >/dev/null
echo "chromium: $("$CHROMIUM" --version)"
