"""Rasa's socket.io channel (the web chat widget), hardened: same path, events and settings.

Registered in credentials.yml as ``bot.channels.socketio.SocketIOChannel`` instead of
``socketio``, with the same settings (``user_message_evt``, ``bot_message_evt``,
``session_persistence``, ``metadata_key``, ``socketio_path``, ``namespace``, ``jwt_key``).
Why not Rasa 3.6's channel as is: it hands the text to Rasa unchecked (a 100 KB message holds
the event loop for every user, ``/restart`` wipes the conversation); a ``user_uttered`` payload
that is not an object, a ``customData`` text that is not JSON or an error inside Rasa raises in
python-socketio's handler and the user gets nothing; and any web page may connect, whatever
``--cors`` says: it switches engineio's origin check off (so that Sanic-CORS's headers are not
sent twice) and browsers do not apply CORS to WebSockets. Here:

- every message goes through the input guard all channels share (bot/channels/guard.py);
- a browser's connection is refused unless its ``Origin`` is one the server's CORS settings
  allow (``--cors``, i.e. ``KOTOBOT_CORS_ORIGINS``); clients that send no ``Origin`` (apps,
  scripts) are not browsers and are let in, as CORS would;
- session ids are checked like REST senders, and malformed payloads are answered or ignored,
  never raised.
"""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any

from rasa.core.channels.channel import UserMessage, decode_bearer_token
from rasa.core.channels.socketio import SocketBlueprint, SocketIOInput, SocketIOOutput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from sanic_cors.core import get_cors_origins, try_match
from socketio import AsyncServer

from bot.channels.guard import OnNewMessage, deliver, valid_metadata, valid_sender
from bot.logging_filter import install as install_log_redaction

logger = logging.getLogger(__name__)


def origin_allowed(app: Any, path: str, origin: str | None) -> bool:
    """Whether the server's CORS settings (Sanic-CORS, configured by Rasa's ``--cors``) allow
    a page from ``origin`` on ``path``. No ``Origin`` header: not a browser, nothing to decide.
    """
    if not origin:
        return True
    resources = getattr(getattr(getattr(app, "ctx", None), "sanic_cors", None), "resources", None)
    if resources is None:  # fail closed: a web chat that does not connect is noticed at once
        logger.error("socketio: the CORS settings cannot be read; refusing %s", origin)
        return False
    for pattern, options in resources:
        if try_match(path, pattern):
            return get_cors_origins(options, origin) is not None
    return False


def metadata_of(data: dict[str, Any], key: str) -> dict[str, Any] | None:
    """The widget's metadata (``customData``): an object, or a JSON text of one."""
    value = data.get(key)
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except (ValueError, RecursionError):
            return None
    return valid_metadata(value)


class SocketIOChannel(SocketIOInput):
    """Drop-in replacement for Rasa's ``socketio`` channel that guards what users send."""

    @classmethod
    def name(cls) -> str:
        return "socketio"  # keeps /webhooks/socketio/ and input_channel "socketio"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> SocketIOInput:
        install_log_redaction()
        return super().from_credentials(credentials)

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        # As Rasa's: engineio's own CORS handling off, Sanic-CORS answers the polling requests.
        sio = AsyncServer(async_mode="sanic", cors_allowed_origins=[])
        socketio_webhook = SocketBlueprint(sio, self.socketio_path, "socketio_webhook", __name__)
        self.sio = sio
        self._app: Any = None

        @socketio_webhook.listener("before_server_start")
        async def remember_app(app: Any, _: Any) -> None:
            self._app = app  # where the agent and the CORS settings will be

        @socketio_webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @sio.on("connect", namespace=self.namespace)
        async def connect(sid: str, environ: dict[str, Any], auth: Any = None) -> bool:
            origin = environ.get("HTTP_ORIGIN")
            if not origin_allowed(self._app, self.socketio_path or "/socket.io", origin):
                logger.warning("socketio: connection from origin %s refused (CORS)", origin)
                return False
            if self.jwt_key:  # Rasa's option: a token signed with jwt_key in ``auth``
                token = auth.get("token") if isinstance(auth, dict) else None
                if not token or not decode_bearer_token(token, self.jwt_key, self.jwt_algorithm):
                    return False
            return True

        @sio.on("session_request", namespace=self.namespace)
        async def session_request(sid: str, data: Any = None) -> None:
            given = data.get("session_id") if isinstance(data, dict) else None
            session_id = valid_sender(given) or uuid.uuid4().hex
            if self.session_persistence:
                sio.enter_room(sid, session_id, namespace=self.namespace)
            await sio.emit("session_confirm", session_id, room=sid, namespace=self.namespace)

        @sio.on(self.user_message_evt, namespace=self.namespace)
        async def handle_message(sid: str, data: Any = None) -> None:
            data = data if isinstance(data, dict) else {}
            if self.session_persistence:
                sender = valid_sender(data.get("session_id"))
                if sender is None:  # as Rasa: the widget always sends its session id
                    logger.warning("socketio: a message without a valid session_id was ignored")
                    return
            else:
                sender = sid
            text = data.get("message")
            message = UserMessage(
                text if isinstance(text, str) else "",  # anything else is answered as empty
                SocketIOOutput(sio, self.bot_message_evt),
                sender,
                input_channel=self.name(),
                metadata=metadata_of(data, self.metadata_key or "metadata"),
            )
            await deliver(self._app, on_new_message, message)

        return socketio_webhook
