"""Language-identification backends behind one small interface.

``lingua-compact`` is the default: lingua's high-accuracy models and method over our 13 languages
(98% on two-word texts, ~0.3 ms) in ~70 MB of arrays (bot/langid/compact.py). ``lingua`` is
lingua itself (the same accuracy, ~370 MB of models in memory); ``lingua-low`` lingua's
low-accuracy mode (93% on two words, ~20 MB); ``langdetect`` stays selectable for comparison
(81%, ~5 ms). All are deterministic here. Chosen in config.yml (``backend:`` of the language
detector).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import Protocol

log = logging.getLogger(__name__)

Scores = list[tuple[str, float]]


class Backend(Protocol):
    name: str

    def scores(self, text: str) -> Scores:
        """(ISO 639-1 code, probability) for the backend's languages, best first; [] if unknown."""


class LinguaBackend:
    """lingua-language-detector restricted to the given languages, models loaded once."""

    name = "lingua"

    def __init__(self, languages: Sequence[str], low_accuracy: bool = False) -> None:
        from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

        lingua_languages = [
            Language.from_iso_code_639_1(getattr(IsoCode639_1, code.upper())) for code in languages
        ]
        builder = LanguageDetectorBuilder.from_languages(*lingua_languages)
        if low_accuracy:
            builder = builder.with_low_accuracy_mode()
        self._detector = builder.with_preloaded_language_models().build()

    def scores(self, text: str) -> Scores:
        values = self._detector.compute_language_confidence_values(text)
        return [
            (value.language.iso_code_639_1.name.lower(), float(value.value))
            for value in values
            if value.value > 0
        ]


class LangdetectBackend:
    """langdetect (a port of Google's language-detection), seeded, limited to our languages."""

    name = "langdetect"
    _ALIASES = {"zh-cn": "zh", "zh-tw": "zh"}

    def __init__(self, languages: Sequence[str] | None) -> None:
        """``languages=None``: all 55 languages langdetect knows (to recognise other languages)."""
        from langdetect import DetectorFactory

        DetectorFactory.seed = 0  # langdetect is random unless seeded
        self._languages = frozenset(languages) if languages is not None else None

    def scores(self, text: str) -> Scores:
        from langdetect import detect_langs
        from langdetect.lang_detect_exception import LangDetectException

        try:
            found = detect_langs(text)
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


def make_backend(name: str, languages: Iterable[str], low_accuracy: bool = False) -> Backend:
    languages = list(languages)
    if name == "lingua":
        return LinguaBackend(languages, low_accuracy=low_accuracy)
    if name == "lingua-low":  # ~20 MB instead of ~370 MB, less accurate on short texts
        return LinguaBackend(languages, low_accuracy=True)
    if name == "lingua-compact":  # lingua's high-accuracy models in ~60 MB instead of ~370 MB
        from bot.langid.compact import CompactLinguaBackend
        from bot.langid.lingua_models import ModelsNotFound

        try:
            return CompactLinguaBackend(languages)
        except ModelsNotFound as error:  # another lingua build: same answers, more memory
            log.warning("lingua-compact unavailable (%s); using lingua itself", error)
            return LinguaBackend(languages)
    if name == "langdetect":
        return LangdetectBackend(languages)
    raise ValueError(
        f"unknown language-detection backend {name!r} "
        "(use lingua-compact, lingua, lingua-low or langdetect)"
    )
