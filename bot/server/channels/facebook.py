"""Facebook Messenger: Rasa's Messenger channel, configured from environment variables.

Why not Rasa 3.6's channel as is: it answers 200 "not validated" to a badly signed event (the
sender never learns it was refused), checks only the SHA-1 ``X-Hub-Signature`` (Meta also sends
``X-Hub-Signature-256``), handles only the first event of a batch, and calls the Graph API with
blocking ``requests`` without a timeout. Here bad signatures get 403, SHA-256 is preferred,
every event is handled, the API calls run in a thread with a timeout, buttons become quick
replies (numbered options above Messenger's 13), and ``FACEBOOK_GRAPH_URL`` can point the API
elsewhere. Messenger events carry no user locale: detection decides the language.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import requests
from fbmessenger import MessengerClient
from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.core.channels.facebook import FacebookInput as RasaFacebookInput
from rasa.core.channels.facebook import Messenger, MessengerBot
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.server.channels.base import (
    API_TIMEOUT,
    Settings,
    not_configured_blueprint,
    read_settings,
    secrets_match,
)
from bot.server.channels.formatting import markdown_to_plain, numbered_options, split_message
from bot.server.channels.guard import deliver

logger = logging.getLogger(__name__)

VERIFY_TOKEN = "FACEBOOK_VERIFY_TOKEN"
APP_SECRET = "FACEBOOK_APP_SECRET"
PAGE_ACCESS_TOKEN = "FACEBOOK_PAGE_ACCESS_TOKEN"
GRAPH_URL = "FACEBOOK_GRAPH_URL"
MAX_TEXT = 2000
MAX_QUICK_REPLIES = 13
MAX_QUICK_REPLY_TITLE = 20


class _TimeoutSession(requests.Session):
    """fbmessenger passes ``timeout=None``: give every Graph API call a timeout."""

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> Any:
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = API_TIMEOUT
        return super().request(method, url, *args, **kwargs)


def messenger_client(page_access_token: str, graph_url: str | None) -> MessengerClient:
    client = MessengerClient(page_access_token, session=_TimeoutSession())
    if graph_url:
        client.graph_url = graph_url.rstrip("/")
    return client


def signature_is_valid(app_secret: str, body: bytes, headers: Any) -> bool:
    """``X-Hub-Signature-256`` (sha256=...) if present, else ``X-Hub-Signature`` (sha1=...)."""
    for header, algorithm in (("X-Hub-Signature-256", "sha256"), ("X-Hub-Signature", "sha1")):
        value = headers.get(header)
        if value:
            prefix = f"{algorithm}="
            if not value.startswith(prefix):
                return False
            expected = hmac.new(app_secret.encode("utf-8"), body, algorithm).hexdigest()
            return hmac.compare_digest(value[len(prefix) :], expected)
    return False


class FacebookOutput(MessengerBot):
    """Graph API calls off the event loop; long texts in one message; quick replies."""

    def __init__(self, messenger_client: MessengerClient) -> None:
        super().__init__(messenger_client)
        # One output channel per turn; quick replies count too, as typed numbers index all of
        # the turn's buttons (bot.server.channels.base.offered_buttons).
        self.options_sent = 0

    async def _call(self, function: Callable[..., Any], *args: Any) -> None:
        try:
            result = await asyncio.to_thread(function, *args)
        except requests.RequestException as error:
            logger.error("facebook: Graph API call failed: %s", error)
            return
        if isinstance(result, dict) and result.get("error"):
            logger.error("facebook: Graph API error: %s", result["error"].get("message"))

    async def _send(self, recipient_id: str, message: dict[str, Any]) -> None:
        await self._call(self.messenger_client.send, message, recipient_id, "RESPONSE")

    async def send_action(self, recipient_id: str, sender_action: str) -> None:
        await self._call(self.messenger_client.send_action, sender_action, recipient_id)

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        for part in split_message(markdown_to_plain(text), MAX_TEXT):
            await self._send(recipient_id, {"text": part})

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        """Quick replies under the last part; numbered options when there are too many."""
        start = self.options_sent + 1
        self.options_sent += len(buttons)
        if len(buttons) > MAX_QUICK_REPLIES:
            await self.send_text_message(recipient_id, numbered_options(text, buttons, start))
            return
        parts = split_message(markdown_to_plain(text or ""), MAX_TEXT) or ["…"]
        for part in parts[:-1]:
            await self._send(recipient_id, {"text": part})
        quick_replies = [
            {
                "content_type": "text",
                "title": shorten(str(button["title"]), MAX_QUICK_REPLY_TITLE),
                "payload": str(button["payload"]),
            }
            for button in buttons
        ]
        await self._send(recipient_id, {"text": parts[-1], "quick_replies": quick_replies})


def shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


class _Messenger(Messenger):
    """Rasa's event parsing (quick reply, text, postback), our output and every event."""

    def __init__(
        self,
        client: MessengerClient,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
        app: Any,
    ) -> None:
        self.on_new_message = on_new_message
        self.client = client
        self.app = app
        self.last_message: dict[str, Any] = {}

    async def handle(self, payload: dict, metadata: dict[str, Any] | None) -> None:
        for entry in payload.get("entry") or []:
            for message in entry.get("messaging") or []:
                self.last_message = message
                if message.get("message"):
                    if message["message"].get("is_echo") or message["message"].get("attachments"):
                        continue  # our own messages; photos and voice notes we cannot read
                    await self.message(message, metadata)
                elif message.get("postback"):
                    await self.postback(message, metadata)

    async def _handle_user_message(
        self, text: str, sender_id: str, metadata: dict[str, Any] | None
    ) -> None:
        out_channel = FacebookOutput(self.client)
        await out_channel.send_action(sender_id, "mark_seen")
        await out_channel.send_action(sender_id, "typing_on")
        message = UserMessage(
            text, out_channel, sender_id, input_channel=self.name(), metadata=metadata
        )
        await deliver(self.app, self.on_new_message, message, typed_choices="numbers")
        await out_channel.send_action(sender_id, "typing_off")


class FacebookInput(RasaFacebookInput):
    """``FACEBOOK_VERIFY_TOKEN``, ``FACEBOOK_APP_SECRET`` and ``FACEBOOK_PAGE_ACCESS_TOKEN``
    switch it on (docs/channels.md)."""

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        return cls(
            read_settings("facebook", (VERIFY_TOKEN, APP_SECRET, PAGE_ACCESS_TOKEN), (GRAPH_URL,))
        )

    def __init__(self, settings: Settings) -> None:
        super().__init__(
            settings.get(VERIFY_TOKEN), settings.get(APP_SECRET), settings.get(PAGE_ACCESS_TOKEN)
        )
        self.settings = settings

    def get_output_channel(self) -> FacebookOutput:
        return FacebookOutput(
            messenger_client(self.settings.require(PAGE_ACCESS_TOKEN), self.settings.get(GRAPH_URL))
        )

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        if not self.settings.configured:
            return not_configured_blueprint(self.settings)
        fb_webhook = Blueprint("kotobot_fb_webhook", __name__)

        @fb_webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @fb_webhook.route("/webhook", methods=["GET"])
        async def token_verification(request: Request) -> HTTPResponse:
            """Meta's subscription check: echo ``hub.challenge`` if the verify token matches."""
            if request.args.get("hub.mode") == "subscribe" and secrets_match(
                request.args.get("hub.verify_token"), self.fb_verify
            ):
                return response.text(request.args.get("hub.challenge") or "")
            return response.json({"error": "wrong verify token"}, status=403)

        @fb_webhook.route("/webhook", methods=["POST"])
        async def webhook(request: Request) -> HTTPResponse:
            if not signature_is_valid(self.fb_secret, request.body, request.headers):
                return response.json({"error": "wrong or missing X-Hub-Signature"}, status=403)
            try:
                payload = request.json
            except Exception:  # not JSON
                return response.json({"error": "not a Messenger event"}, status=400)
            if not isinstance(payload, dict):
                return response.json({"error": "not a Messenger event"}, status=400)
            client = messenger_client(self.fb_access_token, self.settings.get(GRAPH_URL))
            await _Messenger(client, on_new_message, request.app).handle(payload, None)
            return response.text("success")

        return fb_webhook
