"""Rasa NLU component: detects each message's language and adds it to the parse result.

It runs first in the pipeline so that the tokenizer can pick the right language, and it sees the
channel metadata, so the parse result carries both what the text says and the UI language:
``"language": {"language": "fi", "confidence": 0.93, "reliable": true, "ui_language": "en", ...}``.
The UI language is also the detector's prior: it tips a text the words leave open ("justice"),
never a clear one (bot/langid/words.py).
The decision to keep or switch the conversation's language is taken where the conversation is
visible: the language policy (bot/server/policies/language.py) sets the ``language``,
``ui_language`` and ``language_unsure`` slots after every user message, by the rules of
bot/langid/policy.py. The languages are those of topics.yml (``languages:``); their detection
tables are built from that list (bot/langid/ngram_tables.py, bot/langid/words.py).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.core.taxonomy import taxonomy
from bot.langid.detector import DetectorSettings, LanguageDetector
from bot.langid.text import scrub
from bot.langid.ui import ui_language_from_metadata
from bot.server.nlu.importer import LANGUAGE_HINT

LANGUAGE_KEY = "language"
METADATA_KEY = "metadata"
COMMAND_PREFIX = "/"


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=False)
class LanguageDetectorComponent(GraphComponent):
    """Adds ``language`` (detected language, confidence, UI language) to every message."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        defaults = DetectorSettings()
        return {
            "backend": defaults.backend,
            "min_words": defaults.min_words,
            "min_confidence": defaults.min_confidence,
            "unsupported_min_words": defaults.unsupported_min_words,
            "unsupported_min_confidence": defaults.unsupported_min_confidence,
            "unsupported_max_supported_confidence": defaults.unsupported_max_supported_confidence,
            # Whole-word evidence (bot/langid/words.py); [] for lingua's n-grams alone.
            "word_sources": list(defaults.word_sources),
        }

    def __init__(self, config: dict[str, Any]) -> None:
        settings = DetectorSettings(**{k: config[k] for k in self.get_default_config()})
        settings = dataclasses.replace(settings, word_sources=tuple(settings.word_sources or ()))
        self.languages = taxonomy().languages
        self.detector = LanguageDetector(self.languages, settings)
        self.detector.warm_up()

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> LanguageDetectorComponent:
        return cls(config)

    def describe(self, text: str, metadata: Any = None) -> dict[str, Any]:
        """The ``language`` entry of the parse result for one message."""
        ui_language = ui_language_from_metadata(metadata, self.languages)
        if not text or text.startswith(COMMAND_PREFIX):
            # Buttons and "/intent" payloads say nothing about the user's language.
            return {
                "language": None,
                "confidence": 0.0,
                "reliable": False,
                "words": 0,
                "unsupported": None,
                "scores": [],
                "ui_language": ui_language,
            }
        # The UI language tips texts the words leave open ("justice": English or French?).
        result = self.detector.detect(text, prior=ui_language).as_dict()
        result["ui_language"] = ui_language
        return result

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            if text != (clean := scrub(text)):
                # Any channel may pass lone surrogates; later components could not encode them.
                text = clean
                message.set(TEXT, text)
            message.set(
                LANGUAGE_KEY, self.describe(text, message.get(METADATA_KEY)), add_to_output=True
            )
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Examples from data/nlu/<code>/ are in <code> (bot/server/nlu/importer.py); only the
        others (e.g. from another importer) are detected."""
        unknown = []
        for message in training_data.training_examples:
            if not message.get(TEXT):
                continue
            hint = message.get(LANGUAGE_HINT)
            if hint in self.languages:
                message.set(TEXT, scrub(message.get(TEXT)))
                message.set(LANGUAGE_KEY, self._given(hint))
            else:
                unknown.append(message)
        self.process(unknown)
        return training_data

    @staticmethod
    def _given(language: str) -> dict[str, Any]:
        """The ``language`` entry of an example whose language is known, not detected."""
        return {
            "language": language,
            "confidence": 1.0,
            "reliable": True,
            "words": 0,
            "unsupported": None,
            "scores": [],
            "ui_language": None,
        }
