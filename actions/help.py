"""Help: what one can ask, as topic buttons."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import locale_of, send
from bot.content.replies import help_reply


class ActionShowHelp(Action):
    def name(self) -> str:
        return "action_show_help"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        send(dispatcher, help_reply(locale_of(tracker)))
        return []
