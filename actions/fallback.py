"""NLU fallback: ask to rephrase and offer the likeliest topics, or list our languages."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import locale_of, send
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
        if (parse.get("language") or {}).get("unsupported"):
            send(dispatcher, unsupported_language_reply())
        else:
            send(dispatcher, *fallback_reply(locale_of(tracker), likeliest_topics(parse)))
        return []
