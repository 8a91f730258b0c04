"""Rasa's REST channel, hardened: POST /webhooks/rest/webhook, same request and reply format.

Registered in credentials.yml as ``bot.server.channels.rest.RestChannel`` instead of ``rest``.
Rasa's own channel answers 500 with a stack trace in the log for a body that is not a JSON object,
an empty reply for an empty message or a ``"message": 123``, spends ~40 s of the event loop (every
user waits) on a 100 KB message, and lets ``/restart`` wipe the conversation silently. Here:

- a body that is not a JSON object, a missing or bad ``sender``, a ``message`` that is not a
  string: 400 with a JSON error (413 past 1 MB), never 5xx;
- the message then goes through the input guard every channel shares (bot/server/channels/guard.py):
  normalised text, ``too_long``/``fallback`` replies in the user's language for over-long or
  empty messages, the ``error`` text when Rasa fails, ``fallback`` when it says nothing,
  ``privacy_notice`` after a message with personal data: every well-formed message is answered;
- ``metadata`` other than an object is ignored; ``{"language": "xx"}`` passes through as before.
"""

from __future__ import annotations

import json
import logging
from functools import partial
from typing import Any

import regex
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from rasa.utils.endpoints import bool_arg
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse, ResponseStream

from bot.server.channels.guard import (
    MAX_SENDER_CHARS,
    OnNewMessage,
    deliver,
    valid_metadata,
    valid_sender,
)

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 1_000_000
_CHANNEL_NAME = regex.compile(r"[a-z][a-z0-9_]{0,31}")


def error_response(status: int, error: str, message: str) -> HTTPResponse:
    """A JSON error for a malformed request (for developers: users never send these by hand)."""
    return response.json({"status": status, "error": error, "message": message}, status=status)


class RestChannel(RestInput):
    """Drop-in replacement for Rasa's ``rest`` channel that validates before it processes."""

    @classmethod
    def name(cls) -> str:
        return "rest"  # keeps the URL /webhooks/rest/webhook and input_channel "rest"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> RestChannel:
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
        """Validates the request, then hands the message to the input guard and Rasa."""
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

        guarded = partial(deliver, request.app, on_new_message)
        if bool_arg(request, "stream", default=False):
            return response.stream(
                self.stream_response(guarded, message, sender, input_channel, metadata),
                content_type="text/event-stream",
            )
        collector = CollectingOutputChannel()
        await guarded(
            UserMessage(message, collector, sender, input_channel=input_channel, metadata=metadata)
        )
        return response.json(collector.messages)
