"""Rasa natural-language generator that speaks the conversation's language.

Configured in endpoints.yml (``nlg: type: bot.server.nlg.LocaleNaturalLanguageGenerator``): a
response
``utter_<key>`` is the text ``<key>`` of ``locales/<language>.yml``, chosen by the ``language``
slot, in process (no HTTP round trip). Replies that need data or buttons are custom actions.
"""

from __future__ import annotations

from typing import Any

from rasa.core.nlg.generator import NaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from bot.content.replies import help_reply, with_language_choice
from bot.core.locales import FALLBACK_LANGUAGE, get_locale
from bot.core.nlg_keys import EMERGENCY_HELP, GENERAL, nlg_text_key
from bot.server import rasa_patches

UTTER_PREFIX = "utter_"


class LocaleNaturalLanguageGenerator(NaturalLanguageGenerator):
    def __init__(
        self, endpoint_config: EndpointConfig | None = None, domain: Domain | None = None
    ) -> None:
        self.domain = domain
        rasa_patches.warn_if_missing(type(self).__name__)

    async def generate(
        self,
        utter_action: str,
        tracker: DialogueStateTracker,
        output_channel: str,
        **kwargs: Any,
    ) -> dict[str, Any] | None:
        language = tracker.get_slot("language") or FALLBACK_LANGUAGE
        key = utter_action.removeprefix(UTTER_PREFIX)
        locale = get_locale(language)
        parse_data = tracker.latest_message.parse_data if tracker.latest_message else None
        key = nlg_text_key(key, parse_data, get_locale(FALLBACK_LANGUAGE).texts)
        if key not in locale.texts and key not in get_locale(FALLBACK_LANGUAGE).texts:
            return None
        if key == f"{EMERGENCY_HELP}_{GENERAL}":
            # A bare "help!!" may be a cry for help or a wish to see what the bot knows: after
            # the 112 advice, the topics too.
            menu = help_reply(locale)
            return {"text": f"{locale.text(key)}\n\n{menu['text']}", "buttons": menu["buttons"]}
        reply = {"text": locale.text(key)}
        if tracker.get_slot("language_unsure") and not key.startswith(EMERGENCY_HELP):
            # Emergency advice stays as it is: 112 first, nothing to choose.
            return with_language_choice(locale, reply)
        return reply
