"""The embedded default content source: the YAML files shipped in ``content/``.

``content/sources.yml`` holds what does not depend on the language (publisher, dates, official
pages, and per specific answer its checked date and pages); ``content/<language>.yml`` the texts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.content.model import AnswerContent, Link, Page, TopicContent
from bot.core.paths import data_path
from bot.core.yamlio import load_yaml


def parse_pages(raw_pages: list[dict[str, Any]]) -> tuple[Page, ...]:
    return tuple(
        Page({lang: Link(v["url"], v["title"], lang) for lang, v in versions.items()})
        for versions in raw_pages
    )


def _plain(text: Any) -> str:
    return " ".join(str(text).split())


def build_answers(
    topic: str, language: str, meta: dict[str, Any], texts: dict[str, Any]
) -> tuple[AnswerContent, ...]:
    """The topic's specific answers that have both sources (sources.yml) and texts."""
    answers = []
    for answer_id, answer_meta in (meta.get("answers") or {}).items():
        text = texts.get(answer_id)
        if not text or not text.get("answer"):
            continue
        answers.append(
            AnswerContent(
                topic=topic,
                id=answer_id,
                language=language,
                question=_plain(text.get("question", "")),
                answer=_plain(text["answer"]),
                pages=parse_pages(answer_meta.get("pages") or []),
                checked=str(answer_meta.get("checked", "")),
            )
        )
    return tuple(answers)


def build_topic(
    topic: str,
    language: str,
    meta: dict[str, Any],
    text: dict[str, Any],
    answer_texts: dict[str, Any] | None = None,
) -> TopicContent:
    """Join the language-independent part (sources.yml) with one language's texts."""
    return TopicContent(
        topic=topic,
        language=language,
        title=text["title"],
        answer=_plain(text["answer"]),
        steps=tuple(text.get("steps") or ()),
        pages=parse_pages(meta.get("pages") or []),
        publisher=str(meta.get("publisher", "")),
        reviewed=str(meta.get("reviewed", "")),
        related=tuple(meta.get("related") or ()),
        answers=build_answers(topic, language, meta, answer_texts or {}),
    )


class FilesContentSource:
    """Reads ``content/sources.yml`` and ``content/<language>.yml`` (re-read when they change)."""

    name = "files"

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory or data_path("content")

    def topic(self, topic: str, language: str) -> TopicContent | None:
        sources = load_yaml(self.directory / "sources.yml") or {}
        path = self.directory / f"{language}.yml"
        if topic not in sources or not path.exists():
            return None
        raw = load_yaml(path) or {}
        texts = raw.get("topics") or {}
        if topic not in texts:
            return None
        answer_texts = (raw.get("answers") or {}).get(topic) or {}
        return build_topic(topic, language, sources[topic], texts[topic], answer_texts)
