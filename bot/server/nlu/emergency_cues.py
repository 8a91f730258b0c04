"""Someone in danger: cue words in every language that make a message an emergency.

The intent classifier learns ``emergency`` from examples, but a person in danger must get 112
first even when the rest of the message looks like a topic question, in a language mix, or in a
single word. This check runs beside the classifier (bot/server/nlu/emergency_detector.py) on cue
lists kept per language in ``locales/<code>.yml`` under ``emergency:``:

    emergency:
      cues: {violence: [lyö, pahoinpitel], suicide: [itsemurh, tapan itseni], ...}
      bare: [apua, hätä, poliisi, ambulanssi]     # a whole message that is only a cry for help
      ordinary: [miten varaan, aukioloaj]          # phrases of ordinary questions about services

Cues of every language are checked on every message (people mix languages: "mieheni lyö me").
A cue matches at the start of a word (stems such as "itsemurh" cover inflections; in Arabic
script after a one-letter prefix such as و "and" too), except in scripts written without spaces
(Chinese), where it matches anywhere.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass

from bot.core.paths import data_path
from bot.core.taxonomy import taxonomy
from bot.core.yamlio import load_yaml

GENERAL = "general"
_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)
_NO_SPACES_SCRIPT = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]")
_ARABIC_SCRIPT = re.compile(r"[\u0600-\u06ff]")
# Arabic writes "and", "so", "with", "for", "like" as one-letter prefixes: "وما عم يتنفس".
_ARABIC_CLITIC = "[\u0648\u0641\u0628\u0644\u0643]?"
# A whole message that is only the emergency number, or it and a few words ("call 112",
# "llamen al 112", "112 apua"); "when should I call 112?" asks about the number, it is no cry.
_BARE_NUMBER = re.compile(r"^(?:\S+ ){0,2}112(?: \S+)?$")


def normalise(text: str) -> str:
    """Lower case, no diacritics, words separated by single spaces."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " " + _NON_WORD.sub(" ", stripped).strip() + " "


def _pattern(cues: list[str]) -> re.Pattern[str] | None:
    parts = []
    for cue in {normalise(c).strip() for c in cues if c and str(c).strip()}:
        if not cue:
            continue
        escaped = re.escape(cue)
        if _NO_SPACES_SCRIPT.search(cue):
            parts.append(escaped)
        elif _ARABIC_SCRIPT.search(cue):
            parts.append(r"(?<= )" + _ARABIC_CLITIC + escaped)
        else:
            parts.append(r"(?<= )" + escaped)
    return re.compile("|".join(sorted(parts, key=len, reverse=True))) if parts else None


@dataclass(frozen=True)
class Signal:
    """What the cue lists say about one message."""

    category: str | None  # the kind of danger, GENERAL for a bare cry, None: no cue
    ordinary: bool  # reads like an ordinary question about a service

    @property
    def found(self) -> bool:
        return self.category is not None


@dataclass(frozen=True)
class EmergencyCues:
    categories: dict[str, re.Pattern[str]]
    bare: frozenset[str]
    ordinary: re.Pattern[str] | None

    def check(self, text: str) -> Signal:
        norm = normalise(text)
        ordinary = bool(self.ordinary and self.ordinary.search(norm))
        stripped = norm.strip()
        if stripped in self.bare:
            return Signal(GENERAL, ordinary=False)
        if _BARE_NUMBER.match(stripped) and "?" not in text and not ordinary:
            return Signal(GENERAL, ordinary=False)
        for category, pattern in self.categories.items():
            if pattern.search(norm):
                return Signal(category, ordinary)
        return Signal(None, ordinary)


def build_cues(raw_by_language: dict[str, dict]) -> EmergencyCues:
    """Joins the cue lists of every language into one matcher."""
    by_category: dict[str, list[str]] = {}
    bare: set[str] = set()
    ordinary: list[str] = []
    for raw in raw_by_language.values():
        for category, cues in (raw.get("cues") or {}).items():
            by_category.setdefault(category, []).extend(str(c) for c in cues or ())
        bare.update(normalise(str(c)).strip() for c in raw.get("bare") or ())
        ordinary.extend(str(c) for c in raw.get("ordinary") or ())
    categories = {c: p for c, cues in by_category.items() if (p := _pattern(cues)) is not None}
    return EmergencyCues(categories, frozenset(bare - {""}), _pattern(ordinary))


@functools.lru_cache(maxsize=1)
def emergency_cues() -> EmergencyCues:
    """The cue lists of all supported languages, from their locale files (loaded once)."""
    raw = {
        code: (load_yaml(data_path("locales", f"{code}.yml")) or {}).get("emergency") or {}
        for code in taxonomy().languages
    }
    return build_cues(raw)
