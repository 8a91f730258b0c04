"""The ``http`` content source: topic documents from a static JSON API (docs/content-api.md).

The API is a tree of static files (``python -m bot.content.export`` writes it), so any web server
or CDN can serve it. Reading it must never cost the user an answer: documents are cached for a TTL,
revalidated with ETags, and on any failure the last good copy or the bundled one is used.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from bot.content.files import FilesContentSource
from bot.content.model import AnswerContent, ContentSource, Link, Page, TopicContent
from bot.core.httpclient import HttpClient
from bot.core.settings import DEFAULT_CONTENT_TTL as DEFAULT_TTL

log = logging.getLogger(__name__)

API_VERSION = "v1"

_TOPIC_ID = re.compile(r"[a-z][a-z0-9_]{0,63}")
_LANGUAGE = re.compile(r"[a-z]{2,3}")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_ANSWER_ID = _TOPIC_ID


class InvalidDocument(ValueError):
    """A topic document that does not follow the content API schema."""


def document_path(topic: str, language: str) -> str:
    """Path of one topic document below the API base URL."""
    return f"{API_VERSION}/topics/{language}/{topic}.json"


def topic_to_document(content: TopicContent) -> dict[str, Any]:
    """The JSON document the content API serves for one topic in one language."""
    return {
        "topic": content.topic,
        "language": content.language,
        "title": content.title,
        "answer": content.answer,
        "steps": list(content.steps),
        "pages": _pages_document(content.pages),
        "publisher": content.publisher,
        "reviewed": content.reviewed,
        "related": list(content.related),
        "answers": [answer_to_document(answer) for answer in content.answers],
    }


def _pages_document(pages: tuple[Page, ...]) -> list[dict[str, Any]]:
    return [
        {code: {"url": link.url, "title": link.title} for code, link in page.versions.items()}
        for page in pages
    ]


def answer_to_document(answer: AnswerContent) -> dict[str, Any]:
    """One specific answer inside its topic document."""
    return {
        "id": answer.id,
        "question": answer.question,
        "answer": answer.answer,
        "pages": _pages_document(answer.pages),
        "checked": answer.checked,
    }


def _text(doc: dict[str, Any], key: str, *, required: bool = True) -> str:
    value = doc.get(key)
    if not isinstance(value, str) or (required and not value.strip()):
        raise InvalidDocument(f"{key!r} must be a non-empty string")
    return value


def _date(doc: dict[str, Any], key: str) -> str:
    value = _text(doc, key)
    if not _DATE.fullmatch(value):
        raise InvalidDocument(f"{key!r} must be a date YYYY-MM-DD")
    return value


def _strings(doc: dict[str, Any], key: str) -> tuple[str, ...]:
    value = doc.get(key)
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise InvalidDocument(f"{key!r} must be a list of non-empty strings")
    return tuple(value)


def _page(raw: Any) -> Page:
    if not isinstance(raw, dict) or not raw:
        raise InvalidDocument("each page must be a non-empty object keyed by language code")
    versions = {}
    for code, link in raw.items():
        if not isinstance(code, str) or not _LANGUAGE.fullmatch(code) or not isinstance(link, dict):
            raise InvalidDocument(f"page version {code!r} must be a language code with a link")
        url, title = link.get("url"), link.get("title")
        if not isinstance(url, str) or not is_https_url(url):
            raise InvalidDocument(f"page URL {url!r} must be an absolute https URL")
        if not isinstance(title, str) or not title.strip():
            raise InvalidDocument(f"page {url} needs a title")
        versions[code] = Link(url, title, code)
    return Page(versions)


def is_https_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme == "https" and bool(parts.hostname) and not any(c.isspace() for c in url)


def _pages(doc: dict[str, Any]) -> tuple[Page, ...]:
    pages = doc.get("pages")
    if not isinstance(pages, list) or not pages:
        raise InvalidDocument("'pages' must list at least one official page")
    return tuple(_page(page) for page in pages)


def _answers(doc: dict[str, Any], topic: str, language: str) -> tuple[AnswerContent, ...]:
    """The specific answers of a topic document (optional: older documents have none)."""
    raw = doc.get("answers", [])
    if not isinstance(raw, list):
        raise InvalidDocument("'answers' must be a list")
    answers = []
    for item in raw:
        if not isinstance(item, dict) or not _ANSWER_ID.fullmatch(str(item.get("id", ""))):
            raise InvalidDocument("each answer needs an 'id' of lower-case letters, digits and _")
        answers.append(
            AnswerContent(
                topic=topic,
                id=item["id"],
                language=language,
                question=_text(item, "question"),
                answer=_text(item, "answer"),
                pages=_pages(item),
                checked=_date(item, "checked"),
            )
        )
    return tuple(answers)


def document_to_topic(doc: Any, topic: str, language: str) -> TopicContent:
    """Validates a document for ``topic`` in ``language``; raises InvalidDocument when unusable.

    The answer, and each specific answer, must carry at least one official https link, and the
    document must be the one asked for: a mis-routed cache or CDN must not put another topic's
    answer in front of a user.
    """
    if not isinstance(doc, dict):
        raise InvalidDocument("document must be a JSON object")
    if doc.get("topic") != topic or doc.get("language") != language:
        found = (doc.get("topic"), doc.get("language"))
        raise InvalidDocument(f"document is for {found}, expected {(topic, language)}")
    return TopicContent(
        topic=topic,
        language=language,
        title=_text(doc, "title"),
        answer=_text(doc, "answer"),
        steps=_strings(doc, "steps"),
        pages=_pages(doc),
        publisher=_text(doc, "publisher"),
        reviewed=_date(doc, "reviewed"),
        related=_strings(doc, "related"),
        answers=_answers(doc, topic, language),
    )


@dataclass
class _Entry:
    content: TopicContent
    etag: str | None
    fresh_until: float


class HttpContentSource:
    """Topic content from ``GET {base}/v1/topics/{language}/{topic}.json``.

    Within ``ttl`` seconds a document is served from memory; after that it is revalidated with
    ``If-None-Match``. When the API fails in any way (down, slow, 4xx, 5xx, malformed or invalid
    document, circuit open) the answer is the last good copy, else ``fallback`` (the bundled
    files), and the failure is logged. A stale copy is kept, not refreshed, so the next request
    tries the API again (the client's circuit breaker keeps that cheap while the API is down).
    """

    name = "http"

    def __init__(
        self,
        base_url: str,
        *,
        ttl: float = DEFAULT_TTL,
        client: HttpClient | None = None,
        fallback: ContentSource | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.ttl = ttl
        self.client = client or HttpClient(name="content-api")
        self.fallback: ContentSource = fallback if fallback is not None else FilesContentSource()
        self._clock = clock
        self._cache: dict[str, _Entry] = {}
        self._lock = threading.Lock()

    def url(self, topic: str, language: str) -> str:
        return f"{self.base_url}/{document_path(topic, language)}"

    def topic(self, topic: str, language: str) -> TopicContent | None:
        """Content of ``topic`` in ``language`` from the API, the last good copy or the bundle."""
        if not _TOPIC_ID.fullmatch(topic) or not _LANGUAGE.fullmatch(language):
            return None
        url = self.url(topic, language)
        with self._lock:
            entry = self._cache.get(url)
        if entry is not None and self._clock() < entry.fresh_until:
            return entry.content
        result = self.client.get_json(url, etag=entry.etag if entry else None)
        if result.not_modified and entry is not None:
            with self._lock:
                entry.fresh_until = self._clock() + self.ttl
            return entry.content
        problem = result.error
        if result.ok:
            try:
                content = document_to_topic(result.data, topic, language)
            except InvalidDocument as exc:
                problem = f"invalid document: {exc}"
            else:
                with self._lock:
                    self._cache[url] = _Entry(content, result.etag, self._clock() + self.ttl)
                return content
        elif result.not_modified:  # 304 for a copy we do not hold: a broken server or proxy
            problem = "304 without a cached copy"
        if entry is not None:
            log.warning("content API: %s for %s; serving the last good copy", problem, url)
            return entry.content
        log.warning("content API: %s for %s; serving the bundled copy", problem, url)
        return self.fallback.topic(topic, language)
