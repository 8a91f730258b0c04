"""Adds newly collected real questions to the set, whole source pages to one side.

    python -m bot.tools.real_questions NEW.yml [--dry-run]

NEW.yml is a list in the format of tests/real_questions/eval.yml (text, language, topic, answer,
source, source_kind). A page already in the set is refused (its questions would straddle the
split), and so is a question whose text is already there. Each new page goes to the training
part when the first 32 bits of the SHA-256 of its address (`page_key`), as a fraction, fall under
TRAIN_SHARE, else to the evaluation part: a rule anyone can re-run, and no model's errors steer.
Training questions are appended to data/nlu/<code>/real_questions.yml (their page to
train_pages.yml), evaluation questions to eval.yml.
"""

from __future__ import annotations

import argparse
import hashlib
from collections import defaultdict
from pathlib import Path

from bot.core.paths import data_path
from bot.core.yamlio import load_yaml
from bot.tools.check_data import nlu_examples, normalise

TRAIN_SHARE = 0.4
FIELDS = ("text", "language", "topic", "answer", "source", "source_kind")


def page_key(url: str) -> str:
    """A URL without scheme, ``www.``, query or trailing slash: the same page however linked."""
    url = url.split("://", 1)[-1].split("?", 1)[0].split("#", 1)[0].rstrip("/").lower()
    return url.removeprefix("www.")


def goes_to_training(url: str) -> bool:
    digest = hashlib.sha256(url.encode("utf-8")).hexdigest()
    return int(digest[:8], 16) / 2**32 < TRAIN_SHARE


def _quoted(value: object) -> str:
    """A YAML scalar on one line (JSON strings are valid YAML)."""
    import json

    return "null" if value is None else json.dumps(value, ensure_ascii=False)


def known_pages_and_texts(root: Path) -> tuple[set[str], set[str]]:
    folder = root / "tests" / "real_questions"
    rows = load_yaml(folder / "eval.yml") or []
    pages = {page_key(row["source"]) for row in rows}
    for urls in (load_yaml(folder / "train_pages.yml") or {}).values():
        pages |= {page_key(url) for url in urls}
    texts = {normalise(row["text"]) for row in rows}
    for path in (root / "data" / "nlu").glob("*/*.yml"):
        for examples in nlu_examples(path).values():
            texts |= {normalise(text) for text in examples}
    return pages, texts


def split(rows: list[dict], root: Path) -> tuple[list[dict], list[dict], list[str]]:
    """(training rows, evaluation rows, refused rows with the reason)."""
    pages, texts = known_pages_and_texts(root)
    train, evaluation, refused = [], [], []
    for row in rows:
        text = " ".join(str(row["text"]).split())
        if page_key(row["source"]) in pages:
            refused.append(f"page already in the set: {row['source']}")
        elif normalise(text) in texts:
            refused.append(f"text already in the set: {text[:60]}")
        else:
            texts.add(normalise(text))
            side = train if goes_to_training(page_key(row["source"])) else evaluation
            side.append({**row, "text": text})
    return train, evaluation, refused


def append_training(rows: list[dict], root: Path) -> None:
    by_language: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        by_language[row["language"]].append(row)
    for language, items in by_language.items():
        path = root / "data" / "nlu" / language / "real_questions.yml"
        lines = []
        for row in items:
            lines.append(f"- intent: {row['topic']}\n")
            if row.get("answer"):
                lines.append(f"  metadata:\n    answer: {row['answer']}\n")
            lines.append(f"  examples: |\n    - {row['text']}\n")
        with path.open("a", encoding="utf-8") as out:
            out.write("".join(lines))
    pages_file = root / "tests" / "real_questions" / "train_pages.yml"
    pages = load_yaml(pages_file) or {}
    for row in rows:
        urls = pages.setdefault(row["language"], [])
        if row["source"] not in urls:
            urls.append(row["source"])
    body = "".join(
        f"{language}:\n" + "".join(f"- {url}\n" for url in sorted(urls))
        for language, urls in sorted(pages.items())
    )
    pages_file.write_text(body, "utf-8")


def append_evaluation(rows: list[dict], root: Path) -> None:
    lines = []
    for row in rows:
        lines.append(f"- text: {_quoted(row['text'])}\n")
        lines += [f"  {field}: {_quoted(row.get(field))}\n" for field in FIELDS[1:]]
    with (root / "tests" / "real_questions" / "eval.yml").open("a", encoding="utf-8") as out:
        out.write("".join(lines))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("new", type=Path)
    parser.add_argument("--dry-run", action="store_true")
    args = parser.parse_args(argv)
    root = data_path()
    train, evaluation, refused = split(load_yaml(args.new) or [], root)
    for reason in refused:
        print("refused:", reason)
    print(f"{len(train)} to training, {len(evaluation)} to evaluation, {len(refused)} refused")
    if not args.dry_run:
        append_training(train, root)
        append_evaluation(evaluation, root)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
