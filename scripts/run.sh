#!/usr/bin/env bash
# `make run`: the action server (5055), the Rasa server (5005: REST + socket.io) and the web page
# (8080), started by the one harness the tests and benchmarks use too (bot/tools/harness.py).
# Ctrl-C stops all three.
set -euo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/python -m bot.tools.harness "$@"
