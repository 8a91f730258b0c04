"""Confirms explicit language switches.

The ``language`` slot itself is set by bot/server/policies/language.py.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import locale_of, send
from actions.topics import answer_replies, split_answer_key
from bot.content.replies import Reply, ask_language_reply, language_changed_reply, text_reply
from bot.core.locales import Locale
from bot.core.nlg_keys import EMERGENCY_HELP, nlg_text_key
from bot.langid.explicit import explicit_language

EMERGENCY_INTENT = "emergency"


class ActionChangeLanguage(Action):
    """Confirms a switch in the new language, or asks which language when none was named."""

    def name(self) -> str:
        return "action_change_language"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        locale = locale_of(tracker)
        if not explicit_language(tracker.latest_message or {}):
            send(dispatcher, ask_language_reply(locale))
            return []
        danger = previous_emergency(tracker)
        if danger is not None:
            # Someone who could not read the 112 advice tapped their language: the advice
            # again, 112 first, before anything else.
            send(dispatcher, *emergency_replies(locale, danger))
            send(dispatcher, language_changed_reply(locale))
            return []
        send(dispatcher, language_changed_reply(locale))
        last_topic = tracker.get_slot("last_topic")
        answer_topic, answer_id = split_answer_key(tracker.get_slot("last_answer"))
        if last_topic:
            # The conversation goes on: the last answer again (the specific one if it was),
            # now in the new language.
            send(dispatcher, text_reply(locale, "switched_and_repeat", language_name=locale.name))
            if answer_topic != last_topic:
                answer_id = None
            send(dispatcher, *await answer_replies(last_topic, locale, answer_id))
        return []


def previous_emergency(tracker: Tracker) -> dict[str, Any] | None:
    """The parse of the user's message before this one when it was taken for an emergency."""
    users = [event for event in tracker.events if event.get("event") == "user"]
    if len(users) < 2:
        return None
    parse = users[-2].get("parse_data") or {}
    return parse if (parse.get("intent") or {}).get("name") == EMERGENCY_INTENT else None


def emergency_replies(locale: Locale, parse: dict[str, Any]) -> list[Reply]:
    """The two emergency bubbles (112, then the helpline for the kind of danger) in ``locale``."""
    help_key = nlg_text_key(EMERGENCY_HELP, parse, locale.texts)
    return [text_reply(locale, EMERGENCY_INTENT), text_reply(locale, help_key)]
