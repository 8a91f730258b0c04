"""Explicit requests for a language: "in English please", "på svenska", a language button."""

from __future__ import annotations

from typing import Any

import regex

CHANGE_LANGUAGE_INTENT = "change_language"
# A request the classifier is this unsure of switches nothing: "الإنجليزية مدينة" ("English
# city") read as change_language at 0.28; "بالإنجليزية من فضلك", "Türkçe", "تكلم عربي" reach
# 0.45 and more. Button payloads carry no confidence and always count.
MIN_CONFIDENCE = 0.4
_NOT_WORDS = regex.compile(r"[^\p{L}\p{M}\p{N}]+")


def _covers_whole_message(entity: dict[str, Any], text: str) -> bool:
    """The message is nothing but this language name ("English", "suomeksi!", "العربية")."""
    start, end = entity.get("start"), entity.get("end")
    if start is None or end is None:
        return False
    rest = text[:start] + text[end:]
    return not _NOT_WORDS.sub("", rest)


def explicit_language(parse_data: dict[str, Any]) -> str | None:
    """The language the user explicitly asked for in this message, if any."""
    intent_data = parse_data.get("intent") or {}
    intent = intent_data.get("name")
    confidence = intent_data.get("confidence")
    text = parse_data.get("text") or ""
    languages = [e for e in parse_data.get("entities") or [] if e.get("entity") == "language"]
    if not languages:
        return None
    sure = confidence is None or float(confidence) >= MIN_CONFIDENCE
    if intent == CHANGE_LANGUAGE_INTENT and sure:
        return str(languages[-1]["value"])  # "not Arabic, English please": the last one counts
    if len(languages) == 1 and _covers_whole_message(languages[0], text):
        return str(languages[0]["value"])
    return None
