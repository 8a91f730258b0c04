"""Redacts personal data before anything is stored: identity codes, phones, e-mails, IBANs.

People in difficult situations paste their details into chats; the tracker store, the logs, the
feedback log and the report for content editors must never keep them. Redaction is deliberately
eager (a date-like number may become ``[phone]``): a lost digit in a stored conversation costs
nothing, a leaked identity code cannot be taken back.
"""

from __future__ import annotations

from typing import Any

import regex

# Invisible format characters (zero-width space, bidi overrides, BOM, soft hyphen...) would let
# "131052\u200b-308T" slip past the patterns below. ZWNJ/ZWJ are kept between letters or symbols,
# where they carry meaning (Persian words, emoji sequences), and dropped anywhere else.
_JOINERS = "\u200c\u200d"
_INVISIBLE = regex.compile(
    rf"[\p{{Cf}}--[{_JOINERS}]]"
    rf"|(?<![\p{{L}}\p{{M}}\p{{So}}])[{_JOINERS}]"
    rf"|[{_JOINERS}](?![\p{{L}}\p{{M}}\p{{So}}])",
    regex.VERSION1,
)

# Finnish personal identity code: DDMMYY, century sign (+ 1800s; - Y X W V U 1900s;
# A B C D E F 2000s, the extra signs in use since 2023), three digits, check character.
# Any dash counts as "-": word processors and phones turn "-" into an en dash.
_HETU = regex.compile(r"\b\d{6}[+\p{Pd}A-FU-Y]\d{3}[0-9A-Y]\b", regex.IGNORECASE)
# The look-behind starts a match only where a run of name characters starts: without it, a long
# run with no "@" costs quadratic time (a 20 KB word took 8 s), a denial of service via the logs.
_EMAIL = regex.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_IBAN = regex.compile(
    r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,4})?\b", regex.IGNORECASE
)
_PHONE = regex.compile(r"(?<![\w+])(?:\+|00)?\d[\d\p{Zs}()\p{Pd}]{6,}\d(?!\w)")
# ISO dates and year ranges look like phone numbers but are not personal data on their own.
_NOT_A_PHONE = regex.compile(r"(?:19|20)\d\d\s*\p{Pd}\s*(?:\d\d\s*\p{Pd}\s*\d\d|(?:19|20)\d\d)")
# Passport and other document numbers: 8-9 letters and digits, at least 6 of them digits
# (FI "XP1234567", UA "FA123456", IQ "A12345678", SO "P00123456").
_PASSPORT = regex.compile(
    r"\b(?=(?:[A-Z]*\d){6})(?=[A-Z0-9]*[A-Z])[A-Z0-9]{8,9}\b", regex.IGNORECASE
)


# Service Catalogue ids, message ids and sender ids are UUIDs, whose digit groups look like phone
# numbers ("…-1234-4567-…"); no personal data has their shape, so they are kept whole.
_UUID = regex.compile(
    r"(\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b)", regex.IGNORECASE
)


def _phone(match: regex.Match[str]) -> str:
    return match.group() if _NOT_A_PHONE.fullmatch(match.group()) else "[phone]"


_PATTERNS: tuple[tuple[regex.Pattern[str], Any], ...] = (
    (_HETU, "[identity code]"),
    (_EMAIL, "[e-mail]"),
    (_IBAN, "[bank account]"),
    (_PHONE, _phone),
    (_PASSPORT, "[document number]"),
)

# Keys of stored Rasa events whose values are identifiers the dialogue needs byte for byte
# (event type, action and intent names, message ids); everything else is redacted.
STRUCTURAL_KEYS = frozenset(
    {"event", "name", "policy", "input_channel", "message_id", "entity", "extractor", "role",
     "group", "timestamp", "action_name", "intent_name", "confidence"}
)  # fmt: skip


def strip_invisible(text: str) -> str:
    """``text`` without invisible format characters that could hide or disguise data."""
    return _INVISIBLE.sub("", text)


def redact(text: str) -> str:
    """``text`` with personal data replaced by neutral placeholders."""
    pieces = _UUID.split(strip_invisible(text))
    for i in range(0, len(pieces), 2):  # odd pieces are the UUIDs
        for pattern, placeholder in _PATTERNS:
            pieces[i] = pattern.sub(placeholder, pieces[i])
    return "".join(pieces)


def contains_personal_data(text: str) -> bool:
    """Whether :func:`redact` would change anything but invisible characters in ``text``."""
    visible = strip_invisible(text)
    return redact(visible) != visible


def redact_value(value: Any) -> Any:
    """A JSON-like value with every string redacted, identifiers (STRUCTURAL_KEYS) excepted."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {
            key: item if key in STRUCTURAL_KEYS else redact_value(item)
            for key, item in value.items()
        }
    if isinstance(value, (list, tuple)):
        return [redact_value(item) for item in value]
    return value


def redact_event(event: dict[str, Any]) -> dict[str, Any]:
    """A serialised Rasa event as it may be stored: user and bot texts, parse data, entity
    values, slot values and channel metadata redacted; names and ids untouched."""
    return redact_value(event)
