"""Language-identification backends behind one small interface.

``lingua-compact`` is the default: lingua's high-accuracy models and method over our languages
(those of topics.yml; 98% on two-word texts, ~0.3 ms) in ~70 MB of arrays
(bot/langid/compact.py). ``lingua-compact-low`` is lingua's low-accuracy mode on a small 1- to
3-gram table (93% on two words; the detector's "is this another language?" check uses it over ~35
languages); ``langdetect`` stays selectable for comparison (81%, ~5 ms). All are deterministic
and the same on every platform; lingua itself is not used (its models are read from data files at
install: bot/langid/lingua_models.py). Chosen in config.yml (``backend:`` of the language
detector).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol

Scores = list[tuple[str, float]]


class Backend(Protocol):
    name: str

    def scores(self, text: str) -> Scores:
        """(ISO 639-1 code, probability) for the backend's languages, best first; [] if unknown."""


class LangdetectBackend:
    """langdetect (a port of Google's language-detection), seeded, limited to ``languages``."""

    name = "langdetect"
    _ALIASES = {"zh-cn": "zh", "zh-tw": "zh"}

    def __init__(self, languages: Sequence[str] | None) -> None:
        """``languages=None``: all 55 languages langdetect knows (to recognise other languages).
        Its probabilities come from a mapped table (bot/langid/langdetect_table.py), seeded."""
        from bot.langid.langdetect_table import load_or_build

        self._table = load_or_build()
        self._languages = frozenset(languages) if languages is not None else None

    def scores(self, text: str) -> Scores:
        from langdetect.lang_detect_exception import LangDetectException

        try:
            found = self._table.probabilities(text)
        except LangDetectException:
            return []
        merged: dict[str, float] = {}
        for guess in found:
            code = self._ALIASES.get(guess.lang, guess.lang)
            if self._languages is None or code in self._languages:
                merged[code] = merged.get(code, 0.0) + guess.prob
        total = sum(merged.values())
        if not total:
            return []
        return sorted(((code, p / total) for code, p in merged.items()), key=lambda x: -x[1])


BACKENDS = ("lingua-compact", "lingua-compact-low", "langdetect")


def make_backend(name: str, languages: Iterable[str]) -> Backend:
    """Tables that cannot be built raise :class:`~bot.langid.lingua_models.ModelsNotFound`."""
    languages = list(languages)
    if name in ("lingua-compact", "lingua-compact-low"):
        from bot.langid.compact import CompactLinguaBackend

        return CompactLinguaBackend(languages, low_accuracy=name == "lingua-compact-low")
    if name == "langdetect":
        return LangdetectBackend(languages)
    raise ValueError(
        f"unknown language-detection backend {name!r} (use {', '.join(BACKENDS)}; `lingua` and "
        "`lingua-low` ran lingua 2.x's compiled library and are gone: lingua-compact gives the "
        "same answers, lingua-compact-low those of its low-accuracy mode)"
    )
