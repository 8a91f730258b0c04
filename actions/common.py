"""Helpers every action uses: the conversation's locale and sending replies."""

from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.locales import FALLBACK_LANGUAGE, Locale, get_locale
from bot.replies import Reply


def locale_of(tracker: Tracker) -> Locale:
    return get_locale(tracker.get_slot("language") or FALLBACK_LANGUAGE)


def send(dispatcher: CollectingDispatcher, *replies: Reply) -> None:
    for reply in replies:
        dispatcher.utter_message(**reply)
