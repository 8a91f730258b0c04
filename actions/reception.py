"""Refugee reception: reception centres, moving to a municipality, who to contact."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import locale_of, send, topic_content
from bot.content.replies import feedback_prompt, reception_reply

RECEPTION_SOURCES = ("asylum", "municipal_reception")


class ActionReceptionInfo(Action):
    """After a topic card of the reception topics: who does what in reception. A specific answer
    ("how long is temporary protection valid?") stands alone; the block would bury it."""

    def name(self) -> str:
        return "action_reception_info"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        locale = locale_of(tracker)
        if not tracker.get_slot("last_answer"):
            contents = [await topic_content(topic, locale.code) for topic in RECEPTION_SOURCES]
            send(dispatcher, reception_reply(locale, [c for c in contents if c is not None]))
        send(dispatcher, feedback_prompt(locale))
        return []
