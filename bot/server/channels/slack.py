"""Slack: Rasa's Slack channel, configured from environment variables.

Rasa 3.6's channel already verifies Slack's signature (``X-Slack-Signature`` v0, timestamp within
five minutes) but answers 400, drops all buttons above five (Slack allows 25 in a block) and
converts no Markdown. Here a bad signature gets 401, buttons are Block Kit buttons (several
blocks if needed), ``**bold**`` becomes Slack's ``*bold*``, ``SLACK_API_URL`` can point the Web
API elsewhere, and a typed option number or title maps to the button's payload. Slack events
carry no user locale: detection decides the language.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from http import HTTPStatus
from typing import Any

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.core.channels.slack import SlackBot
from rasa.core.channels.slack import SlackInput as RasaSlackInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from slack_sdk.web.async_client import AsyncWebClient

from bot.server.channels.base import (
    API_TIMEOUT,
    Settings,
    not_configured_blueprint,
    read_settings,
)
from bot.server.channels.formatting import Button, markdown_to_single_star, split_message
from bot.server.channels.guard import deliver

logger = logging.getLogger(__name__)

BOT_TOKEN = "SLACK_BOT_TOKEN"
SIGNING_SECRET = "SLACK_SIGNING_SECRET"
CHANNEL = "SLACK_CHANNEL"
API_URL = "SLACK_API_URL"
MAX_TEXT = 3000  # a section block's text
MAX_BUTTONS_PER_BLOCK = 25
MAX_BUTTON_TEXT = 75


class SlackOutput(SlackBot):
    """Posts with ``chat.postMessage`` at ``SLACK_API_URL`` (default Slack's), with a timeout."""

    def __init__(
        self,
        token: str,
        slack_channel: str | None = None,
        thread_id: str | None = None,
        proxy: str | None = None,
        api_url: str | None = None,
    ) -> None:
        super().__init__(token, slack_channel, thread_id, proxy)
        options: dict[str, Any] = {"proxy": proxy, "timeout": int(API_TIMEOUT)}
        if api_url:
            options["base_url"] = api_url.rstrip("/") + "/"
        self.client = AsyncWebClient(token, **options)

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        recipient = self.slack_channel or recipient_id
        for part in split_message(markdown_to_single_star(text), MAX_TEXT):
            await self._post_message(channel=recipient, text=part, mrkdwn=True)

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        """The last part of the text as a section, then the buttons, 25 to an actions block."""
        recipient = self.slack_channel or recipient_id
        parts = split_message(markdown_to_single_star(text or ""), MAX_TEXT) or ["…"]
        for part in parts[:-1]:
            await self._post_message(channel=recipient, text=part, mrkdwn=True)
        section = {"type": "section", "text": {"type": "mrkdwn", "text": parts[-1]}}
        await self._post_message(
            channel=recipient, text=parts[-1], blocks=[section, *button_blocks(buttons)]
        )


def button_blocks(buttons: Sequence[Button]) -> list[dict[str, Any]]:
    elements = [
        {
            "type": "button",
            "action_id": f"choice_{number}",
            "text": {"type": "plain_text", "text": str(button["title"])[:MAX_BUTTON_TEXT]},
            "value": str(button["payload"]),
        }
        for number, button in enumerate(buttons, 1)
    ]
    return [
        {"type": "actions", "elements": elements[start : start + MAX_BUTTONS_PER_BLOCK]}
        for start in range(0, len(elements), MAX_BUTTONS_PER_BLOCK)
    ]


class SlackInput(RasaSlackInput):
    """``SLACK_BOT_TOKEN`` and ``SLACK_SIGNING_SECRET`` switch it on (docs/channels.md)."""

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        return cls(read_settings("slack", (BOT_TOKEN, SIGNING_SECRET), (CHANNEL, API_URL)))

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._app: Any = None
        if settings.configured:  # Rasa's constructor refuses a missing signing secret
            super().__init__(
                settings.require(BOT_TOKEN),
                slack_channel=settings.get(CHANNEL),
                slack_retry_reason_header="x-slack-retry-reason",
                slack_retry_number_header="x-slack-retry-num",
                slack_signing_secret=settings.require(SIGNING_SECRET),
            )

    def get_output_channel(
        self, channel: str | None = None, thread_id: str | None = None
    ) -> OutputChannel:
        return SlackOutput(
            self.slack_token,
            channel or self.slack_channel,
            thread_id,
            self.proxy,
            self.settings.get(API_URL),
        )

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """Rasa's routes (events, button clicks, url_verification) behind a 401 signature check."""
        if not self.settings.configured:
            return not_configured_blueprint(self.settings)

        async def guarded(message: UserMessage) -> None:
            await deliver(self._app, on_new_message, message, typed_choices="titles")

        slack_webhook = super().blueprint(guarded)

        @slack_webhook.listener("before_server_start")
        async def remember_app(app: Any, _: Any) -> None:
            self._app = app  # where the agent (and its tracker store) will be

        @slack_webhook.middleware("request")
        async def authenticate(request: Request) -> HTTPResponse | None:
            if request.path.rstrip("/").endswith("/webhook") and not (
                self.is_request_from_slack_authentic(request)
            ):
                return response.json(
                    {"error": "wrong, missing or stale X-Slack-Signature"},
                    status=HTTPStatus.UNAUTHORIZED,
                )
            return None

        return slack_webhook
