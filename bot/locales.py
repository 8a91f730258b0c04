"""Everything the assistant says, per language, from ``locales/<code>.yml``.

Python code never holds user-facing sentences: it asks a :class:`Locale` for a text key.
"""

from __future__ import annotations

import functools
import random
from dataclasses import dataclass
from typing import Any

from bot.paths import data_path
from bot.taxonomy import taxonomy
from bot.yamlio import load_yaml

FALLBACK_LANGUAGE = "en"


class _KeepMissing(dict):
    """str.format_map helper: leaves unknown placeholders as they are instead of failing."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


@dataclass(frozen=True)
class Locale:
    code: str
    name: str
    english_name: str
    direction: str
    names: dict[str, tuple[str, ...]]
    texts: dict[str, Any]
    topic_labels: dict[str, str]

    @property
    def is_rtl(self) -> bool:
        return self.direction == "rtl"

    def text(self, key: str, **values: Any) -> str:
        """The text for ``key`` (one of its variants when it has several), placeholders filled."""
        raw = self.texts.get(key)
        if raw is None:
            raw = get_locale(FALLBACK_LANGUAGE).texts[key]
        if isinstance(raw, list):
            raw = random.choice(raw)
        return str(raw).format_map(_KeepMissing(values))

    def topic_label(self, topic_id: str) -> str:
        return self.topic_labels.get(topic_id) or topic_id.replace("_", " ")


def _parse(code: str, raw: dict[str, Any]) -> Locale:
    meta = raw["language"]
    return Locale(
        code=code,
        name=meta["name"],
        english_name=meta["english_name"],
        direction=meta.get("direction", "ltr"),
        names={lang: tuple(words or ()) for lang, words in (meta.get("names") or {}).items()},
        texts=dict(raw.get("texts") or {}),
        topic_labels=dict(raw.get("topics") or {}),
    )


@functools.cache
def get_locale(code: str) -> Locale:
    """The locale of a supported language (falls back to English for anything else)."""
    if code not in supported_languages():
        code = FALLBACK_LANGUAGE
    return _parse(code, load_yaml(data_path("locales", f"{code}.yml")))


def supported_languages() -> tuple[str, ...]:
    return taxonomy().languages


def all_locales() -> list[Locale]:
    return [get_locale(code) for code in supported_languages()]
