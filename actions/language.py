"""Keeps the ``language`` slot right after every user message, and confirms explicit switches."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import locale_of, send
from actions.topics import answer_replies
from bot.langid.explicit import explicit_language
from bot.langid.policy import LanguageEvidence, decide_language
from bot.langid.ui import ui_language_from_metadata
from bot.locales import supported_languages
from bot.replies import ask_language_reply, language_changed_reply, text_reply

NLU_FALLBACK = "nlu_fallback"


def latest_user_metadata(tracker: Tracker) -> dict[str, Any]:
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return event.get("metadata") or {}
    return {}


def language_events(tracker: Tracker) -> list[dict[str, Any]]:
    """SlotSet events for ``language`` and ``ui_language`` after the latest user message."""
    parse = tracker.latest_message or {}
    info = parse.get("language") or {}
    # Button payloads ("/topic") skip language detection: take the UI language from the event.
    ui_language = info.get("ui_language") or ui_language_from_metadata(
        latest_user_metadata(tracker), supported_languages()
    )
    evidence = LanguageEvidence(
        detected=info.get("language"),
        reliable=bool(info.get("reliable")),
        confidence=float(info.get("confidence") or 0.0),
        understood=(parse.get("intent") or {}).get("name") != NLU_FALLBACK,
        unsupported=info.get("unsupported"),
        explicit=explicit_language(parse),
        ui_language=ui_language,
    )
    current = tracker.get_slot("language")
    previous_ui = tracker.get_slot("ui_language")
    decision = decide_language(current, evidence, previous_ui, supported_languages())
    events = []
    if decision.language and decision.language != current:
        events.append(SlotSet("language", decision.language))
    if evidence.ui_language and evidence.ui_language != previous_ui:
        events.append(SlotSet("ui_language", evidence.ui_language))
    return events


class ActionTrackLanguage(Action):
    """Custom slot mapping of ``language``: Rasa runs it after every user message."""

    def name(self) -> str:
        return "action_track_language"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        return language_events(tracker)


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
        send(dispatcher, language_changed_reply(locale))
        last_topic = tracker.get_slot("last_topic")
        if last_topic:
            # The conversation goes on: the last answer again, now in the new language.
            send(dispatcher, text_reply(locale, "switched_and_repeat", language_name=locale.name))
            send(dispatcher, *await answer_replies(last_topic, locale))
        return []
