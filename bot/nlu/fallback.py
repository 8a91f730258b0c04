"""FallbackClassifier that also falls back when the message is in a language we do not speak.

The parse result keeps the detected language (``language.unsupported``), so the fallback action
can answer with the list of supported languages instead of asking to rephrase.
"""

from __future__ import annotations

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.classifiers.fallback_classifier import FallbackClassifier
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.emergency_detector import EMERGENCY_KEY
from bot.nlu.language_detector import LANGUAGE_KEY


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class LanguageAwareFallbackClassifier(FallbackClassifier):
    """Low confidence, ambiguity, or an unsupported language -> ``nlu_fallback`` (never for an
    emergency)."""

    def _should_fallback(self, message: Message) -> bool:
        if message.get(EMERGENCY_KEY):
            return False  # someone in danger always gets 112, whatever the language
        if (message.get(LANGUAGE_KEY) or {}).get("unsupported"):
            return True
        return super()._should_fallback(message)
