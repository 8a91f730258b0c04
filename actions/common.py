"""Helpers every action uses: the conversation's locale, sending replies, reading the tracker."""

from __future__ import annotations

import asyncio
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.content import TopicContent, content_source
from bot.content.replies import Reply, ask_language_reply
from bot.core.locales import FALLBACK_LANGUAGE, Locale, get_locale

COMMAND_PREFIX = "/"


def locale_of(tracker: Tracker) -> Locale:
    return get_locale(tracker.get_slot("language") or FALLBACK_LANGUAGE)


def send(dispatcher: CollectingDispatcher, *replies: Reply) -> None:
    for reply in replies:
        dispatcher.utter_message(**reply)


def offer_languages_if_unsure(dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
    """The language buttons after the reply, while the language is only a guess or the default
    (the first message was too short to tell; see bot/langid/policy.py)."""
    if tracker.get_slot("language_unsure"):
        send(dispatcher, ask_language_reply(locale_of(tracker)))


async def topic_content(topic: str, language: str) -> TopicContent | None:
    """Content from the configured source, off the event loop (an HTTP source may wait)."""
    return await asyncio.to_thread(content_source().topic, topic, language)


def last_question(tracker: Tracker) -> str | None:
    """The user's last typed message (not a button payload), e.g. the question feedback is about."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            text = (event.get("text") or "").strip()
            if text and not text.startswith(COMMAND_PREFIX):
                return text
    return None


def latest_entity(tracker: Tracker, entity: str) -> Any:
    values = [e.get("value") for e in (tracker.latest_message or {}).get("entities") or []
              if e.get("entity") == entity]  # fmt: skip
    return values[-1] if values else None
