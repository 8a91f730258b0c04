"""Answers a topic question with content from the configured content source."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import locale_of, send, topic_content
from bot.dialogue import extra_action
from bot.locales import Locale
from bot.replies import Reply, feedback_prompt, text_reply, topic_answer
from bot.taxonomy import taxonomy


async def answer_replies(topic: str, locale: Locale) -> list[Reply]:
    """The answer card of ``topic`` in the user's language, or a polite error."""
    content = await topic_content(topic, locale.code)
    if content is None:
        return [text_reply(locale, "error")]
    return [topic_answer(locale, content)]


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
        send(dispatcher, *await answer_replies(topic, locale))
        if extra_action(topic) is None:
            # Topics with a follow-up action get the feedback question after it.
            send(dispatcher, feedback_prompt(locale))
        return [SlotSet("last_topic", topic)]
