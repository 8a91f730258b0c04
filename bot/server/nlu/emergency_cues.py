"""Someone in danger: cue words in every language that make a message an emergency.

The intent classifier learns ``emergency`` from examples, but a person in danger must get 112
first even when the rest of the message looks like a topic question, in a language mix, or in a
single word. This check runs beside the classifier (bot/server/nlu/emergency_detector.py) on cue
lists kept per language in ``locales/<code>.yml`` under ``emergency:``:

    emergency:
      cues: {violence: [lyö, pahoinpitel], suicide: [itsemurh, tapan itseni], ...}
      bare: [apua, hätä, poliisi, ambulanssi]     # a whole message that is only a cry for help
      ordinary: [miten varaan, aukioloaj]          # phrases of ordinary questions about services
      amount_unknown: [en tiedä kuinka monta]      # not ordinary, though they hold "kuinka monta"

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
# "3yr old", "5v poika", "2-vuotias": a number and the word after it are two words, so that a cue
# such as "yr old is gone" matches however the age is typed.
_NUMBER_THEN_LETTER = re.compile(r"(?<=\d)(?=[^\W\d_])")
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
    spaced = _NUMBER_THEN_LETTER.sub(" ", stripped)
    return " " + _NON_WORD.sub(" ", spaced).strip() + " "


# Cues are looked up by their first characters at each place a cue may start, instead of one
# regular expression over thousands of alternatives: the check stays ~0.1 ms a message however
# long the lists grow (a regex took 1.3 ms with ~2,500 cues and 6 ms with ~8,000).
_KEY = 3
_ANYWHERE, _WORD_START, _AFTER_CLITIC = "anywhere", "word", "clitic"


@dataclass(frozen=True)
class CueIndex:
    """Normalised cues by their first ``_KEY`` characters (shorter cues by themselves)."""

    by_key: dict[str, tuple[tuple[str, str, int], ...]]  # key -> (cue, where it may start, label)
    has_anywhere: bool

    @classmethod
    def build(cls, labelled: list[tuple[str, int]]) -> CueIndex:
        table: dict[str, dict[str, tuple[str, str, int]]] = {}
        for raw, label in labelled:
            cue = normalise(raw).strip()
            if not cue:
                continue
            if _NO_SPACES_SCRIPT.search(cue):
                where = _ANYWHERE
            elif _ARABIC_SCRIPT.search(cue):
                where = _AFTER_CLITIC
            else:
                where = _WORD_START
            entries = table.setdefault(cue[:_KEY], {})
            # The same cue in two lists keeps its first label (the lists' order is the priority).
            entries.setdefault(cue, (cue, where, label))
        by_key = {key: tuple(entries.values()) for key, entries in table.items()}
        return cls(by_key, any(w == _ANYWHERE for e in by_key.values() for _, w, _ in e))

    def labels(self, norm: str) -> set[int]:
        """The labels of every cue found in ``norm`` (a ``normalise``d text)."""
        found: set[int] = set()
        for start, kinds in self._starts(norm):
            for length in range(1, _KEY + 1):
                for cue, where, label in self.by_key.get(norm[start : start + length], ()):
                    # A cue no longer than the key is the key itself: the lookup matched it.
                    if where in kinds and (len(cue) <= _KEY or norm.startswith(cue, start)):
                        found.add(label)
        return found

    def _starts(self, norm: str) -> list[tuple[int, frozenset[str]]]:
        every = _WORD_KINDS
        starts: list[tuple[int, frozenset[str]]] = []
        anywhere = self.has_anywhere and bool(_NO_SPACES_SCRIPT.search(norm))
        for i in range(1, len(norm)):
            if norm[i - 1] == " ":
                starts.append((i, every))
                if norm[i] in _ARABIC_CLITICS:
                    starts.append((i + 1, _CLITIC_KINDS))
            elif anywhere:
                starts.append((i, _ANYWHERE_KINDS))
        return starts


_ARABIC_CLITICS = frozenset(_ARABIC_CLITIC.strip("[]?"))
_WORD_KINDS = frozenset({_WORD_START, _AFTER_CLITIC, _ANYWHERE})
_CLITIC_KINDS = frozenset({_AFTER_CLITIC, _ANYWHERE})
_ANYWHERE_KINDS = frozenset({_ANYWHERE})


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
    categories: tuple[str, ...]  # in the lists' order: the first found names the danger
    danger: CueIndex  # labels: positions in ``categories``
    bare: frozenset[str]
    ordinary: CueIndex  # one label
    # "I don't know how many" (pills, of what was drunk): the words of an ordinary question
    # ("how many", "combien", "сколько") inside a poisoning report; removed before the ordinary
    # phrases are matched, so that they do not silence the cue. Normalised, without edge spaces.
    amount_unknown: tuple[str, ...] = ()

    def check(self, text: str) -> Signal:
        norm = normalise(text)
        ordinary = bool(self.ordinary.labels(self._without_amount_unknown(norm)))
        stripped = norm.strip()
        if stripped in self.bare:
            return Signal(GENERAL, ordinary=False)
        if _BARE_NUMBER.match(stripped) and "?" not in text and not ordinary:
            return Signal(GENERAL, ordinary=False)
        found = self.danger.labels(norm)
        return Signal(self.categories[min(found)] if found else None, ordinary)

    def _without_amount_unknown(self, norm: str) -> str:
        for phrase in self.amount_unknown:
            if phrase in norm:
                spaced = _NO_SPACES_SCRIPT.search(phrase) is None
                norm = norm.replace(f" {phrase} " if spaced else phrase, " ")
        return norm


def build_cues(raw_by_language: dict[str, dict]) -> EmergencyCues:
    """Joins the cue lists of every language into one matcher."""
    categories: list[str] = []
    danger: list[tuple[str, int]] = []
    bare: set[str] = set()
    ordinary: list[tuple[str, int]] = []
    amount_unknown: set[str] = set()
    for raw in raw_by_language.values():
        for category, cues in (raw.get("cues") or {}).items():
            if category not in categories:
                categories.append(category)
            label = categories.index(category)
            danger.extend((str(c), label) for c in cues or () if c is not None)
        bare.update(normalise(str(c)).strip() for c in raw.get("bare") or ())
        ordinary.extend((str(c), 0) for c in raw.get("ordinary") or () if c is not None)
        amount_unknown.update(normalise(str(c)).strip() for c in raw.get("amount_unknown") or ())
    return EmergencyCues(
        tuple(categories),
        CueIndex.build(danger),
        frozenset(bare - {""}),
        CueIndex.build(ordinary),
        tuple(sorted(amount_unknown - {""}, key=len, reverse=True)),
    )


@functools.lru_cache(maxsize=1)
def emergency_cues() -> EmergencyCues:
    """The cue lists of all supported languages, from their locale files (loaded once)."""
    raw = {
        code: (load_yaml(data_path("locales", f"{code}.yml")) or {}).get("emergency") or {}
        for code in taxonomy().languages
    }
    return build_cues(raw)
