"""What a user's message may look like before the assistant reads it.

Channel-independent on purpose: the REST channel (bot/server/channels/rest.py) uses it, and any
other connector can call :func:`check_message` the same way. It normalises the text (Unicode NFC, no
control, zero-width or bidi-override characters, no 500-emoji runs), enforces a maximum length (long
texts block the NLU pipeline for seconds and are never real questions), and keeps users from typing
Rasa's internal commands (``/restart``, ``/session_start``, ``/back``) or button payloads with
malformed entities.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import regex

from bot.core.privacy import strip_invisible
from bot.core.settings import get_settings

# Invisible characters may pad a message; past this many times the limit it is too long anyway.
RAW_LIMIT_FACTOR = 10
EMPTY = "empty"
TOO_LONG = "too_long"
# Rasa's built-in intents that act on the conversation itself; a user typing them is not obeyed
INTERNAL_INTENTS = frozenset({"restart", "session_start", "back"})
# ... and are answered as a request for help: the topic menu, in the conversation's language
# (a payload says nothing about the language, where "restart" as a word would look English).
HELP_PAYLOAD = "/help"
MAX_ENTITY_VALUE_CHARS = 200
MAX_ENTITY_NAME_CHARS = 64

# Control characters (tabs and newlines become spaces), lone surrogates and noncharacters.
_CONTROL = regex.compile(r"[\p{Cc}\p{Cs}\p{Noncharacter_Code_Point}]")
# The same character (grapheme: emoji with skin tone or variation selector too) more than 3 times
# in a row, digits excepted: "!!!!!!!!", emoji floods, "hmmmmm".
_REPEATS = regex.compile(r"((?!\d)\X)\1{3,}")
_SPACES = regex.compile(r"\s+")
# Rasa's pattern for "/intent@confidence{entities}" (YAMLStoryReader._regex_message_pattern).
_PAYLOAD = re.compile(
    r"^/(?P<intent>[^{@]+)(?P<confidence>@[0-9.]+)?(?P<entities>{.+})?(?P<rest>.*)"
)


@dataclass(frozen=True)
class CheckedMessage:
    """The text to hand to Rasa, or the reason (:data:`EMPTY`, :data:`TOO_LONG`) not to."""

    text: str
    problem: str | None = None


def max_message_chars() -> int:
    """The maximum message length in characters (``KOTOBOT_MAX_MESSAGE_CHARS``, default 1000:
    real questions in the training data and the logs are well under 300 characters)."""
    return get_settings().max_message_chars


def clean_text(text: str) -> str:
    """The text as the user sees it: NFC, no invisible or control characters, single spaces."""
    text = unicodedata.normalize("NFC", text)
    text = strip_invisible(text)
    text = _CONTROL.sub(" ", text)
    return _SPACES.sub(" ", text).strip()


def normalize_text(text: str) -> str:
    """The text as the NLU should see it and the tracker store keep it: cleaned, and runs of
    one character shortened to three."""
    return _SPACES.sub(" ", _REPEATS.sub(r"\1\1\1", clean_text(text))).strip()


def check_message(text: str, known_intents: Collection[str] | None = None) -> CheckedMessage:
    """Normalises ``text`` and says whether it can go to the assistant.

    ``known_intents`` (the domain's) lets payloads of unknown intents through unchanged: Rasa
    then reads them as ordinary text.
    """
    if len(text) > RAW_LIMIT_FACTOR * max_message_chars():
        # Not worth cleaning whole; the start is kept (cleaned) to tell the language.
        return CheckedMessage(clean_text(text[: max_message_chars()]), TOO_LONG)
    text = clean_text(text)
    if not text:
        return CheckedMessage("", EMPTY)
    if len(text) > max_message_chars():  # what the user typed, before runs are shortened
        return CheckedMessage(text, TOO_LONG)
    return CheckedMessage(sanitize_payload(normalize_text(text), known_intents))


def sanitize_payload(text: str, known_intents: Collection[str] | None = None) -> str:
    """``/intent{"entity": "value"}`` payloads as Rasa will accept them, or plain text.

    Internal commands become ``/help`` (or, without a domain that has it, the bare word);
    entities that are not a JSON object of short strings are dropped.
    """
    match = _PAYLOAD.match(text)
    if match is None:
        return text
    intent = match.group("intent").strip()
    if intent in INTERNAL_INTENTS:
        if known_intents is None or HELP_PAYLOAD[1:] in known_intents:
            return HELP_PAYLOAD
        return text.lstrip("/ ") or text
    if known_intents is not None and intent not in known_intents:
        return text
    entities = _valid_entities(match.group("entities"))
    if entities is None:
        return f"/{intent}"
    return f"/{intent}{json.dumps(entities, ensure_ascii=False)}"


def _valid_entities(raw: str | None) -> dict[str, Any] | None:
    if raw is None:
        return None
    try:
        parsed = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    if not isinstance(parsed, dict) or not parsed:
        return None
    for name, value in parsed.items():
        if not name or len(name) > MAX_ENTITY_NAME_CHARS:
            return None
        values = value if isinstance(value, list) else [value]
        if not values or not all(_valid_entity_value(item) for item in values):
            return None
    return parsed


def _valid_entity_value(value: Any) -> bool:
    # Strings only: the domain's entities (language, municipality) are names, and actions and
    # slot mappings expect ``str``.
    return isinstance(value, str) and 0 < len(value.strip()) <= MAX_ENTITY_VALUE_CHARS
