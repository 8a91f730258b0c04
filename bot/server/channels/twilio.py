"""Twilio SMS and WhatsApp: Rasa's Twilio channel, configured from environment variables.

Why not Rasa 3.6's channel as is: it does not check ``X-Twilio-Signature`` (anyone who knows the
URL can make the assistant text any number at the account's cost), sends every paragraph as its
own (paid) message, drops buttons, and calls Twilio with a blocking client on the event loop.
Here unsigned or badly signed requests get 403; replies go out from the number the user wrote
to (SMS or ``whatsapp:``), packed into as few messages as possible; buttons become numbered
options and the number typed back is mapped to the button's payload. Conversations are keyed by
a keyed hash of the phone number, so the tracker store holds no phone numbers. SMS and WhatsApp
carry no user locale (a phone's country is not its owner's language): detection decides.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from multidict import MultiDict
from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.core.channels.twilio import TwilioInput as RasaTwilioInput
from rasa.core.channels.twilio import TwilioOutput as RasaTwilioOutput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from twilio.base.exceptions import TwilioException
from twilio.http.http_client import TwilioHttpClient
from twilio.request_validator import RequestValidator

from bot.server.channels.base import (
    API_TIMEOUT,
    Settings,
    not_configured_blueprint,
    read_settings,
)
from bot.server.channels.formatting import (
    markdown_to_plain,
    markdown_to_single_star,
    numbered_options,
    split_message,
)
from bot.server.channels.guard import deliver

logger = logging.getLogger(__name__)

ACCOUNT_SID = "TWILIO_ACCOUNT_SID"
AUTH_TOKEN = "TWILIO_AUTH_TOKEN"
WEBHOOK_URL = "TWILIO_WEBHOOK_URL"
API_URL = "TWILIO_API_URL"
WHATSAPP_PREFIX = "whatsapp:"
MAX_TEXT = 1600  # Twilio's limit for one message body (SMS and WhatsApp)
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


class _ApiClient(TwilioHttpClient):
    """Twilio's HTTP client with a timeout, optionally sending to ``TWILIO_API_URL``."""

    def __init__(self, api_url: str | None) -> None:
        super().__init__(timeout=API_TIMEOUT)
        self.api_url = api_url.rstrip("/") if api_url else None

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        if self.api_url:
            parts = urlsplit(url)
            url = self.api_url + parts.path + (f"?{parts.query}" if parts.query else "")
        return super().request(method, url, *args, **kwargs)


def conversation_id(auth_token: str, phone: str) -> str:
    """A stable pseudonym for a phone number (per account): the Rasa conversation id."""
    digest = hmac.new(auth_token.encode("utf-8"), phone.encode("utf-8"), hashlib.sha256)
    kind = "whatsapp" if phone.startswith(WHATSAPP_PREFIX) else "sms"
    return f"{kind}-{digest.hexdigest()[:32]}"


def webhook_form(body: bytes) -> MultiDict[str]:
    """The form fields, empty ones included: Twilio signs them all (``ToState=``...), and
    Sanic's ``request.form`` drops empty fields, which would fail every real signature."""
    pairs = parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True)
    return MultiDict(pairs)


class TwilioOutput(RasaTwilioOutput):
    """Replies to one user (``to``) from the number they wrote to (``twilio_number``)."""

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        twilio_number: str | None,
        to: str | None = None,
        api_url: str | None = None,
    ) -> None:
        super().__init__(account_sid, auth_token, twilio_number)
        self.http_client = _ApiClient(api_url)
        self.to = to
        self.options_sent = 0  # one output channel per turn: options are numbered on

    async def _send_message(self, message_data: dict[str, Any]) -> Any:
        """One API call in a thread; a failure is logged, not retried five times (Rasa)."""
        try:
            return await asyncio.to_thread(self.messages.create, **message_data)
        except TwilioException as error:
            logger.error("twilio: sending failed: %s", error)
        except Exception:
            logger.exception("twilio: sending failed")
        return None

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        to = self.to or recipient_id
        whatsapp = to.startswith(WHATSAPP_PREFIX)
        text = markdown_to_single_star(text) if whatsapp else markdown_to_plain(text)
        for part in split_message(text, MAX_TEXT):
            await self._send_message({"to": to, "from_": self.twilio_number, "body": part})

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        text = numbered_options(text or "", buttons, start=self.options_sent + 1)
        self.options_sent += len(buttons)
        await self.send_text_message(recipient_id, text)


class TwilioInput(RasaTwilioInput):
    """``TWILIO_ACCOUNT_SID`` and ``TWILIO_AUTH_TOKEN`` switch it on (docs/channels.md)."""

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        return cls(read_settings("twilio", (ACCOUNT_SID, AUTH_TOKEN), (WEBHOOK_URL, API_URL)))

    def __init__(self, settings: Settings) -> None:
        super().__init__(
            settings.get(ACCOUNT_SID), settings.get(AUTH_TOKEN), None, debug_mode=False
        )
        self.settings = settings

    def get_output_channel(
        self, twilio_number: str | None = None, to: str | None = None
    ) -> TwilioOutput:
        return TwilioOutput(
            self.settings.require(ACCOUNT_SID),
            self.settings.require(AUTH_TOKEN),
            twilio_number,
            to,
            self.settings.get(API_URL),
        )

    def signature_is_valid(self, request: Request, form: MultiDict[str]) -> bool:
        """Twilio signs the public URL it called: ``TWILIO_WEBHOOK_URL`` behind a proxy."""
        signature = request.headers.get("X-Twilio-Signature")
        if not signature:
            return False
        url = self.settings.get(WEBHOOK_URL) or request.url
        return RequestValidator(self.auth_token).validate(url, form, signature)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        if not self.settings.configured:
            return not_configured_blueprint(self.settings)
        twilio_webhook = Blueprint("kotobot_twilio_webhook", __name__)

        @twilio_webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @twilio_webhook.route("/webhook", methods=["POST"])
        async def message(request: Request) -> HTTPResponse:
            form = webhook_form(request.body)
            if not self.signature_is_valid(request, form):
                return response.json({"error": "wrong or missing X-Twilio-Signature"}, status=403)
            sender = form.get("From")
            text = form.get("Body")
            if not sender or not text:
                return response.text(EMPTY_TWIML, content_type="text/xml")  # media, location
            sender_id = conversation_id(self.auth_token, sender)
            # "@" arrives as "¡" from some SMS carriers (GSM 03.38 mix-up), as in Rasa's channel.
            text = text.replace("¡", "@")
            out_channel = self.get_output_channel(form.get("To"), sender)
            message = UserMessage(text, out_channel, sender_id, input_channel=self.name())
            await deliver(request.app, on_new_message, message, typed_choices="numbers")
            return response.text(EMPTY_TWIML, content_type="text/xml")

        return twilio_webhook
