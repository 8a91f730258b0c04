"""The embedded default content source: the YAML files shipped in ``content/``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.content.model import Link, Page, TopicContent
from bot.paths import data_path
from bot.yamlio import load_yaml


def parse_pages(raw_pages: list[dict[str, Any]]) -> tuple[Page, ...]:
    return tuple(
        Page({lang: Link(v["url"], v["title"], lang) for lang, v in versions.items()})
        for versions in raw_pages
    )


def build_topic(
    topic: str, language: str, meta: dict[str, Any], text: dict[str, Any]
) -> TopicContent:
    """Join the language-independent part (sources.yml) with one language's texts."""
    return TopicContent(
        topic=topic,
        language=language,
        title=text["title"],
        answer=" ".join(str(text["answer"]).split()),
        steps=tuple(text.get("steps") or ()),
        pages=parse_pages(meta.get("pages") or []),
        publisher=str(meta.get("publisher", "")),
        reviewed=str(meta.get("reviewed", "")),
        related=tuple(meta.get("related") or ()),
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
        texts = (load_yaml(path) or {}).get("topics") or {}
        if topic not in texts:
            return None
        return build_topic(topic, language, sources[topic], texts[topic])
