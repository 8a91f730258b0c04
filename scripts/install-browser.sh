#!/usr/bin/env bash
# Installs Debian's chromium (and fonts for the 13 languages) for the browser test
# (tests/test_browser.py) when missing. Needs only the Debian package mirrors: Playwright drives
# /usr/bin/chromium and never downloads a browser (never run `playwright install`).
# Run as root (CI) or with sudo available. Does nothing when everything is already installed.
set -euo pipefail

CHROMIUM=/usr/bin/chromium
# fonts-dejavu-core: Latin, Cyrillic; fonts-noto-core: Arabic, Persian and more;
# fonts-wqy-zenhei: Chinese. Without them the screenshots show boxes instead of letters.
PACKAGES=(chromium fonts-dejavu-core fonts-noto-core fonts-wqy-zenhei)

missing=()
if command -v dpkg-query >/dev/null 2>&1; then
  for package in "${PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
      missing+=("$package")
    fi
  done
elif [ ! -x "$CHROMIUM" ]; then
  missing=(chromium)
fi

if [ ${#missing[@]} -gt 0 ]; then
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-browser: apt-get is not available; install ${missing[*]} with your system's" \
      "package manager ($CHROMIUM is what the test runs)" >&2
    exit 1
  fi
  SUDO=()
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
      SUDO=(sudo)
    else
      echo "install-browser: run as root (or install sudo) to apt-get install ${missing[*]}" >&2
      exit 1
    fi
  fi
  export DEBIAN_FRONTEND=noninteractive
  "${SUDO[@]}" apt-get update -qq
  "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# (Debian's launcher script may print a harmless "[: unexpected operator" about /dev/shm.)
echo "install-browser: $("$CHROMIUM" --version 2>/dev/null)"
