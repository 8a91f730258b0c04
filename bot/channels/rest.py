"""Rasa's REST channel, hardened: POST /webhooks/rest/webhook, same request and reply format.

Registered in credentials.yml as ``bot.channels.rest.RestChannel`` instead of ``rest``. Rasa's own
channel answers 500 with a stack trace in the log for a body that is not a JSON object, an empty
reply for an empty message or a ``"message": 123``, spends ~40 s of the event loop (every user
waits) on a 100 KB message, and lets ``/restart`` wipe the conversation silently. Here:

- a body that is not a JSON object, a missing or bad ``sender``, a ``message`` that is not a
  string: 400 with a JSON error (413 past 1 MB), never 5xx;
- text normalised and checked by bot/input_guard.py; an empty or too long message gets a short
  reply in the user's language (``fallback``, ``too_long`` with ``{max_chars}``) without
  reaching the NLU or the tracker store;
- an error inside Rasa gets the localized ``error`` text; a message Rasa answers with nothing
  gets ``fallback``: every well-formed message is answered;
- a message with personal data in it (bot/privacy.py) gets the ``privacy_notice`` text after the
  answer: do not share such details here;
- ``metadata`` other than an object is ignored; ``{"language": "xx"}`` passes through as before.
"""

from __future__ import annotations

import json
import logging
from asyncio import CancelledError
from collections.abc import Awaitable, Callable, Collection
from typing import Any

import regex
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from rasa.utils.endpoints import bool_arg
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse, ResponseStream

from bot.input_guard import TOO_LONG, check_message, max_message_chars
from bot.langid.ui import ui_language_from_metadata
from bot.locales import FALLBACK_LANGUAGE, get_locale, supported_languages
from bot.logging_filter import install as install_log_redaction
from bot.privacy import contains_personal_data

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 1_000_000
MAX_SENDER_CHARS = 255  # the tracker store's sender_id column
MAX_METADATA_BYTES = 4096
# Enough of an over-long message to tell its language.
LANGUAGE_HINT_CHARS = 300
_BAD_ID_CHARACTERS = regex.compile(r"[\p{Cc}\p{Cf}\p{Cs}]")
_CHANNEL_NAME = regex.compile(r"[a-z][a-z0-9_]{0,31}")

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]


def error_response(status: int, error: str, message: str) -> HTTPResponse:
    """A JSON error for a malformed request (for developers: users never send these by hand)."""
    return response.json({"status": status, "error": error, "message": message}, status=status)


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


class RestChannel(RestInput):
    """Drop-in replacement for Rasa's ``rest`` channel that validates before it processes."""

    @classmethod
    def name(cls) -> str:
        return "rest"  # keeps the URL /webhooks/rest/webhook and input_channel "rest"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> RestChannel:
        install_log_redaction()
        return cls()

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        webhook = Blueprint(f"custom_webhook_{type(self).__name__}")

        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        async def receive(request: Request) -> HTTPResponse | ResponseStream:
            return await self.receive(request, on_new_message)

        webhook.add_route(health, "/", methods=["GET"], name="health")
        webhook.add_route(receive, "/webhook", methods=["POST"], name="receive")
        return webhook

    async def receive(
        self, request: Request, on_new_message: OnNewMessage
    ) -> HTTPResponse | ResponseStream:
        """Validates the request, then hands the normalised message to Rasa."""
        raw = request.body or b""
        if len(raw) > MAX_BODY_BYTES:
            return error_response(413, "body_too_large", f"at most {MAX_BODY_BYTES} bytes")
        try:
            body = json.loads(raw)
        except (ValueError, RecursionError):
            return error_response(400, "invalid_json", "the body must be a JSON object")
        if not isinstance(body, dict):
            return error_response(400, "invalid_json", "the body must be a JSON object")
        sender = valid_sender(body.get("sender"))
        if sender is None:
            return error_response(
                400, "invalid_sender", f"'sender' must be a string of 1-{MAX_SENDER_CHARS} "
                "printable characters identifying the conversation",
            )  # fmt: skip
        message = body.get("message")
        if not isinstance(message, str):
            return error_response(400, "invalid_message", "'message' must be a string")
        metadata = valid_metadata(body.get("metadata"))
        input_channel = body.get("input_channel")
        if not isinstance(input_channel, str) or not _CHANNEL_NAME.fullmatch(input_channel):
            input_channel = self.name()

        checked = check_message(message, self._known_intents(request))
        if checked.problem is not None:
            hint = checked.text[:LANGUAGE_HINT_CHARS] if checked.problem == TOO_LONG else None
            language = await self._reply_language(request, sender, metadata, hint)
            key = "too_long" if checked.problem == TOO_LONG else "fallback"
            text = get_locale(language).text(key, max_chars=max_message_chars())
            return response.json([{"recipient_id": sender, "text": text}])

        if bool_arg(request, "stream", default=False):
            return response.stream(
                self.stream_response(on_new_message, checked.text, sender, input_channel, metadata),
                content_type="text/event-stream",
            )
        collector = CollectingOutputChannel()
        user_message = UserMessage(
            checked.text, collector, sender, input_channel=input_channel, metadata=metadata
        )
        try:
            await on_new_message(user_message)
        except (Exception, CancelledError):
            # The text is not logged: the log is redacted, but it need not have it at all.
            logger.exception("rest: could not handle a message of conversation %s", sender)
            language = await self._reply_language(request, sender, metadata)
            return response.json(
                [{"recipient_id": sender, "text": get_locale(language).text("error")}]
            )
        # Personal data is not stored (the tracker store redacts it), but the user should know.
        keys = [] if collector.messages else ["fallback"]
        keys += ["privacy_notice"] if contains_personal_data(checked.text) else []
        if keys:
            locale = get_locale(await self._reply_language(request, sender, metadata))
            collector.messages.extend(
                {"recipient_id": sender, "text": locale.text(k)} for k in keys
            )
        return response.json(collector.messages)

    @staticmethod
    def _known_intents(request: Request) -> Collection[str] | None:
        agent = getattr(request.app.ctx, "agent", None)
        domain = getattr(agent, "domain", None)
        return set(domain.intents) if domain is not None else None

    @staticmethod
    async def _reply_language(
        request: Request, sender: str, metadata: dict[str, Any] | None, hint: str | None = None
    ) -> str:
        """The language for a reply the assistant did not compose: the conversation's language,
        else the UI language, else the language of ``hint`` (as the NLU detects it), else English.
        """
        supported = supported_languages()
        agent = getattr(request.app.ctx, "agent", None)
        try:
            tracker = await agent.tracker_store.retrieve(sender) if agent else None
            language = tracker.get_slot("language") if tracker else None
            if language in supported:
                return language
        except Exception:  # the store may be down: that is no reason not to answer
            logger.warning("rest: could not read the conversation's language", exc_info=True)
        ui_language = ui_language_from_metadata(metadata, supported)
        if ui_language:
            return ui_language
        if hint and agent is not None and agent.is_ready():
            try:
                detected = (await agent.parse_message(hint)).get("language") or {}
                if detected.get("reliable") and detected.get("language") in supported:
                    return detected["language"]
            except Exception:
                logger.warning("rest: could not detect a message's language", exc_info=True)
        return FALLBACK_LANGUAGE
