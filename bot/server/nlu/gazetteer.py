"""Rasa entity extractor for language names and Finnish municipalities, from lookup data.

Language names come from every ``locales/<code>.yml`` (how speakers of each language name the
languages of topics.yml: "englanniksi", "på engelska", "по-английски", "بالانجليزي"; every language
also by its own and its English name, bot/core/locales.py); municipalities from the official code
list (``bot/resources/municipalities.json``) with Finnish inflections. Lookup beats learned
extraction here: the lists are closed and exact, and need no annotated examples.
"""

from __future__ import annotations

from typing import Any

import regex
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.core.locales import all_locales
from bot.core.municipalities import find_municipality

LANGUAGE_ENTITY = "language"
MUNICIPALITY_ENTITY = "municipality"
_WORD = regex.compile(r"[\p{L}\p{M}:-]+")
# Letters people type either way: Arabic yeh/kaf in Persian text, Turkish dotted capital I.
_FOLD = {"ي": "ی", "ى": "ی", "ك": "ک", "İ": "i", "I": "i"}


def fold(text: str) -> str:
    """Lower case and letter variants folded, one character for one (offsets stay valid)."""
    out = []
    for char in text:
        folded = _FOLD.get(char) or char.lower()
        out.append(folded if len(folded) == 1 else char)
    return "".join(out)


def language_name_patterns() -> list[tuple[regex.Pattern, dict[str, str]]]:
    """Two patterns that find every name of every language (names in Chinese script match
    anywhere, others only as whole words), each with its name -> ISO code table. One
    alternation per pattern, longest names first: one scan of the message, not one per name."""
    names: dict[str, str] = {}
    for locale in all_locales():
        names.setdefault(fold(locale.name), locale.code)
        for code, words in locale.names.items():
            for word in words:
                names.setdefault(fold(word.strip()), code)
    ordered = sorted((name for name in names if name), key=len, reverse=True)
    han = [name for name in ordered if regex.search(r"\p{Han}", name)]
    words = [name for name in ordered if name not in han]
    patterns = []
    if words:
        alternation = "|".join(regex.escape(name) for name in words)
        pattern = regex.compile(rf"(?<![\p{{L}}\p{{M}}])(?:{alternation})(?![\p{{L}}\p{{M}}])")
        patterns.append((pattern, {name: names[name] for name in words}))
    if han:
        pattern = regex.compile("|".join(regex.escape(name) for name in han))
        patterns.append((pattern, {name: names[name] for name in han}))
    return patterns


def _entity(kind: str, value: str, start: int, end: int, text: str) -> dict[str, Any]:
    return {
        "entity": kind,
        "value": value,
        "start": start,
        "end": end,
        "confidence_entity": 1.0,
        "extractor": "GazetteerEntityExtractor",
        "text": text[start:end],
    }


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False)
class GazetteerEntityExtractor(GraphComponent, EntityExtractorMixin):
    """Finds language names (value: ISO code) and municipalities (value: Finnish name)."""

    def __init__(self, config: dict[str, Any]) -> None:
        self._language_patterns = language_name_patterns()

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> GazetteerEntityExtractor:
        return cls(config)

    def extract(self, text: str) -> list[dict[str, Any]]:
        lowered = fold(text)
        found: list[dict[str, Any]] = []
        taken: list[tuple[int, int]] = []
        for pattern, codes in self._language_patterns:
            for match in pattern.finditer(lowered):
                span = match.span()
                if any(span[0] < end and start < span[1] for start, end in taken):
                    continue
                taken.append(span)
                found.append(_entity(LANGUAGE_ENTITY, codes[match.group()], *span, text))
        for match in _WORD.finditer(text):
            municipality = find_municipality(match.group())
            if municipality and not any(
                match.start() < end and start < match.end() for start, end in taken
            ):
                found.append(_entity(MUNICIPALITY_ENTITY, municipality.fi, *match.span(), text))
        return sorted(found, key=lambda entity: entity["start"])

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            if not text or text.startswith("/"):
                continue
            entities = self.extract(text)
            if entities:
                message.set(ENTITIES, message.get(ENTITIES, []) + entities, add_to_output=True)
        return messages
