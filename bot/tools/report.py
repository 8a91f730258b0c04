"""``make report``: per language, the questions that fell back or got negative feedback."""

from __future__ import annotations

import argparse
from collections import Counter, defaultdict
from pathlib import Path

from bot.answers.feedback import FALLBACK, NEGATIVE, POSITIVE, FeedbackLog
from bot.core.taxonomy import taxonomy


def build_report(log: FeedbackLog) -> str:
    entries = log.entries()
    by_language = defaultdict(list)
    for entry in entries:
        by_language[entry.language or "?"].append(entry)
    lines = ["# Questions for content editors", "", f"Entries: {len(entries)} ({log.where})", ""]
    order = [lang for lang in taxonomy().languages if lang in by_language]
    order += sorted(set(by_language) - set(order))
    for language in order:
        items = by_language[language]
        counts = Counter(entry.kind for entry in items)
        lines.append(
            f"## {language}: {counts[FALLBACK]} not understood, {counts[NEGATIVE]} not helpful, "
            f"{counts[POSITIVE]} helpful"
        )
        for kind, title in ((FALLBACK, "Not understood"), (NEGATIVE, "Answer not helpful")):
            questions = [entry for entry in items if entry.kind == kind]
            if questions:
                lines += ["", f"### {title}"]
                lines += [f"- {entry.question or '(no text)'}"
                          + (f" — topic `{entry.topic}`" if entry.topic else "")
                          for entry in questions]  # fmt: skip
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--db", default=None, help="SQLite file or database URL (default: as the action server)"
    )
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    text = build_report(FeedbackLog(args.db))
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text, "utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
