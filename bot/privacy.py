"""Redacts personal data before anything is stored: identity codes, phones, e-mails, IBANs.

People in difficult situations paste their details into chats; the feedback log and the report
for content editors must never keep them.
"""

from __future__ import annotations

import regex

# Finnish personal identity code: DDMMYY, century sign (+ 1800s; - Y X W V U 1900s;
# A B C D E F 2000s, the extra signs in use since 2023), three digits, check character.
_HETU = regex.compile(r"\b\d{6}[-+A-FU-Y]\d{3}[0-9A-Y]\b", regex.IGNORECASE)
_EMAIL = regex.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
_IBAN = regex.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,4})?\b")
_PHONE = regex.compile(r"(?<![\w+])(?:\+|00)?\d[\d ()-]{6,}\d(?!\w)")
_PASSPORT = regex.compile(r"\b(?=[A-Z0-9]*\d)(?=[A-Z0-9]*[A-Z])[A-Z0-9]{8,9}\b")

_PATTERNS = (
    (_HETU, "[identity code]"),
    (_EMAIL, "[e-mail]"),
    (_IBAN, "[bank account]"),
    (_PHONE, "[phone]"),
    (_PASSPORT, "[document number]"),
)


def redact(text: str) -> str:
    """``text`` with personal data replaced by neutral placeholders."""
    for pattern, placeholder in _PATTERNS:
        text = pattern.sub(placeholder, text)
    return text
