"""Everything the assistant says, per language, from ``locales/<code>.yml``.

Python code never holds user-facing sentences: it asks a :class:`Locale` for a text key. A locale
file is the whole of a language's texts: what the assistant says (``texts``), the topic labels,
the language's names, its writing direction, its emergency cues and the web page's own texts
(``web``). Which languages exist is ``languages:`` in topics.yml; right to left is the locale's
``direction: rtl`` (:func:`right_to_left_languages`), nowhere else. Adding a language:
docs/adding-a-language.md.
"""

from __future__ import annotations

import functools
import random
from dataclasses import dataclass
from typing import Any

from bot.core.paths import data_path
from bot.core.taxonomy import taxonomy
from bot.core.yamlio import load_yaml

FALLBACK_LANGUAGE = "en"
DIRECTIONS = ("ltr", "rtl")


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
    # The web page's texts about the page itself (language picker, message box, status ...).
    web: dict[str, str]

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
    direction = meta.get("direction", "ltr")
    if direction not in DIRECTIONS:
        raise ValueError(f"locales/{code}.yml: direction {direction!r} is not one of {DIRECTIONS}")
    names = {lang: tuple(words or ()) for lang, words in (meta.get("names") or {}).items()}
    # The language is always known by its own name and its English one ("Deutsch", "German"),
    # even where other locales do not name it yet (a language added after them).
    own = (meta["name"], meta["english_name"])
    names[code] = names.get(code, ()) + tuple(n for n in own if n not in names.get(code, ()))
    return Locale(
        code=code,
        name=meta["name"],
        english_name=meta["english_name"],
        direction=direction,
        names=names,
        texts=dict(raw.get("texts") or {}),
        topic_labels=dict(raw.get("topics") or {}),
        web={str(key): str(value) for key, value in (raw.get("web") or {}).items()},
    )


@functools.cache
def get_locale(code: str) -> Locale:
    """The locale of a supported language (falls back to English for anything else)."""
    if code not in supported_languages():
        code = FALLBACK_LANGUAGE
    return _parse(code, load_yaml(data_path("locales", f"{code}.yml")))


def supported_languages() -> tuple[str, ...]:
    """The languages of topics.yml (``languages:``), in its order."""
    return taxonomy().languages


def all_locales() -> list[Locale]:
    return [get_locale(code) for code in supported_languages()]


def right_to_left_languages() -> tuple[str, ...]:
    """The supported languages written right to left (their locale says ``direction: rtl``), in
    topics.yml's order: the one place that says which they are."""
    return tuple(locale.code for locale in all_locales() if locale.is_rtl)
