"""Records whether an answer helped, for the content editors' report (``make report``)."""

from __future__ import annotations

import asyncio
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import last_question, locale_of, send
from bot.answers.feedback import NEGATIVE, POSITIVE, FeedbackLog
from bot.content.replies import text_reply


class ActionRecordFeedback(Action):
    def name(self) -> str:
        return "action_record_feedback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        kind = POSITIVE if intent == "feedback_positive" else NEGATIVE
        await asyncio.to_thread(
            FeedbackLog().record,
            kind,
            tracker.get_slot("language"),
            tracker.get_slot("last_topic"),
            last_question(tracker),
        )
        send(dispatcher, text_reply(locale_of(tracker), "feedback_thanks"))
        return []
