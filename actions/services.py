"""Local services for immigrants in the user's municipality, from the Service Catalogue (PTV)."""

from __future__ import annotations

import asyncio
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import locale_of, offer_languages_if_unsure, send
from bot.answers.local_services import services_reply
from bot.content.replies import Reply, feedback_prompt, text_reply
from bot.content.sources import ptv_client
from bot.core.locales import Locale
from bot.core.municipalities import by_name


async def services_replies(
    locale: Locale, municipality_name: str, topic: str | None = None
) -> list[Reply]:
    """Services of ``topic``'s kind (integration services by default) in the municipality."""
    municipality = by_name(municipality_name)
    if municipality is None:
        return [text_reply(locale, "ask_municipality")]
    services = await asyncio.to_thread(
        ptv_client().services_for_municipality, municipality.code, locale.code
    )
    return [services_reply(locale, municipality.fi, services, topic)]


class ActionServiceDetails(Action):
    """After a service topic: local services, or (once) which municipality the user lives in."""

    def name(self) -> str:
        return "action_service_details"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        locale = locale_of(tracker)
        municipality = tracker.get_slot("municipality")
        events: list[dict[str, Any]] = []
        if municipality:
            topic = tracker.get_slot("last_topic")
            send(dispatcher, *await services_replies(locale, municipality, topic))
        elif not tracker.get_slot("municipality_asked"):
            send(dispatcher, text_reply(locale, "followup_hint"))
            events.append(SlotSet("municipality_asked", True))
        send(dispatcher, feedback_prompt(locale))
        offer_languages_if_unsure(dispatcher, tracker)
        return events
