"""A web-widget conversation over socket.io, with a real python-socketio client, for the tests.

It sends what rasa-webchat sends (``session_request``, then ``user_uttered`` with ``session_id``
and ``customData``) and collects the ``bot_uttered`` events. HTTP long-polling only, the
widget's first transport: engineio's WebSocket client needs a newer aiohttp than Rasa 3.6's.
WebSocket handshakes are tested raw with :func:`websocket_connect_packet`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import aiohttp
import socketio

TIMEOUT = 60.0


class SocketChat:
    """One conversation; use it inside ``asyncio.run``."""

    def __init__(self, base_url: str, origin: str | None = None) -> None:
        self.base_url = base_url
        self.headers = {"Origin": origin} if origin else {}
        self.client = socketio.AsyncClient(reconnection=False)
        self.replies: list[dict[str, Any]] = []
        self.session_id: str | None = None
        self._confirmed = asyncio.Event()
        self.client.on("session_confirm", self._on_confirm)
        self.client.on("bot_uttered", self._on_reply)

    async def _on_confirm(self, session_id: str) -> None:
        self.session_id = session_id
        self._confirmed.set()

    async def _on_reply(self, data: dict[str, Any]) -> None:
        self.replies.append(data)

    async def __aenter__(self) -> SocketChat:
        # A refused connection is only reported once ``wait_timeout`` is over: keep it short.
        await self.client.connect(
            self.base_url, headers=self.headers, transports=["polling"], wait_timeout=10
        )
        await self.client.emit("session_request", {"session_id": None})
        await asyncio.wait_for(self._confirmed.wait(), TIMEOUT)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.client.disconnect()

    async def send(self, data: Any) -> None:
        """A raw ``user_uttered`` payload, as a broken or hostile client might send it."""
        await self.client.emit("user_uttered", data)

    async def say(
        self,
        text: Any,
        language: str | None = None,
        until: Callable[[list[dict[str, Any]]], bool] | None = None,
        quiet: float = 1.0,
    ) -> list[dict[str, Any]]:
        """Sends ``text`` as the widget does; returns the replies once ``until(replies)`` holds
        (default: at least one) and no more came for ``quiet`` seconds."""
        data: dict[str, Any] = {"message": text, "session_id": self.session_id}
        if language is not None:
            data["customData"] = {"language": language}
        before = len(self.replies)
        await self.send(data)
        return await self.replies_after(before, until, quiet)

    async def replies_after(
        self,
        before: int,
        until: Callable[[list[dict[str, Any]]], bool] | None = None,
        quiet: float = 1.0,
        timeout: float = TIMEOUT,
    ) -> list[dict[str, Any]]:
        until = until or (lambda replies: bool(replies))
        deadline = time.monotonic() + timeout
        while not until(self.replies[before:]) and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        count, since = len(self.replies), time.monotonic()
        while time.monotonic() - since < quiet and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
            if len(self.replies) != count:
                count, since = len(self.replies), time.monotonic()
        return self.replies[before:]


def texts(replies: list[dict[str, Any]]) -> str:
    return "\n".join(reply.get("text") or "" for reply in replies)


async def websocket_connect_packet(base_url: str, origin: str | None) -> str:
    """Opens an engine.io WebSocket as a browser page at ``origin`` would, asks to join the
    default namespace, and returns the server's answer: ``40{...}`` accepted, ``44{...}`` refused.
    """
    url = base_url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
    headers = {"Origin": origin} if origin else {}
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(url, headers=headers, timeout=TIMEOUT) as websocket:
            opened = await websocket.receive_str(timeout=TIMEOUT)
            assert opened.startswith("0"), opened  # engine.io "open"
            await websocket.send_str("40")  # socket.io "connect" to "/"
            return await websocket.receive_str(timeout=TIMEOUT)
