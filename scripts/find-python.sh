#!/usr/bin/env bash
# Prints a Python 3.10 interpreter (Rasa 3.6 runs on 3.10 only): $PYTHON, python3.10 on PATH, or pyenv's.
set -euo pipefail
for candidate in "${PYTHON:-}" python3.10 "$(command -v pyenv >/dev/null && pyenv root)"/versions/3.10*/bin/python3.10 /usr/bin/python3.10; do
  [ -n "$candidate" ] || continue
  if "$candidate" -c 'import sys; assert sys.version_info[:2] == (3, 10)' >/dev/null 2>&1; then
    command -v "$candidate" 2>/dev/null || echo "$candidate"
    exit 0
  fi
done
echo "Python 3.10 not found: install it (e.g. pyenv install 3.10) or set PYTHON=/path/to/python3.10" >&2
exit 1
