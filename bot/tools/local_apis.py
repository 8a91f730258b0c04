"""Local stand-ins for the outside world during bench.perf, on 127.0.0.1 only.

    python -m bot.tools.local_apis --port PORT --content DIR

- ``/content/...``: the bundled content as the static JSON content API (the tree that
  ``python -m bot.content.export`` writes), with ETags and 304s like a CDN, so the action server's
  ``http`` content source does real fetches;
- ``/ptv/api/v11/...``: the Service Catalogue (PTV) for any municipality, built from the real
  sample records in tests/fixtures/ptv (a one-page list of full service records; the sample
  channels by id; any other id 404, as withdrawn records do).

Runs as its own process so that it does not share the load generator's interpreter.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from bot.core.paths import data_path

PTV_SAMPLES = data_path("tests", "fixtures", "ptv")
LIST = re.compile(r"/ptv/api/v11/Service/list/area/Municipality/code/[0-9]{3}")
RECORD = re.compile(r"/ptv/api/v11/(Service|ServiceChannel)/([0-9a-fA-F-]{36})")


def load_ptv(samples: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    def read(kind: str) -> dict[str, Any]:
        return {
            p.stem: json.loads(p.read_text("utf-8"))
            for p in sorted((samples / kind).glob("*.json"))
        }

    return read("services"), read("channels")


class Handler(BaseHTTPRequestHandler):
    content_root: Path
    services: dict[str, Any]
    channels: dict[str, Any]

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (base signature)
        pass  # quiet: hundreds of requests

    def do_GET(self) -> None:  # noqa: N802 (http.server API)
        path = self.path.split("?")[0]
        if path.startswith("/content/"):
            self._static(path.removeprefix("/content/"))
        elif LIST.fullmatch(path):
            items = list(self.services.values())
            self._json(
                200, {"pageNumber": 1, "pageSize": len(items), "pageCount": 1, "itemList": items}
            )
        elif match := RECORD.fullmatch(path):
            table = self.services if match.group(1) == "Service" else self.channels
            record = table.get(match.group(2))
            self._json(200, record) if record else self._json(404, {"error": "not found"})
        else:
            self._json(404, {"error": "not found"})

    def _static(self, relative: str) -> None:
        file = (self.content_root / relative).resolve()
        if not file.is_relative_to(self.content_root) or not file.is_file():
            self._json(404, {"error": "not found"})
            return
        data = file.read_bytes()
        etag = '"' + hashlib.sha256(data).hexdigest()[:16] + '"'
        if self.headers.get("If-None-Match") == etag:
            self.send_response(304)
            self.send_header("ETag", etag)
            self.end_headers()
            return
        self._send(200, data, {"ETag": etag, "Cache-Control": "public, max-age=300"})

    def _json(self, status: int, body: Any) -> None:
        self._send(status, json.dumps(body, ensure_ascii=False).encode("utf-8"), {})

    def _send(self, status: int, data: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--content", type=Path, required=True, help="exported content API root")
    parser.add_argument("--ptv", type=Path, default=PTV_SAMPLES)
    args = parser.parse_args(argv)
    Handler.content_root = args.content.resolve()
    Handler.services, Handler.channels = load_ptv(args.ptv)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    server.serve_forever(poll_interval=0.1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
