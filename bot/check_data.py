"""Checks that every language has everything, derived from topics.yml (``make check-data``).

For each supported language: a locale with every text key, topic label and language name; NLU
examples for every intent; content for every topic. Also: the held-out test set shares no
sentence with the training data, and our topics.yml matches the shared taxonomy.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from pathlib import Path

from bot.paths import data_path, project_root
from bot.taxonomy import load_taxonomy, taxonomy
from bot.yamlio import load_yaml

MIN_TOPIC_EXAMPLES = 20
MIN_CONVERSATION_EXAMPLES = 10
REFERENCE_LOCALE = "en"


def nlu_examples(path: Path) -> dict[str, list[str]]:
    """intent -> examples of every Rasa NLU YAML file below ``path``."""
    found: dict[str, list[str]] = {}
    if not path.exists():
        return found
    files = sorted(path.rglob("*.yml")) if path.is_dir() else [path]
    for file in files:
        for block in (load_yaml(file) or {}).get("nlu") or []:
            if "intent" not in block:
                continue
            lines = [line.strip()[2:].strip() for line in block["examples"].splitlines()]
            found.setdefault(block["intent"], []).extend(line for line in lines if line)
    return found


def normalise(text: str) -> str:
    return re.sub(r"[\W_]+", " ", text.lower()).strip()


def check_locales() -> list[str]:
    tax = taxonomy()
    problems = []
    reference = load_yaml(data_path("locales", f"{REFERENCE_LOCALE}.yml"))
    for code in tax.languages:
        path = data_path("locales", f"{code}.yml")
        if not path.exists():
            problems.append(f"{code}: missing {path.name}")
            continue
        raw = load_yaml(path)
        missing = set(reference["texts"]) - set(raw.get("texts") or {})
        if missing:
            problems.append(f"{code}: locale lacks texts {sorted(missing)}")
        missing_topics = set(tax.topic_ids) - set(raw.get("topics") or {})
        if missing_topics:
            problems.append(f"{code}: locale lacks topic labels {sorted(missing_topics)}")
        missing_names = set(tax.languages) - set(raw["language"].get("names") or {})
        if missing_names:
            problems.append(f"{code}: locale lacks language names for {sorted(missing_names)}")
    return problems


def check_nlu() -> list[str]:
    tax = taxonomy()
    problems = []
    for code in tax.languages:
        examples = nlu_examples(data_path("data", "nlu", code))
        for intent in tax.intents:
            need = MIN_TOPIC_EXAMPLES if tax.is_topic(intent) else MIN_CONVERSATION_EXAMPLES
            have = len(set(examples.get(intent, [])))
            if have < need:
                problems.append(f"{code}: intent {intent} has {have} examples, needs {need}")
        unknown = set(examples) - set(tax.intents)
        if unknown:
            problems.append(f"{code}: examples for unknown intents {sorted(unknown)}")
    return problems


def check_content() -> list[str]:
    tax = taxonomy()
    problems = []
    sources = load_yaml(data_path("content", "sources.yml")) or {}
    for topic in tax.topic_ids:
        meta = sources.get(topic) or {}
        if not meta.get("pages"):
            problems.append(f"content: {topic} has no official page")
        for versions in meta.get("pages") or []:
            for lang, link in versions.items():
                if not str(link.get("url", "")).startswith("https://"):
                    problems.append(f"content: {topic} {lang} link is not https")
    for code in tax.languages:
        path = data_path("content", f"{code}.yml")
        texts = ((load_yaml(path) or {}).get("topics") or {}) if path.exists() else {}
        for topic in tax.topic_ids:
            entry = texts.get(topic) or {}
            if not (entry.get("title") and entry.get("answer")):
                problems.append(f"{code}: no content for {topic}")
    return problems


def check_eval_is_held_out() -> list[str]:
    """No sentence of the held-out test set may appear in the training data."""
    training = {
        normalise(text)
        for examples in nlu_examples(data_path("data", "nlu")).values()
        for text in examples
    }
    eval_dir = data_path("tests", "nlu_eval")
    if not eval_dir.is_dir():
        return []
    leaked = Counter()
    for file in sorted(eval_dir.glob("*.yml")):
        for examples in nlu_examples(file).values():
            leaked[file.stem] += sum(normalise(text) in training for text in examples)
    return [f"{lang}: {n} test sentences also in training data" for lang, n in leaked.items() if n]


def check_taxonomy_matches_shared() -> list[str]:
    shared = project_root().parent / "shared" / "topics.yml"
    if not shared.exists():
        return []
    ours, theirs = taxonomy(), load_taxonomy(shared)
    problems = []
    if ours.languages != theirs.languages:
        problems.append("topics.yml: languages differ from ../shared/topics.yml")
    if set(theirs.topic_ids) - set(ours.topic_ids):
        problems.append("topics.yml: lacks topics of ../shared/topics.yml")
    return problems


def all_problems() -> list[str]:
    return (
        check_locales()
        + check_nlu()
        + check_content()
        + check_eval_is_held_out()
        + check_taxonomy_matches_shared()
    )


def main() -> int:
    problems = all_problems()
    for problem in problems:
        print(problem, file=sys.stderr)
    print(f"check-data: {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
