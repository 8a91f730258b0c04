"""Chooses the content source from the settings (bot/core/settings.py): ``KOTOBOT_CONTENT_SOURCE``
(``files``, the default: bundled content/; ``http``: the content API at ``KOTOBOT_CONTENT_URL``,
documents kept ``KOTOBOT_CONTENT_TTL`` seconds) and the Service Catalogue at ``KOTOBOT_PTV_URL``.

A bad setting (an unknown source, ``http`` without a URL, a URL that is not http(s), a TTL that
is not a number) stops the servers at start with a message naming it (``python -m bot.server.serve
--check``) rather than falling back to the bundled files, where a typo would cost freshness
unseen.
"""

from __future__ import annotations

import functools
import logging

from bot.content.files import FilesContentSource
from bot.content.http import HttpContentSource
from bot.content.model import ContentSource
from bot.content.ptv import PtvClient
from bot.core.settings import get_settings

log = logging.getLogger(__name__)


@functools.lru_cache(maxsize=1)
def content_source() -> ContentSource:
    """The configured source, built once per process (the http source holds the cache)."""
    settings = get_settings()
    if settings.content_source == "http" and settings.content_url:  # the settings require both
        log.info("content source: http %s (TTL %ss)", settings.content_url, settings.content_ttl)
        return HttpContentSource(settings.content_url, ttl=settings.content_ttl)
    return FilesContentSource()


@functools.lru_cache(maxsize=1)
def ptv_client() -> PtvClient:
    """The Service Catalogue client, at ``KOTOBOT_PTV_URL`` or the public v11 API."""
    return PtvClient(get_settings().ptv_url)
