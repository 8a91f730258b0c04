"""NLU fallback: a follow-up with a municipality, our languages, or rephrase with likely topics."""

from __future__ import annotations

import asyncio
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import latest_entity, locale_of, send
from actions.services import services_replies
from bot.feedback import FALLBACK, FeedbackLog
from bot.replies import fallback_reply, unsupported_language_reply
from bot.taxonomy import taxonomy

SUGGESTIONS = 3


def likeliest_topics(parse_data: dict[str, Any], limit: int = SUGGESTIONS) -> list[str]:
    ranking = parse_data.get("intent_ranking") or []
    topics = [entry.get("name") for entry in ranking if taxonomy().is_topic(entry.get("name"))]
    return topics[:limit]


class ActionFallbackSuggestions(Action):
    def name(self) -> str:
        return "action_fallback_suggestions"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        parse = tracker.latest_message or {}
        locale = locale_of(tracker)
        municipality = latest_entity(tracker, "municipality")
        if municipality:
            # "and in Tampere?", "I live in Espoo": that municipality's services for immigrants.
            send(dispatcher, *await services_replies(locale, municipality))
            return []
        if (parse.get("language") or {}).get("unsupported"):
            send(dispatcher, unsupported_language_reply())
            return []
        await asyncio.to_thread(
            FeedbackLog().record, FALLBACK, tracker.get_slot("language"), None, parse.get("text")
        )
        send(dispatcher, *fallback_reply(locale, likeliest_topics(parse)))
        return []
