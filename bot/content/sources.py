"""Chooses the content source from configuration (``KOTOBOT_CONTENT_SOURCE``, default ``files``)."""

from __future__ import annotations

import functools
import os
from typing import Protocol

from bot.content.files import FilesContentSource
from bot.content.model import TopicContent


class ContentSource(Protocol):
    name: str

    def topic(self, topic: str, language: str) -> TopicContent | None:
        """Content of ``topic`` in ``language``, or None when there is none."""


@functools.lru_cache(maxsize=1)
def content_source() -> ContentSource:
    kind = os.environ.get("KOTOBOT_CONTENT_SOURCE", "files")
    if kind == "files":
        return FilesContentSource()
    raise ValueError(f"unknown KOTOBOT_CONTENT_SOURCE {kind!r} (supported: files)")
