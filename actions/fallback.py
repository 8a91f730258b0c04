"""NLU fallback: a follow-up with a municipality, our languages, or rephrase with likely topics."""

from __future__ import annotations

import asyncio
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import latest_entity, locale_of, offer_languages_if_unsure, send
from actions.services import services_replies
from actions.topics import answer_replies
from bot.answers.feedback import FALLBACK, FeedbackLog
from bot.content.replies import fallback_reply, unsupported_language_reply
from bot.core.taxonomy import taxonomy

SUGGESTIONS = 3
NLU_FALLBACK = "nlu_fallback"  # Rasa's DEFAULT_NLU_FALLBACK_INTENT_NAME
# A message the NLU did not place ("and for children?") is answered within the conversation's
# topic when one of that topic's specific answers is at least this likely.
FOLLOW_UP_CONFIDENCE = 0.5


def likeliest_topics(parse_data: dict[str, Any], limit: int = SUGGESTIONS) -> list[str]:
    ranking = parse_data.get("intent_ranking") or []
    topics = [entry.get("name") for entry in ranking if taxonomy().is_topic(entry.get("name"))]
    return topics[:limit]


def torn_between_topics(parse_data: dict[str, Any]) -> bool:
    """The fallback came from a near tie, not from low confidence: the two likeliest topics both
    reach the fallback threshold (the ``nlu_fallback`` entry carries it as its confidence)."""
    ranking = parse_data.get("intent_ranking") or []
    bar = next((e.get("confidence") for e in ranking if e.get("name") == NLU_FALLBACK), None)
    topics = [e for e in ranking if taxonomy().is_topic(e.get("name"))]
    return bar is not None and len(topics) >= 2 and float(topics[1]["confidence"]) >= float(bar)


def follow_up_answer(parse_data: dict[str, Any], last_topic: str | None) -> str | None:
    """The specific answer of ``last_topic`` this message most likely follows up on, if clear."""
    if not last_topic:
        return None
    selection = parse_data.get("answer") or {}
    candidate = (selection.get("other_topics") or {}).get(last_topic) or {}
    if candidate.get("id") and float(candidate.get("confidence") or 0) >= FOLLOW_UP_CONFIDENCE:
        return str(candidate["id"])
    return None


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
            topic = tracker.get_slot("last_topic")
            send(dispatcher, *await services_replies(locale, municipality, topic))
            return []
        if (parse.get("language") or {}).get("unsupported"):
            send(dispatcher, unsupported_language_reply())
            return []
        last_topic = tracker.get_slot("last_topic")
        follow_up = follow_up_answer(parse, last_topic)
        if follow_up:
            send(dispatcher, *await answer_replies(last_topic, locale, follow_up))
            return [SlotSet("last_answer", f"{last_topic}/{follow_up}")]
        await asyncio.to_thread(
            FeedbackLog().record, FALLBACK, tracker.get_slot("language"), None, parse.get("text")
        )
        torn = torn_between_topics(parse)
        send(dispatcher, *fallback_reply(locale, likeliest_topics(parse), torn))
        offer_languages_if_unsure(dispatcher, tracker)
        return []
