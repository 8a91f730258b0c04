"""Topic content: one model, several sources (bundled files by default; see ``sources.py``)."""

from bot.content.model import ContentSource, Link, Page, TopicContent
from bot.content.sources import content_source

__all__ = ["ContentSource", "Link", "Page", "TopicContent", "content_source"]
