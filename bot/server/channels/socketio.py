"""Rasa's socket.io channel (the web chat widget), hardened: same path, events and settings.

Registered in credentials.yml as ``bot.server.channels.socketio.SocketIOChannel`` instead of
``socketio``, with the same settings (``user_message_evt``, ``bot_message_evt``,
``session_persistence``, ``metadata_key``, ``socketio_path``, ``namespace``, ``jwt_key``).
Why not Rasa 3.6's channel as is: it hands the text to Rasa unchecked (a 100 KB message holds
the event loop for every user, ``/restart`` wipes the conversation); a ``user_uttered`` payload
that is not an object, a ``customData`` text that is not JSON or an error inside Rasa raises in
python-socketio's handler and the user gets nothing; and any web page may connect, whatever
``--cors`` says: it switches engineio's origin check off (so that Sanic-CORS's headers are not
sent twice) and browsers do not apply CORS to WebSockets. Here:

- every message goes through the input guard all channels share (bot/server/channels/guard.py);
- a browser's connection is refused unless its ``Origin`` is one the server's CORS settings
  allow (``--cors``, i.e. ``KOTOBOT_CORS_ORIGINS``); clients that send no ``Origin`` (apps,
  scripts) are not browsers and are let in, as CORS would;
- session ids are checked like REST senders, and malformed payloads are answered or ignored,
  never raised;
- a turn's messages (Rasa's ``bot_uttered`` events, same shape: ``text`` split at blank lines,
  ``quick_replies`` on the last part) are held until the turn is over and then sent together,
  each with ``metadata``: ``language`` and ``dir`` (the conversation's language after the turn,
  i.e. the language the reply is in, so the page need not guess it), ``reply_to`` (the
  ``message_id`` the page gave its ``user_uttered``, if any), ``turn`` (an id of the turn) and
  ``last`` (true on the turn's last message). The web page (web/app.js) makes one card of them
  and follows the language.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from typing import Any

from rasa.core.channels.channel import UserMessage, decode_bearer_token
from rasa.core.channels.socketio import SocketBlueprint, SocketIOInput, SocketIOOutput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from sanic_cors.core import get_cors_origins, try_match
from socketio import AsyncServer

from bot.core.locales import get_locale
from bot.server.channels.guard import (
    OnNewMessage,
    deliver,
    reply_language,
    valid_metadata,
    valid_sender,
)

logger = logging.getLogger(__name__)

# The page's id for a message (echoed as ``metadata.reply_to``): short, no markup, nothing personal.
_MESSAGE_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


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


def message_id_of(data: dict[str, Any]) -> str | None:
    value = data.get("message_id")
    return value if isinstance(value, str) and _MESSAGE_ID.fullmatch(value) else None


class TurnOutput(SocketIOOutput):
    """Rasa's socket.io output channel, holding the messages of one turn until :meth:`flush`.

    Rasa's output channel does not know the conversation (only its id), so the language of a
    reply is read once the turn is over, from the conversation's ``language`` slot, the way the
    input guard picks the language of its own replies
    (:func:`bot.server.channels.guard.reply_language`).
    ``send_custom_json`` (not used by Kotobot) is passed through unchanged, without metadata.
    """

    def __init__(self, sio: AsyncServer, bot_message_evt: str) -> None:
        super().__init__(sio, bot_message_evt)
        self.held: list[tuple[str, dict[str, Any]]] = []

    async def _send_message(self, socket_id: str, response: Any) -> None:
        self.held.append((socket_id, response))

    async def flush(self, language: str, reply_to: str | None) -> None:
        held, self.held = self.held, []
        direction = get_locale(language).direction
        turn = uuid.uuid4().hex[:16]
        for index, (room, message) in enumerate(held):
            metadata = {"language": language, "dir": direction, "reply_to": reply_to, "turn": turn}
            message = {**message, "metadata": {**metadata, "last": index == len(held) - 1}}
            try:
                await self.sio.emit(self.bot_message_evt, message, room=room)
            except Exception:  # the user may be gone: nothing to raise to
                logger.exception("socketio: could not send a reply")


class SocketIOChannel(SocketIOInput):
    """Drop-in replacement for Rasa's ``socketio`` channel that guards what users send."""

    @classmethod
    def name(cls) -> str:
        return "socketio"  # keeps /webhooks/socketio/ and input_channel "socketio"

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
            output = TurnOutput(sio, self.bot_message_evt)
            metadata = metadata_of(data, self.metadata_key or "metadata")
            message = UserMessage(
                text if isinstance(text, str) else "",  # anything else is answered as empty
                output,
                sender,
                input_channel=self.name(),
                metadata=metadata,
            )
            try:
                await deliver(self._app, on_new_message, message)
            finally:  # whatever happened, what was said reaches the user
                language = await reply_language(self._app, sender, metadata)
                await output.flush(language, message_id_of(data))

        return socketio_webhook
