"""The ``language`` slot after a first message, through the running bot (REST, no metadata).

Each text of ../shared/langid-dev (single words, word pairs, sentences) opens a new conversation;
the slot is read back from the tracker. Issue #17's acceptance measure (two words >= 99% mean and
>= 97% in every language, one word >= 93% mean, sentences >= 99.5%). A single word below the
first-message lean (bot/langid/policy.py: confidence < 0.35) gets English with the language buttons.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench.langid import KINDS, default_corpus, read_lines
from bot.core.paths import data_path
from bot.core.taxonomy import taxonomy
from bot.tools.harness import Bot, running_bot


def slot_after_first_message(bot: Bot, text: str) -> str | None:
    sender = f"bench-{uuid.uuid4().hex}"
    bot.say(sender, text)
    return bot.slot(sender, "language")


def measure(bot: Bot, corpus: Path, limit: int | None, workers: int) -> dict:
    results = {}
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for kind in KINDS:
            for lang in taxonomy().languages:
                lines = read_lines(corpus / kind / f"{lang}.txt", limit)
                slots = list(pool.map(lambda text: slot_after_first_message(bot, text), lines))
                results[(kind, lang)] = sum(slot == lang for slot in slots) / len(lines)
    return results


def report(results: dict) -> str:
    languages = taxonomy().languages
    lines = [
        "## Language slot after the first message, through the running bot (%)",
        "",
        "| texts | " + " | ".join(languages) + " | mean | worst |",
        "|---" * (len(languages) + 3) + "|",
    ]
    for kind in KINDS:
        accs = [100 * results[(kind, lang)] for lang in languages]
        cells = " | ".join(f"{acc:.0f}" for acc in accs)
        lines.append(f"| {kind} | {cells} | **{statistics.mean(accs):.2f}** | {min(accs):.0f} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpus", type=Path, default=default_corpus())
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--model", type=Path, default=data_path("models", "kotobot.tar.gz"))
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    if not args.corpus.is_dir():
        print(f"corpus not found: {args.corpus}", file=sys.stderr)
        return 2
    with running_bot(args.model) as bot:
        text = report(measure(bot, args.corpus, args.limit, args.workers))
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text, "utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
