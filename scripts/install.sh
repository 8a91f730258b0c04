#!/usr/bin/env bash
# Installs Kotobot into the virtual environment $VENV (default .venv) exactly as requirements/ pins
# it: `scripts/install.sh runtime` (what `make run` and `make train` need) or `scripts/install.sh
# dev` (runtime + tests, lint, the lock tool: `make install`). Every package comes from the lock
# file with its hashes and without dependency resolution (`--require-hashes --no-deps`), so every
# machine gets the same files; the project itself is installed editable, also without resolving.
# Says what it does, step by step; pip shows its own progress. `make lock` refreshes the locks.
set -euo pipefail
cd "$(dirname "$0")/.."

SET=${1:-}
case "$SET" in
  runtime | dev) ;;
  *) echo "usage: scripts/install.sh runtime|dev   (VENV=path, default .venv)" >&2; exit 2 ;;
esac
VENV=${VENV:-.venv}
LOCK=requirements/$SET.txt
PYTHON=$VENV/bin/python
STEPS=6
step() { printf '\n[%s/%s] %s\n' "$1" "$STEPS" "$2"; }
packages() { grep -cE '^[A-Za-z0-9][A-Za-z0-9._-]*==' "$1"; }
pip_install() { "$PYTHON" -m pip install --disable-pip-version-check "$@"; }

start=$SECONDS
if [ -x "$PYTHON" ]; then
  step 1 "virtual environment $VENV ($("$PYTHON" --version 2>&1)) already exists"
else
  interpreter=$(scripts/find-python.sh)
  step 1 "creating the virtual environment $VENV with $interpreter"
  "$interpreter" -m venv "$VENV"
fi

step 2 "installer and build backend from requirements/bootstrap.txt ($(packages requirements/bootstrap.txt) packages: pip, setuptools, wheel)"
pip_install --require-hashes --no-deps -r requirements/bootstrap.txt

step 3 "$SET packages from $LOCK ($(packages "$LOCK") packages, hash-checked, no dependency resolution; a first install downloads ~1 GB)"
pip_install --require-hashes --no-deps -r "$LOCK"

step 4 "the project itself, editable (pip install --no-deps --no-build-isolation -e .)"
pip_install --no-deps --no-build-isolation -e .

step 5 "checking that the installed packages' requirements are all met (pip check)"
if ! "$PYTHON" -m pip check --disable-pip-version-check; then
  echo "install: the installed packages do not satisfy each other or pyproject.toml" >&2
  "$PYTHON" scripts/lock.py check >&2 || true
  exit 1
fi

step 6 "language-detection tables (python -m bot.langid.ngram_tables)"
"$PYTHON" -m bot.langid.ngram_tables

touch "$VENV/.installed-runtime"
if [ "$SET" = dev ]; then touch "$VENV/.installed-dev"; fi
printf '\ninstall: %s set installed in %s in %d s\n' "$SET" "$VENV" $((SECONDS - start))
