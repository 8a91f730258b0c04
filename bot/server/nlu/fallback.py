"""FallbackClassifier that also falls back when the message is in a language we do not speak,
or is a short follow-up naming a municipality ("and in Kuopio?").

The parse result keeps the detected language (``language.unsupported``), so the fallback action
can answer with the list of supported languages instead of asking to rephrase.
"""

from __future__ import annotations

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.classifiers.fallback_classifier import FallbackClassifier
from rasa.shared.nlu.constants import ENTITIES, INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.server.nlu.emergency_detector import EMERGENCY_KEY
from bot.server.nlu.language_detector import LANGUAGE_KEY

# "and in Kuopio?", "Asun Tampereella", "entä Espoossa?": a municipality and a few words is a
# follow-up to the conversation's topic, unless the classifier is quite sure of a topic.
FOLLOW_UP_MAX_OTHER_WORDS = 3
FOLLOW_UP_MAX_CONFIDENCE = 0.6


def is_municipality_follow_up(message: Message) -> bool:
    """A short message naming a municipality, which the classifier places only weakly."""
    places = [e for e in message.get(ENTITIES) or [] if e.get("entity") == "municipality"]
    if not places:
        return False
    text = message.get(TEXT) or ""
    for place in sorted(places, key=lambda e: e["start"], reverse=True):
        text = text[: place["start"]] + " " + text[place["end"] :]
    other_words = [w for w in text.split() if any(ch.isalnum() for ch in w)]
    confidence = float((message.get(INTENT) or {}).get("confidence") or 0.0)
    return len(other_words) <= FOLLOW_UP_MAX_OTHER_WORDS and confidence < FOLLOW_UP_MAX_CONFIDENCE


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class LanguageAwareFallbackClassifier(FallbackClassifier):
    """Low confidence, ambiguity, or an unsupported language -> ``nlu_fallback`` (never for an
    emergency)."""

    def _should_fallback(self, message: Message) -> bool:
        if message.get(EMERGENCY_KEY):
            return False  # someone in danger always gets 112, whatever the language
        if (message.get(LANGUAGE_KEY) or {}).get("unsupported"):
            return True
        if is_municipality_follow_up(message):
            return True  # the fallback action answers with that municipality's services
        return super()._should_fallback(message)
