"""Per-message language detection: which supported language, how sure, or clearly another one."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from bot.langid.backends import Backend, LangdetectBackend, make_backend
from bot.langid.compact import CompactLinguaBackend
from bot.langid.ngram_tables import wide_languages
from bot.langid.text import foreign_script, language_words
from bot.langid.words import SOURCES as WORD_SOURCES
from bot.langid.words import WordEvidence


@dataclass(frozen=True)
class Detection:
    language: str | None
    confidence: float
    reliable: bool
    words: int
    unsupported: str | None = None
    scores: list[tuple[str, float]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["confidence"] = round(self.confidence, 4)
        data["scores"] = [[code, round(p, 4)] for code, p in self.scores[:3]]
        return data


@dataclass(frozen=True)
class DetectorSettings:
    backend: str = "lingua-compact"
    # A running conversation switches language only on this much evidence; shorter or less
    # certain messages ("ok", "kiitos", "1", an emoji, a Finnish term) keep the current language.
    min_words: int = 2
    min_confidence: float = 0.5
    # "This is not one of our languages" needs a longer message and a clear verdict.
    unsupported_min_words: int = 4
    unsupported_min_confidence: float = 0.8
    # ... and the supported-language detector must itself be unsure.
    unsupported_max_supported_confidence: float = 0.95
    # Whole-word evidence mixed into the n-gram scores (bot/langid/words.py): frequency lists,
    # Estonian word forms, our own texts; () for the n-grams alone.
    word_sources: tuple[str, ...] = WORD_SOURCES


class LanguageDetector:
    """Detects the language of one message among the supported languages, deterministically."""

    def __init__(self, languages: Sequence[str], settings: DetectorSettings | None = None) -> None:
        self.languages = tuple(languages)
        self.settings = settings or DetectorSettings()
        self._backend: Backend = make_backend(self.settings.backend, self.languages)
        self._wide: tuple[Backend, Backend] | None = None
        sources = tuple(self.settings.word_sources or ())
        self._words = WordEvidence(self.languages, sources=sources) if sources else None

    def _wide_backends(self) -> tuple[Backend, Backend]:
        if self._wide is None:
            self._wide = (
                CompactLinguaBackend(wide_languages(self.languages), low_accuracy=True),
                LangdetectBackend(None),
            )
        return self._wide

    def warm_up(self) -> None:
        """Load every model now, so that no message pays for it."""
        for backend in self._wide_backends():
            backend.scores("warm up the language models")
        self.detect("warm up the language models")

    def detect(self, text: str, prior: str | None = None) -> Detection:
        """``prior``: a language to lean towards when the text leaves it open (the UI language)."""
        settings = self.settings
        words = language_words(text)
        script = foreign_script(text, self.languages)
        if script:
            return Detection(None, 0.0, False, len(words), unsupported=script)
        if not words:
            # Only neutral words ("hi", "ok", "kela", "hmm") or none: nothing tells the language.
            # Their letters alone made "hi" Somali (0.21) and "hii" Somali (0.68).
            return Detection(None, 0.0, False, 0)
        evidence = " ".join(words)
        scores = self._backend.scores(evidence)
        if not scores:
            return Detection(None, 0.0, False, len(words))
        ngram_confidence = scores[0][1]
        if self._words is not None:  # whole words and the prior, mixed in (bot/langid/words.py)
            scores = self._words.combine(scores, words, prior)
        language, confidence = scores[0]
        reliable = len(words) >= settings.min_words and confidence >= settings.min_confidence
        unsupported = None
        if len(words) >= settings.unsupported_min_words:
            # The n-grams' own certainty: the word lists know none of the other languages.
            if ngram_confidence < settings.unsupported_max_supported_confidence:
                unsupported = self._other_language(evidence)
            if unsupported:
                reliable = False
        return Detection(language, confidence, reliable, len(words), unsupported, scores)

    def _other_language(self, text: str) -> str | None:
        """An unsupported language both wide detectors are sure of, else None."""
        verdicts = []
        for backend in self._wide_backends():
            scores = backend.scores(text)
            if not scores:
                return None
            code, confidence = scores[0]
            if code in self.languages or confidence < self.settings.unsupported_min_confidence:
                return None
            verdicts.append(code)
        return verdicts[0]
