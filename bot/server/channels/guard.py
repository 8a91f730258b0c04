"""One input guard for every channel: REST, socket.io and the messaging connectors.

Each channel builds its ``UserMessage`` as before and hands it to :func:`deliver` instead of to
Rasa, so hostile or broken text gets the same treatment whichever way it came in (issue #7):

- the text is normalised and checked by bot/server/channels/message_check.py (NFC; control,
zero-width and
  bidi-override characters removed; ``/restart`` and malformed ``/intent{...}`` payloads defused);
- an empty or too long message gets the ``fallback`` or ``too_long`` text in the user's language
  and never reaches the NLU or the tracker store;
- an error inside Rasa gets the ``error`` text, a message Rasa answers with nothing ``fallback``,
  a message with personal data in it ``privacy_notice`` after the answer;
- nothing raises: a platform that got an exception would resend the same update again and again.
"""

from __future__ import annotations

import json
import logging
from asyncio import CancelledError
from collections.abc import Awaitable, Callable, Collection
from typing import Any, Literal

import regex
from rasa.core.channels.channel import OutputChannel, UserMessage

from bot.core.locales import FALLBACK_LANGUAGE, get_locale, supported_languages
from bot.core.privacy import contains_personal_data
from bot.langid.ui import ui_language_from_metadata
from bot.server.channels.base import typed_choice_to_payload
from bot.server.channels.message_check import TOO_LONG, check_message, max_message_chars

logger = logging.getLogger(__name__)

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]
# How a connector without real buttons reads "2" or an option's title (bot/server/channels/base.py).
TypedChoices = Literal["numbers", "titles"]

# Enough of an over-long message to tell its language.
LANGUAGE_HINT_CHARS = 300
MAX_SENDER_CHARS = 255  # the tracker store's sender_id column
MAX_METADATA_BYTES = 4096
_BAD_ID_CHARACTERS = regex.compile(r"[\p{Cc}\p{Cf}\p{Cs}]")


def valid_sender(value: Any) -> str | None:
    """The conversation id, or ``None``: a string (or integer) of printable characters.

    Rasa would file a missing sender under the shared id "default", mixing strangers' messages.
    """
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return None
    sender = str(value).strip()
    if not 0 < len(sender) <= MAX_SENDER_CHARS or _BAD_ID_CHARACTERS.search(sender):
        return None
    return sender


def valid_metadata(value: Any) -> dict[str, Any] | None:
    """The channel metadata if it is a JSON object; oversized objects keep only ``language``."""
    if not isinstance(value, dict):
        return None
    if len(json.dumps(value, ensure_ascii=False)) > MAX_METADATA_BYTES:
        language = value.get("language")
        return {"language": language} if isinstance(language, str) else None
    return value


class _CountingOutput:
    """The channel's output channel, counting the messages Rasa sends through it.

    Rasa calls only ``send_response`` and ``name`` on it; everything else is passed through.
    """

    def __init__(self, channel: OutputChannel) -> None:
        self.channel = channel
        self.sent = 0

    def name(self) -> str:
        return self.channel.name()

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        self.sent += 1
        await self.channel.send_response(recipient_id, message)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.channel, name)


# Set on a message the guard has checked: Rasa's handler behind it then takes it as it is.
GUARDED = "_kotobot_guarded"


def guarded_handler(app: Any, handler: OnNewMessage) -> OnNewMessage:
    """``handler`` (Rasa's, which hands a message to the agent) behind the input guard.

    Installed for every input channel by bot/server/rasa_patches.py (``register_guarded``), so a
    stock connector added in credentials.yml is guarded too. Kotobot's channels call
    :func:`deliver` themselves (with their typed-choice mapping); their messages arrive checked.
    """

    async def guarded(message: UserMessage) -> None:
        if getattr(message, GUARDED, False):
            await handler(message)
        else:
            await deliver(app, handler, message)

    return guarded


async def deliver(
    app: Any,
    on_new_message: OnNewMessage,
    message: UserMessage,
    typed_choices: TypedChoices | None = None,
) -> None:
    """Checks ``message`` and hands it to Rasa, or answers it here; never raises.

    ``app`` is the Sanic app (the agent is ``app.ctx.agent``); ``typed_choices`` maps a typed
    option number or title to the payload of the button offered just before.
    """
    output, sender = message.output_channel, message.sender_id
    text = message.text if isinstance(message.text, str) else ""
    checked = check_message(text, known_intents(app))
    if checked.problem is not None:
        hint = checked.text[:LANGUAGE_HINT_CHARS] if checked.problem == TOO_LONG else None
        language = await reply_language(app, sender, message.metadata, hint)
        key = "too_long" if checked.problem == TOO_LONG else "fallback"
        await _send(output, sender, get_locale(language).text(key, max_chars=max_message_chars()))
        return

    message.text = checked.text
    setattr(message, GUARDED, True)
    if typed_choices is not None:
        numbers = typed_choices == "numbers"
        message.text = await typed_choice_to_payload(app, sender, checked.text, numbers)
    counting = _CountingOutput(output)
    message.output_channel = counting  # type: ignore[assignment]
    try:
        await on_new_message(message)
    except (Exception, CancelledError):
        # The text is not logged: the log is redacted, but it need not have it at all.
        logger.exception("%s: could not handle a message of %s", message.input_channel, sender)
        language = await reply_language(app, sender, message.metadata)
        await _send(output, sender, get_locale(language).text("error"))
        return
    # Personal data is not stored (the tracker store redacts it), but the user should know.
    keys = [] if counting.sent else ["fallback"]
    keys += ["privacy_notice"] if contains_personal_data(checked.text) else []
    if keys:
        locale = get_locale(await reply_language(app, sender, message.metadata))
        for key in keys:
            await _send(output, sender, locale.text(key))


async def _send(output: OutputChannel, recipient: str, text: str) -> None:
    try:
        await output.send_text_message(recipient, text)
    except Exception:  # a platform that is down must not turn into an exception here
        logger.exception("could not send a reply to %s", recipient)


def known_intents(app: Any) -> Collection[str] | None:
    """The domain's intents: payloads of other intents are read as text (message_check.py)."""
    domain = getattr(_agent(app), "domain", None)
    return set(domain.intents) if domain is not None else None


async def reply_language(
    app: Any, sender: str, metadata: dict[str, Any] | None, hint: str | None = None
) -> str:
    """The language for a reply the assistant did not compose: the conversation's language,
    else the UI language, else the language of ``hint`` (as the NLU detects it), else English.
    """
    supported = supported_languages()
    agent = _agent(app)
    try:
        tracker = await agent.tracker_store.retrieve(sender) if agent else None
        language = tracker.get_slot("language") if tracker else None
        if language in supported:
            return language
    except Exception:  # the store may be down: that is no reason not to answer
        logger.warning("could not read the conversation's language", exc_info=True)
    ui_language = ui_language_from_metadata(metadata, supported)
    if ui_language:
        return ui_language
    if hint and agent is not None and agent.is_ready():
        try:
            detected = (await agent.parse_message(hint)).get("language") or {}
            if detected.get("reliable") and detected.get("language") in supported:
                return detected["language"]
        except Exception:
            logger.warning("could not detect a message's language", exc_info=True)
    return FALLBACK_LANGUAGE


def _agent(app: Any) -> Any:
    return getattr(getattr(app, "ctx", None), "agent", None)
