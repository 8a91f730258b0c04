"""Answers a topic question with content from the configured content source."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import locale_of, send
from bot.content import content_source
from bot.replies import text_reply, topic_answer
from bot.taxonomy import taxonomy


class ActionAnswerTopic(Action):
    def name(self) -> str:
        return "action_answer_topic"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        locale = locale_of(tracker)
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        topic = intent if taxonomy().is_topic(intent) else tracker.get_slot("last_topic")
        if not topic:
            send(dispatcher, text_reply(locale, "fallback"))
            return []
        content = content_source().topic(topic, locale.code)
        if content is None:
            send(dispatcher, text_reply(locale, "error"))
            return [SlotSet("last_topic", topic)]
        send(dispatcher, topic_answer(locale, content))
        return [SlotSet("last_topic", topic)]
