"""The content model: per topic and language, the texts and the official pages they come from.

A topic has a card (the overview for general questions) and specific answers (one concrete fact
each: "how many years until citizenship?"), every one with the official page that states it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

# When an official page has no version in the user's language, link the closest one, in this order.
LINK_FALLBACK_ORDER = ("en", "fi", "sv")


@dataclass(frozen=True)
class Link:
    url: str
    title: str
    language: str


@dataclass(frozen=True)
class Page:
    """One official page in the languages it exists in."""

    versions: dict[str, Link]

    def best_for(self, language: str) -> Link:
        """The version in ``language``, else the closest one (English, Finnish, Swedish, any)."""
        for code in (language, *LINK_FALLBACK_ORDER):
            if code in self.versions:
                return self.versions[code]
        return next(iter(self.versions.values()))


def best_links(pages: Iterable[Page], language: str) -> list[Link]:
    """One link per official page, each in ``language`` where it exists, no repeats."""
    seen: set[str] = set()
    links = []
    for page in pages:
        link = page.best_for(language)
        if link.url not in seen:
            seen.add(link.url)
            links.append(link)
    return links


@dataclass(frozen=True)
class AnswerContent:
    """A specific answer within a topic: the question it answers, the fact, and its source."""

    topic: str
    id: str
    language: str
    question: str
    answer: str
    pages: tuple[Page, ...]
    checked: str

    @property
    def key(self) -> str:
        """``topic/id``: how the tracker and the content API name the answer."""
        return f"{self.topic}/{self.id}"

    def links(self) -> list[Link]:
        return best_links(self.pages, self.language)


@dataclass(frozen=True)
class TopicContent:
    topic: str
    language: str
    title: str
    answer: str
    steps: tuple[str, ...]
    pages: tuple[Page, ...]
    publisher: str
    reviewed: str
    related: tuple[str, ...] = field(default_factory=tuple)
    answers: tuple[AnswerContent, ...] = field(default_factory=tuple)

    def links(self) -> list[Link]:
        """One link per official page, each in the user's language where it exists, no repeats."""
        return best_links(self.pages, self.language)

    def has_page_in_language(self) -> bool:
        return any(self.language in page.versions for page in self.pages)

    def specific(self, answer_id: str | None) -> AnswerContent | None:
        """The specific answer ``answer_id`` of this topic, if it has one."""
        return next((a for a in self.answers if a.id == answer_id), None)


class ContentSource(Protocol):
    """Where topic content comes from: the bundled files, the HTTP content API (sources.py)."""

    name: str

    def topic(self, topic: str, language: str) -> TopicContent | None:
        """Content of ``topic`` in ``language``, or None when there is none."""
