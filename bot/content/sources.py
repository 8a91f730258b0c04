"""Chooses the content source from configuration (``KOTOBOT_CONTENT_SOURCE``, default ``files``).

| variable | default | meaning |
|---|---|---|
| ``KOTOBOT_CONTENT_SOURCE`` | ``files`` | ``files`` (bundled content/) or ``http`` (content API) |
| ``KOTOBOT_CONTENT_URL`` | (none) | base URL of the content API; required by ``http`` |
| ``KOTOBOT_CONTENT_TTL`` | ``300`` | seconds a fetched topic document is used before revalidating |
| ``KOTOBOT_PTV_URL`` | PTV v11 production | base URL of the Service Catalogue open API |

A bad configuration never stops the bot: it logs a warning and uses the bundled files (or the
default PTV URL), because a wrong setting should cost freshness, not answers.
"""

from __future__ import annotations

import functools
import logging
import os
from typing import Protocol
from urllib.parse import urlsplit

from bot.content.files import FilesContentSource
from bot.content.http import DEFAULT_TTL, HttpContentSource
from bot.content.model import TopicContent
from bot.content.ptv import DEFAULT_BASE_URL as PTV_DEFAULT_URL
from bot.content.ptv import PtvClient

log = logging.getLogger(__name__)


class ContentSource(Protocol):
    name: str

    def topic(self, topic: str, language: str) -> TopicContent | None:
        """Content of ``topic`` in ``language``, or None when there is none."""


def _base_url(value: str) -> str | None:
    """``value`` when it is an absolute http(s) URL without query or fragment, else None."""
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    if parts.query or parts.fragment:
        return None
    return value.strip().rstrip("/")


def _ttl() -> float:
    raw = os.environ.get("KOTOBOT_CONTENT_TTL", "").strip()
    if not raw:
        return DEFAULT_TTL
    try:
        ttl = float(raw)
    except ValueError:
        ttl = -1.0
    if ttl < 0:
        log.warning("KOTOBOT_CONTENT_TTL=%r is not a number of seconds; using %s", raw, DEFAULT_TTL)
        return DEFAULT_TTL
    return ttl


@functools.lru_cache(maxsize=1)
def content_source() -> ContentSource:
    """The configured source, built once per process (the http source holds the cache)."""
    kind = os.environ.get("KOTOBOT_CONTENT_SOURCE", "files").strip().lower() or "files"
    if kind == "http":
        raw_url = os.environ.get("KOTOBOT_CONTENT_URL", "")
        url = _base_url(raw_url)
        if url:
            ttl = _ttl()
            log.info("content source: http %s (TTL %ss)", url, ttl)
            return HttpContentSource(url, ttl=ttl)
        log.warning(
            "KOTOBOT_CONTENT_SOURCE=http needs KOTOBOT_CONTENT_URL as an http(s) base URL "
            "(got %r); using the bundled files",
            raw_url,
        )
    elif kind != "files":
        log.warning(
            "unknown KOTOBOT_CONTENT_SOURCE %r (supported: files, http); using the bundled files",
            kind,
        )
    return FilesContentSource()


@functools.lru_cache(maxsize=1)
def ptv_client() -> PtvClient:
    """The Service Catalogue client, at ``KOTOBOT_PTV_URL`` or the public v11 API."""
    raw_url = os.environ.get("KOTOBOT_PTV_URL", "")
    url = _base_url(raw_url) if raw_url.strip() else PTV_DEFAULT_URL
    if url is None:
        log.warning("KOTOBOT_PTV_URL=%r is not an http(s) URL; using %s", raw_url, PTV_DEFAULT_URL)
        url = PTV_DEFAULT_URL
    return PtvClient(url)
