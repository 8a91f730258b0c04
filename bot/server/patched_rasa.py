"""Rasa's command line with Kotobot's patches installed, for whatever else runs Rasa's agent.

``make test`` runs ``rasa test core`` through it, so the stories are tested on the same patched
Rasa that ``python -m bot.server.serve`` serves (bot/server/rasa_patches.py):

    python -m bot.server.patched_rasa test core --model models/kotobot.tar.gz --stories ...
"""

from __future__ import annotations

import sys

from bot.server.serve import run_patched_rasa

if __name__ == "__main__":
    sys.exit(run_patched_rasa(sys.argv[1:]))
