"""Microsoft Bot Framework (Teams): Rasa's channel, configured from environment variables.

Why not Rasa 3.6's channel as is: its constructor downloads Microsoft's token-signing keys, so
the assistant does not start without network; it accepts whatever algorithm a token's header
names and does not check the issuer, the ``serviceUrl`` claim or the key's channel
endorsements; its hero-card buttons are Rasa button dicts, which Teams does not understand; and
it calls Microsoft with blocking ``requests`` without timeouts. Here the keys are fetched when
the first activity arrives (503 while they cannot be), tokens are checked as Microsoft's
"Authenticate requests from the Bot Connector service" asks (RS256, issuer, audience = app id,
expiry, ``serviceUrl`` claim, endorsements), buttons are ``messageBack`` buttons on hero cards of
up to six, and the activity's ``locale`` goes to the assistant as ``{"language": "xx"}``.
"""

from __future__ import annotations

import asyncio
import datetime
import logging
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from http import HTTPStatus
from typing import Any, ClassVar

import jwt
import requests
from jwt.algorithms import RSAAlgorithm
from rasa.core.channels.botframework import MICROSOFT_OPEN_ID_URI, BotFramework
from rasa.core.channels.botframework import BotFrameworkInput as RasaBotFrameworkInput
from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.server.channels.base import (
    API_TIMEOUT,
    Settings,
    language_metadata,
    not_configured_blueprint,
    read_settings,
)
from bot.server.channels.formatting import Button
from bot.server.channels.guard import deliver

logger = logging.getLogger(__name__)

APP_ID = "BOTFRAMEWORK_APP_ID"
APP_PASSWORD = "BOTFRAMEWORK_APP_PASSWORD"
TENANT_ID = "BOTFRAMEWORK_TENANT_ID"
OPENID_URL = "BOTFRAMEWORK_OPENID_URL"
LOGIN_URL = "BOTFRAMEWORK_LOGIN_URL"
DEFAULT_TENANT = "botframework.com"  # multi-tenant bots; single-tenant bots set their tenant
DEFAULT_LOGIN_URL = "https://login.microsoftonline.com"
TOKEN_SCOPE = "https://api.botframework.com/.default"
ISSUER = "https://api.botframework.com"
CLOCK_SKEW = 300  # seconds, as Microsoft recommends
KEYS_MAX_AGE = datetime.timedelta(days=1)
KEYS_RETRY_AFTER = datetime.timedelta(minutes=5)  # an unknown key id: keys may have rotated
MAX_CARD_BUTTONS = 6
_MENTION = re.compile(r"<at>.*?</at>", re.DOTALL)
_BEARER = re.compile(r"^Bearer\s+(\S+)$")


class AuthError(Exception):
    """A request the connector refuses: the HTTP status and a short reason."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


class BotFrameworkOutput(BotFramework):
    """Replies to the activity's ``serviceUrl`` with a token from ``BOTFRAMEWORK_LOGIN_URL``."""

    # (token URL, app id) -> (expiry on the monotonic clock, access token)
    _tokens: ClassVar[dict[tuple[str, str], tuple[float, str]]] = {}

    def __init__(
        self,
        app_id: str,
        app_password: str,
        conversation: dict[str, Any],
        bot: Any,
        service_url: str,
        token_url: str,
    ) -> None:
        super().__init__(app_id, app_password, conversation, bot, service_url)
        self.token_url = token_url

    async def _get_headers(self) -> dict[str, Any] | None:
        key = (self.token_url, self.app_id)
        cached = self._tokens.get(key)
        if cached is None or cached[0] < time.monotonic() + 60:
            payload = {
                "grant_type": "client_credentials",
                "client_id": self.app_id,
                "client_secret": self.app_password,
                "scope": TOKEN_SCOPE,
            }
            try:
                answer = await asyncio.to_thread(
                    requests.post, self.token_url, data=payload, timeout=API_TIMEOUT
                )
                answer.raise_for_status()
                token = answer.json()
                cached = (time.monotonic() + int(token["expires_in"]), token["access_token"])
            except (requests.RequestException, KeyError, ValueError) as error:
                logger.error("botframework: could not get a token: %s", error)
                return None
            self._tokens[key] = cached
        return {"content-type": "application/json", "Authorization": f"Bearer {cached[1]}"}

    async def send(self, message_data: dict[str, Any]) -> None:
        headers = await self._get_headers()
        if headers is None:
            return
        url = f"{self.global_uri}conversations/{self.conversation['id']}/activities"
        try:
            answer = await asyncio.to_thread(
                requests.post, url, headers=headers, json=message_data, timeout=API_TIMEOUT
            )
        except requests.RequestException as error:
            logger.error("botframework: sending failed: %s", error)
            return
        if not answer.ok:
            logger.error("botframework: sending failed: %s %s", answer.status_code, answer.text)

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        """One activity (Teams shows Markdown; Rasa sent every paragraph apart)."""
        await self.send(self.prepare_message(recipient_id, markdown_message(text)))

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        message = {**markdown_message(text or ""), "attachments": hero_cards(buttons)}
        await self.send(self.prepare_message(recipient_id, message))


def markdown_message(text: str) -> dict[str, Any]:
    return {"text": text, "textFormat": "markdown"}


def hero_cards(buttons: Sequence[Button]) -> list[dict[str, Any]]:
    """``messageBack`` buttons: a tap sends the payload and shows the title in the chat."""
    actions = [
        {
            "type": "messageBack",
            "title": str(button["title"]),
            "text": str(button["payload"]),
            "displayText": str(button["title"]),
        }
        for button in buttons
    ]
    return [
        {
            "contentType": "application/vnd.microsoft.card.hero",
            "content": {"buttons": actions[start : start + MAX_CARD_BUTTONS]},
        }
        for start in range(0, len(actions), MAX_CARD_BUTTONS)
    ]


class BotFrameworkInput(RasaBotFrameworkInput):
    """``BOTFRAMEWORK_APP_ID`` and ``BOTFRAMEWORK_APP_PASSWORD`` switch it on (docs/channels.md)."""

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        return cls(
            read_settings(
                "botframework", (APP_ID, APP_PASSWORD), (TENANT_ID, OPENID_URL, LOGIN_URL)
            )
        )

    def __init__(self, settings: Settings) -> None:
        # Not Rasa's constructor: it downloads the signing keys and fails without network.
        self.settings = settings
        self.app_id = settings.get(APP_ID)
        self.app_password = settings.get(APP_PASSWORD)
        self.openid_url = settings.get(OPENID_URL) or MICROSOFT_OPEN_ID_URI
        login_url = (settings.get(LOGIN_URL) or DEFAULT_LOGIN_URL).rstrip("/")
        tenant = settings.get(TENANT_ID) or DEFAULT_TENANT
        self.token_url = f"{login_url}/{tenant}/oauth2/v2.0/token"
        self.jwt_keys: dict[str, Any] = {}
        self.jwt_update_time = datetime.datetime.fromtimestamp(0)
        self._keys_lock = asyncio.Lock()

    def _update_cached_jwk_keys(self) -> None:
        """Microsoft's OpenID metadata, then its key set (blocking: run in a thread)."""
        config = requests.get(self.openid_url, timeout=API_TIMEOUT)
        config.raise_for_status()
        keys = requests.get(config.json()["jwks_uri"], timeout=API_TIMEOUT)
        keys.raise_for_status()
        self.jwt_keys = {key["kid"]: key for key in keys.json()["keys"]}
        self.jwt_update_time = datetime.datetime.now()

    async def signing_key(self, key_id: str) -> dict[str, Any] | None:
        """The key, refreshed daily, or sooner when an unknown key id shows up."""
        async with self._keys_lock:
            age = datetime.datetime.now() - self.jwt_update_time
            if age > KEYS_MAX_AGE or (key_id not in self.jwt_keys and age > KEYS_RETRY_AFTER):
                try:
                    await asyncio.to_thread(self._update_cached_jwk_keys)
                except (requests.RequestException, KeyError, ValueError) as error:
                    logger.warning("botframework: could not fetch the signing keys: %s", error)
                    if not self.jwt_keys:
                        raise AuthError(
                            HTTPStatus.SERVICE_UNAVAILABLE, "signing keys unavailable"
                        ) from error
        return self.jwt_keys.get(key_id)

    async def authenticate(self, authorization: str | None, activity: dict[str, Any]) -> None:
        """Raises :class:`AuthError` unless the Bot Connector's token is valid for ``activity``."""
        match = _BEARER.match(authorization or "")
        if not match:
            raise AuthError(HTTPStatus.UNAUTHORIZED, "no Bearer token")
        token = match.group(1)
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as error:
            raise AuthError(HTTPStatus.UNAUTHORIZED, "malformed token") from error
        if header.get("alg") != "RS256":
            raise AuthError(HTTPStatus.UNAUTHORIZED, "token not signed with RS256")
        key = await self.signing_key(str(header.get("kid")))
        if key is None:
            raise AuthError(HTTPStatus.UNAUTHORIZED, "unknown signing key")
        endorsements = key.get("endorsements")
        if endorsements is not None and activity.get("channelId") not in endorsements:
            raise AuthError(HTTPStatus.UNAUTHORIZED, "key not endorsed for this channel")
        try:
            claims = jwt.decode(
                token,
                key=RSAAlgorithm.from_jwk(key),
                algorithms=["RS256"],
                audience=self.app_id,
                issuer=ISSUER,
                leeway=CLOCK_SKEW,
                options={"require": ["exp", "iss", "aud"]},
            )
        except jwt.PyJWTError as error:
            raise AuthError(HTTPStatus.UNAUTHORIZED, f"invalid token: {error}") from error
        if claims.get("serviceUrl") != activity.get("serviceUrl"):
            raise AuthError(HTTPStatus.UNAUTHORIZED, "serviceUrl claim does not match")

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        if not self.settings.configured:
            return not_configured_blueprint(self.settings)
        botframework_webhook = Blueprint("kotobot_botframework_webhook", __name__)

        @botframework_webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @botframework_webhook.route("/webhook", methods=["POST"])
        async def webhook(request: Request) -> HTTPResponse:
            try:
                activity = request.json
            except Exception:  # not JSON
                activity = None
            if not isinstance(activity, dict):
                return response.json({"error": "not an activity"}, status=400)
            try:
                await self.authenticate(request.headers.get("Authorization"), activity)
            except AuthError as error:
                logger.warning("botframework: request refused: %s", error)
                return response.json({"error": str(error)}, status=error.status)
            if activity.get("type") != "message":
                return response.text("success")  # conversationUpdate, typing, ...
            raw_text = activity.get("text")
            sender = (activity.get("from") or {}).get("id")
            if not isinstance(raw_text, str) or not raw_text or not sender:
                return response.text("success")  # attachments without text
            if not activity.get("serviceUrl"):
                return response.text("success")
            text = _MENTION.sub("", raw_text)  # "@Kotobot" alone is answered as empty
            out_channel = BotFrameworkOutput(
                self.app_id, self.app_password, activity.get("conversation") or {},
                activity.get("recipient"), activity["serviceUrl"], self.token_url,
            )  # fmt: skip
            message = UserMessage(
                text, out_channel, sender, input_channel=self.name(),
                metadata=language_metadata(activity.get("locale")),
            )  # fmt: skip
            await deliver(request.app, on_new_message, message, typed_choices="titles")
            return response.text("success")

        return botframework_webhook
