"""Rasa tokenizer for all supported languages, Chinese included.

Rasa 3.6's WhitespaceTokenizer refuses zh, and its emoji filter silently deletes CJK characters.
This one uses spaCy's rule-based tokenizer of the message's detected language
(``spacy.blank(lang)``: no model download; ``xx`` where spaCy has no such language, e.g. Somali).
Chinese is split into characters by spaCy; runs of Latin letters inside it ("申请 oleskelulupa")
are glued back into words so that Finnish terms stay one token.
"""

from __future__ import annotations

import functools
from typing import Any

import regex
import spacy
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.tokenizers.tokenizer import Token, Tokenizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.core.taxonomy import taxonomy
from bot.langid.text import scrub
from bot.server.nlu.language_detector import LANGUAGE_KEY

_CJK = regex.compile(r"[\p{Han}\p{Hiragana}\p{Katakana}]")
_GLUABLE = regex.compile(r"^[\p{Latin}\p{N}'’-]+$")


@functools.cache
def spacy_language(code: str) -> str:
    """The spaCy language for an ISO code: itself when spaCy has it, else multilingual ``xx``."""
    try:
        spacy.util.get_lang_class(code)
    except ImportError:
        return "xx"
    return code


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False)
class MultilingualTokenizer(Tokenizer):
    """Tokenizes each message with the spaCy tokenizer of its detected language."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            "intent_tokenization_flag": False,
            "intent_split_symbol": "_",
            "token_pattern": None,
            "prefix_separator_symbol": None,
            "default_language": "xx",
        }

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__(config)
        codes = {spacy_language(code) for code in taxonomy().languages} | {"xx"}
        # Loaded once here, never per message.
        self._tokenizers = {code: spacy.blank(code).tokenizer for code in sorted(codes)}
        self._default = config.get("default_language", "xx")

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> MultilingualTokenizer:
        return cls(config)

    def _language_of(self, message: Message, text: str) -> str:
        if _CJK.search(text):
            return "zh"
        detected = (message.get(LANGUAGE_KEY) or {}).get("language")
        if detected == "zh":
            # A Chinese example without Han characters ("hello", "ni hao", "tutkinnon
            # tunnustaminen OPH"): spaCy's Chinese tokenizer would split it into single letters,
            # which the same text typed later (detected as another language) never matches.
            detected = None
        code = spacy_language(detected) if detected else self._default
        return code if code in self._tokenizers else self._default

    def tokenize(self, message: Message, attribute: str) -> list[Token]:
        text = scrub(message.get(attribute) or "")
        if attribute != TEXT:
            # intent and action names: plain words
            return self._apply_token_pattern(self._convert_words_to_tokens(text.split(), text))
        doc = self._tokenizers[self._language_of(message, text)](text)
        tokens: list[Token] = []
        for token in doc:
            if token.is_space:
                continue
            last = tokens[-1] if tokens else None
            if (
                last is not None
                and last.end == token.idx
                and _GLUABLE.match(last.text)
                and _GLUABLE.match(token.text)
                and _CJK.search(text)
            ):
                tokens[-1] = Token(last.text + token.text, last.start)
                continue
            tokens.append(Token(token.text, token.idx))
        if not tokens:
            tokens = [Token(text, 0)] if text else []
        return self._apply_token_pattern(tokens)
