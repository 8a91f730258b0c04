"""A real HTTP server on 127.0.0.1 answering as each test says, and a fast HttpClient to call it.

Used by the bot.core.httpclient, content-http and PTV tests.
"""

from __future__ import annotations

import hashlib
import json
import socket
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from bot.core.httpclient import HttpClient


@dataclass
class Reply:
    """One answer of the local server. A non-bytes ``body`` is sent as JSON."""

    status: int = 200
    body: Any = b""
    etag: str | None = None
    delay: float = 0.0  # seconds before answering at all
    trickle: float = 0.0  # seconds between body bytes
    drop: bool = False  # close the connection without answering
    headers: dict[str, str] = field(default_factory=dict)

    def payload(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        return json.dumps(self.body, ensure_ascii=False).encode("utf-8")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # slow handlers must not hold up teardown

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients that give up mid-answer are expected here; no tracebacks."""


class LocalApi:
    """A real HTTP server on 127.0.0.1 in a thread, answering as each test says.

    ``reply(path, *replies)`` sets the answers for a path (with ``?query`` when it matters), used
    in order, the last one repeating. Other paths are served from ``root`` like a static web
    server or CDN (ETag from the content, 304 on a matching If-None-Match), else 404.
    """

    def __init__(self, root: Path | None = None) -> None:
        self.root = root
        self.routes: dict[str, list[Reply]] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        self._lock = threading.Lock()
        self.stopping = threading.Event()
        self._server = _Server(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def __enter__(self) -> LocalApi:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()

    def reply(self, path: str, *replies: Reply) -> None:
        with self._lock:
            self.routes[path] = list(replies)

    def hits(self, path: str | None = None) -> int:
        with self._lock:
            return sum(1 for seen, _ in self.requests if path is None or seen == path)

    def headers_of_last(self, path: str) -> dict[str, str]:
        with self._lock:
            return next(h for seen, h in reversed(self.requests) if seen == path)

    def _next_reply(self, target: str) -> Reply | None:
        with self._lock:
            self.requests.append((target, {}))
            route = self.routes.get(target) or self.routes.get(target.split("?")[0])
            if route is None:
                return None
            return route.pop(0) if len(route) > 1 else route[0]

    def _static(self, target: str) -> Reply:
        if self.root is None:
            return Reply(404, {"error": "not found"})
        path = (self.root / target.split("?")[0].lstrip("/")).resolve()
        if not path.is_relative_to(self.root.resolve()) or not path.is_file():
            return Reply(404, {"error": "not found"})
        data = path.read_bytes()
        etag = '"' + hashlib.sha256(data).hexdigest()[:16] + '"'
        return Reply(200, data, etag=etag, headers={"Cache-Control": "public, max-age=300"})

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                reply = api._next_reply(self.path)
                with api._lock:
                    api.requests[-1] = (self.path, dict(self.headers.items()))
                if reply is None:
                    reply = api._static(self.path)
                if reply.delay and api.stopping.wait(reply.delay):
                    return
                if reply.drop:
                    self.close_connection = True
                    return
                if reply.etag and self.headers.get("If-None-Match") == reply.etag:
                    self.send_response(304)
                    self.send_header("ETag", reply.etag)
                    self.end_headers()
                    return
                body = reply.payload()
                self.send_response(reply.status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                if reply.etag:
                    self.send_header("ETag", reply.etag)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                if not reply.trickle:
                    self.wfile.write(body)
                    return
                for i in range(len(body)):
                    self.wfile.write(body[i : i + 1])
                    self.wfile.flush()
                    if api.stopping.wait(reply.trickle):
                        return

        return Handler


def closed_port_url() -> str:
    """A URL on 127.0.0.1 where nothing listens: connections are refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


class FakeClock:
    """A monotonic clock the test moves by hand (TTLs, breaker cool-downs)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def fast_client(**overrides: Any) -> HttpClient:
    """Short timeouts so that failure tests take fractions of a second."""
    settings: dict[str, Any] = dict(
        connect_timeout=0.5, read_timeout=0.3, deadline=1.0, retries=2, backoff=0.01
    )
    settings.update(overrides)
    return HttpClient(**settings)
