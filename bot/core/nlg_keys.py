"""Which locale text a static response uses; a few depend on what the message was about."""

from __future__ import annotations

from collections.abc import Container
from typing import Any

EMERGENCY_HELP = "emergency_help"
GENERAL = "general"


def nlg_text_key(key: str, parse_data: dict[str, Any] | None, known: Container[str]) -> str:
    """The locale text key for response ``utter_<key>`` after a message parsed as ``parse_data``.

    ``emergency_help`` names the helpline for the kind of danger the message describes
    (``emergency_help_suicide``, ...; bot/server/nlu/emergency_detector.py puts the kind in the
    parse), or the general one when the locale has no text for that kind.
    """
    if key == EMERGENCY_HELP:
        category = ((parse_data or {}).get("emergency") or {}).get("category") or GENERAL
        specific = f"{EMERGENCY_HELP}_{category}"
        return specific if specific in known else f"{EMERGENCY_HELP}_{GENERAL}"
    return key
