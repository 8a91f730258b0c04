"""The content model: per topic and language, the texts and the official pages they come from."""

from __future__ import annotations

from dataclasses import dataclass, field

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

    def links(self) -> list[Link]:
        """One link per official page, each in the user's language where it exists, no repeats."""
        seen: set[str] = set()
        links = []
        for page in self.pages:
            link = page.best_for(self.language)
            if link.url not in seen:
                seen.add(link.url)
                links.append(link)
        return links

    def has_page_in_language(self) -> bool:
        return any(self.language in page.versions for page in self.pages)
