"""Telegram: Rasa's Telegram channel, configured from environment variables.

Why not Rasa 3.6's channel as is: it calls ``setWebhook`` while the server is being built and
stops the assistant when Telegram cannot be reached; it accepts updates from anyone (it only
compares ``getMe``'s username, one API call per message); it sends every paragraph as its own
message and puts all buttons on one row. Here ``setWebhook`` runs in the background after
start-up (a failure is logged), updates must carry Telegram's secret-token header, buttons are an
inline keyboard (one per row) and the user's Telegram ``language_code`` goes to the assistant as
metadata ``{"language": "xx"}``.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from aiogram.bot.api import TelegramAPIServer
from aiogram.types import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
)
from aiogram.utils.exceptions import ValidationError
from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.core.channels.telegram import TelegramInput as RasaTelegramInput
from rasa.core.channels.telegram import TelegramOutput as RasaTelegramOutput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.server.channels.base import (
    API_TIMEOUT,
    Settings,
    language_metadata,
    not_configured_blueprint,
    read_settings,
    secrets_match,
)
from bot.server.channels.formatting import Button, markdown_to_plain, split_message
from bot.server.channels.guard import deliver

logger = logging.getLogger(__name__)

TOKEN = "TELEGRAM_BOT_TOKEN"
SECRET = "TELEGRAM_WEBHOOK_SECRET"
WEBHOOK_URL = "TELEGRAM_WEBHOOK_URL"
API_URL = "TELEGRAM_API_URL"
DEFAULT_API_URL = "https://api.telegram.org"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_TEXT = 4096
MAX_CALLBACK_DATA = 64  # bytes
UPDATES = ["message", "edited_message", "callback_query"]
# Telegram's own commands, as the assistant's intents.
COMMANDS = {"/start": "/greet", "/help": "/help"}


class TelegramOutput(RasaTelegramOutput):
    """Sends through the Bot API at ``TELEGRAM_API_URL`` (a local Bot API server, or a test)."""

    def __init__(self, access_token: str, api_url: str = DEFAULT_API_URL) -> None:
        super().__init__(access_token)
        self.server = TelegramAPIServer.from_base(api_url)
        self.timeout = API_TIMEOUT

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        for part in split_message(markdown_to_plain(text), MAX_TEXT):
            await self.send_message(recipient_id, part)

    async def send_text_with_buttons(
        self,
        recipient_id: str,
        text: str,
        buttons: list[dict[str, Any]],
        button_type: str | None = None,
        **kwargs: Any,
    ) -> None:
        """Text, then a keyboard under its last part."""
        parts = split_message(markdown_to_plain(text or ""), MAX_TEXT) or ["…"]
        for part in parts[:-1]:
            await self.send_message(recipient_id, part)
        await self.send_message(recipient_id, parts[-1], reply_markup=keyboard(buttons))


def keyboard(buttons: Sequence[Button]) -> InlineKeyboardMarkup | ReplyKeyboardMarkup:
    """An inline keyboard whose taps send the payload; a reply keyboard (taps send the title,
    which the connector maps back to the payload) when a payload is too long for Telegram."""
    if all(len(str(b.get("payload", "")).encode("utf-8")) <= MAX_CALLBACK_DATA for b in buttons):
        inline = InlineKeyboardMarkup(row_width=1)
        for button in buttons:
            inline.row(
                InlineKeyboardButton(str(button["title"]), callback_data=str(button["payload"]))
            )
        return inline
    reply = ReplyKeyboardMarkup(resize_keyboard=True, one_time_keyboard=True)
    for button in buttons:
        reply.row(KeyboardButton(str(button["title"])))
    return reply


def parse_update(update: Any) -> tuple[str, str, str | None, str | None] | None:
    """(chat id, text, user's language_code, callback query id) of an Update, if it has text."""
    if not isinstance(update, dict):
        return None
    callback = update.get("callback_query")
    if isinstance(callback, dict):
        chat = ((callback.get("message") or {}).get("chat") or {}).get("id")
        text = callback.get("data")
        user = callback.get("from") or {}
        callback_id = callback.get("id")
    else:
        message = update.get("message") or update.get("edited_message")
        if not isinstance(message, dict):
            return None
        chat = (message.get("chat") or {}).get("id")
        text = message.get("text")
        user = message.get("from") or {}
        callback_id = None
    if chat is None or not isinstance(text, str) or not text:
        return None
    return str(chat), command_to_intent(text), user.get("language_code"), callback_id


def command_to_intent(text: str) -> str:
    """``/start`` (sent when a user opens the bot) -> ``/greet``; ``/start@Bot arg`` too."""
    command = text.strip().split(maxsplit=1)[0].split("@")[0] if text.startswith("/") else ""
    return COMMANDS.get(command, text)


class TelegramInput(RasaTelegramInput):
    """``TELEGRAM_BOT_TOKEN`` and ``TELEGRAM_WEBHOOK_SECRET`` switch it on (docs/channels.md)."""

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        return cls(read_settings("telegram", (TOKEN, SECRET), (WEBHOOK_URL, API_URL)))

    def __init__(self, settings: Settings) -> None:
        super().__init__(
            settings.get(TOKEN), verify=None, webhook_url=settings.get(WEBHOOK_URL),
            debug_mode=False,
        )  # fmt: skip
        self.settings = settings
        self.api_url = settings.get(API_URL, DEFAULT_API_URL) or DEFAULT_API_URL

    def get_output_channel(self) -> TelegramOutput:
        """No ``setWebhook`` here (Rasa's does it, and fails the start-up when offline)."""
        return TelegramOutput(self.settings.require(TOKEN), self.api_url)

    async def register_webhook(self, out_channel: TelegramOutput) -> bool:
        """Tells Telegram where to post updates, with the secret it must send back.

        Any failure (no network, wrong token, Telegram down) is logged: the assistant and its
        other channels keep running, and the next start-up tries again.
        """
        if not self.webhook_url:
            logger.info("telegram: %s not set, setWebhook not called", WEBHOOK_URL)
            return False
        data = {
            "url": self.webhook_url,
            "secret_token": self.settings.require(SECRET),
            "allowed_updates": json.dumps(UPDATES),
        }
        try:
            await asyncio.wait_for(out_channel.request("setWebhook", data), API_TIMEOUT)
        except Exception as error:  # whatever went wrong, keep the bot up
            reason = str(error).replace(self.settings.require(TOKEN), "<token>")  # URLs hold it
            logger.warning(
                "telegram: setWebhook failed (%s: %s); the assistant runs, but Telegram will "
                "not deliver messages until the webhook is set",
                type(error).__name__, reason,
            )  # fmt: skip
            return False
        logger.info("telegram: webhook set to %s", self.webhook_url)
        return True

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        if not self.settings.configured:
            return not_configured_blueprint(self.settings)
        secret = self.settings.require(SECRET)
        try:
            out_channel = self.get_output_channel()
        except ValidationError:
            logger.error("telegram: %s is not a bot token (digits:letters), connector off", TOKEN)
            return not_configured_blueprint(Settings(self.name(), {}, (TOKEN,)))
        telegram_webhook = Blueprint("kotobot_telegram_webhook", __name__)

        @telegram_webhook.listener("after_server_start")
        async def set_webhook(app: Any, _: Any) -> None:
            app.add_task(self.register_webhook(out_channel))

        @telegram_webhook.listener("before_server_stop")
        async def close_session(_: Any, __: Any) -> None:
            session = getattr(out_channel, "_session", None)  # aiogram creates it lazily
            if session is not None:
                await session.close()

        @telegram_webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @telegram_webhook.route("/webhook", methods=["POST"])
        async def webhook(request: Request) -> HTTPResponse:
            if not secrets_match(request.headers.get(SECRET_HEADER), secret):
                return response.json({"error": "wrong or missing secret token"}, status=403)
            try:
                parsed = parse_update(request.json)
            except Exception:  # not JSON
                return response.json({"error": "not a Telegram update"}, status=400)
            if parsed is None:
                return response.text("ignored")  # stickers, photos, joins...
            sender_id, text, language_code, callback_id = parsed
            if callback_id:
                await self._answer_callback(out_channel, callback_id)
            message = UserMessage(
                text, out_channel, sender_id, input_channel=self.name(),
                metadata=language_metadata(language_code),
            )  # fmt: skip
            # Never raises: Telegram would re-send the same update again and again.
            await deliver(request.app, on_new_message, message, typed_choices="titles")
            return response.text("success")

        return telegram_webhook

    @staticmethod
    async def _answer_callback(out_channel: TelegramOutput, callback_id: str) -> None:
        """Stops the spinner on the tapped button."""
        try:
            await out_channel.answer_callback_query(callback_id)
        except Exception as error:  # cosmetic: never worth losing the message
            logger.info("telegram: answerCallbackQuery failed: %s", error)
