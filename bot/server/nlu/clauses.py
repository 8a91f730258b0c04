"""Clauses of a message, for the emergency check of each clause after the first.

People often start with an errand and only then say what is happening ("I wanted to ask about my
housing allowance but my husband just hit me and he is still here"). Classified as a whole, such
a message reads like the errand; the danger clause alone reads like what it is. The featurizers
(bot/server/nlu/featurizer.py) add one feature row per clause at prediction time, the intent
classifier scores them (bot/server/nlu/linear_classifier.py) and the emergency check reads the
scores (bot/server/nlu/emergency_detector.py).

A clause ends at sentence punctuation or before a word that turns the message ("but", "actually",
"mutta", "但是"): the words of every language are in ``locales/<code>.yml`` under
``emergency: clause_breaks:``, all checked on every message, as people mix languages.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence

from bot.core.paths import data_path
from bot.core.taxonomy import taxonomy
from bot.core.yamlio import load_yaml

# Message keys (internal: not in the parse result).
CLAUSES_KEY = "clauses"  # [(start, end), ...] character spans, set by the featurizers
CLAUSE_FEATURES_KEY = "clause_features"  # one sparse matrix per featurizer, a row per clause
CLAUSE_EMERGENCY_KEY = "clause_emergency"  # the classifier's emergency probability per clause

_SENTENCE_END = r"[.!?…;:。！？；：]+(?!\d)"
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
# A clause says something on its own: two words, or four characters of a script written without
# spaces ("她才4岁" is one word to the tokenizer).
MIN_WORDS = 2
MIN_CJK_CHARACTERS = 4


def _break_pattern(words: Iterable[str]) -> re.Pattern[str]:
    spaced, unspaced = [], []
    for word in sorted({w.strip() for w in words if w and w.strip()}, key=len, reverse=True):
        (unspaced if _CJK.search(word) else spaced).append(re.escape(word))
    parts = [_SENTENCE_END]
    if spaced:  # a whole word between spaces or punctuation
        parts.append(r"(?<![\w])(?=(?:" + "|".join(spaced) + r")(?![\w]))")
    if unspaced:
        parts.append(r"(?=(?:" + "|".join(unspaced) + r"))")
    return re.compile("|".join(parts), re.IGNORECASE)


@functools.lru_cache(maxsize=1)
def _default_pattern() -> re.Pattern[str]:
    words: list[str] = []
    for code in taxonomy().languages:
        raw = (load_yaml(data_path("locales", f"{code}.yml")) or {}).get("emergency") or {}
        words.extend(str(w) for w in raw.get("clause_breaks") or ())
    return _break_pattern(words)


def _says_something(text: str) -> bool:
    if len(text.split()) >= MIN_WORDS:
        return True
    return len(_CJK.findall(text)) >= MIN_CJK_CHARACTERS


def clause_spans(text: str, breaks: Sequence[str] | None = None) -> list[tuple[int, int]]:
    """(start, end) of each clause that says something on its own; [] for a message of one
    clause (nothing to add to the whole message's own check). ``breaks``: turn words to use
    instead of the locales' lists (tests)."""
    pattern = _break_pattern(breaks) if breaks is not None else _default_pattern()
    spans, start = [], 0
    for match in pattern.finditer(text):
        spans.append((start, match.start()))
        start = match.end()
    spans.append((start, len(text)))
    kept = []
    for a, b in spans:
        while a < b and not text[a].isalnum():
            a += 1
        while b > a and not text[b - 1].isalnum():
            b -= 1
        if a < b and _says_something(text[a:b]):
            kept.append((a, b))
    return kept if len(kept) >= 2 else []


def group_tokens(
    spans: Sequence[tuple[int, int]], starts: Sequence[int], texts: Sequence[str]
) -> list[list[str]]:
    """The token texts of each clause, by where each token starts."""
    groups: list[list[str]] = [[] for _ in spans]
    for start, token in zip(starts, texts, strict=True):
        for i, (a, b) in enumerate(spans):
            if a <= start < b:
                groups[i].append(token)
                break
    return groups
