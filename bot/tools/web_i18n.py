"""The web chat page's generated files: its texts (``web/i18n.json``) and the folder it is served
from (``web/dist``).

    python -m bot.tools.web_i18n          # (re)write web/i18n.json
    python -m bot.tools.web_i18n --check  # fail if it is out of date
    python -m bot.tools.web_i18n --dist web/dist [--socket-url URL]   # also assemble the served
    folder

Every text comes from ``locales/<code>.yml``, for each language of topics.yml, in its order: what
the assistant says (language name = autonym, direction, privacy notice, the topic label used as
the page's subtitle) and, under ``web:``, the texts that are about the page itself (language picker
label, message box, connection status, screen-reader labels, ...). A new language's locale file is
all the page needs (docs/adding-a-language.md).

The served folder holds only what the page loads: its own files, ``i18n.json``, ``config.json``
(the socket.io address) and socket.io-client's browser bundle copied from ``web/node_modules``
(``npm ci``, scripts/build-web.sh). The socket.io address is one setting, ``--socket-url``
(scripts/build-web.sh passes ``WEB_SOCKET_URL``): empty for the page's own origin (a proxy
sends ``/socket.io/`` to Rasa), ``:PORT`` for the page's own host on another port, or an origin
``https://host[:port]``. The page's Content-Security-Policy lets it connect there and nowhere else.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bot.core.locales import all_locales
from bot.core.paths import data_path

BOT_NAME = "Kotobot"
SUBTITLE_TOPIC = "integration_basics"
# The keys of a locale's ``web:`` section.
WEB_TEXT_KEYS = (
    "language_label", "input_hint", "connecting", "send", "typing", "offline", "reconnected",
    "queued", "you", "conversation", "skip_to_input", "new_tab", "pages_other_language",
)  # fmt: skip

# The page's own files, served as they are (plus i18n.json and config.json, generated).
PAGE_FILES = ("index.html", "app.js", "card.js", "style.css")
# From web/node_modules: socket.io-client's browser bundle (socket.io-client, engine.io-client,
# their parsers and emitter, all MIT) and its licence.
VENDOR_FILES = {
    "vendor/socket.io.min.js": "node_modules/socket.io-client/dist/socket.io.min.js",
    "vendor/socket.io-client.LICENSE": "node_modules/socket.io-client/LICENSE",
}
CSP_CONNECT = "connect-src 'self'"
_PORT = re.compile(r":(\d{1,5})")


def build() -> dict[str, Any]:
    languages: dict[str, Any] = {}
    problems = []
    for locale in all_locales():
        subtitle = locale.topic_labels.get(SUBTITLE_TOPIC)
        privacy = locale.texts.get("privacy_notice")
        if not subtitle or not privacy:
            problems.append(f"locales/{locale.code}.yml lacks topics.{SUBTITLE_TOPIC} or privacy")
        entry = {
            "name": locale.name,
            "dir": locale.direction,
            "title": f"{BOT_NAME} – {subtitle}",
            "heading": BOT_NAME,
            "subtitle": subtitle,
            "privacy": privacy,
        }
        for key in WEB_TEXT_KEYS:
            value = locale.web.get(key)
            if not value:
                problems.append(f"locales/{locale.code}.yml lacks web.{key}")
            entry[key] = value
        languages[locale.code] = entry
    if problems:
        raise ValueError("; ".join(problems))
    return {"order": list(languages), "languages": languages}


def render(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, indent=1) + "\n"


def output_path() -> Path:
    return data_path("web", "i18n.json")


def connect_sources(socket_url: str) -> list[str]:
    """What the page's CSP ``connect-src`` needs besides ``'self'`` for ``socket_url``: socket.io
    starts with HTTP long-polling and then upgrades to a WebSocket on the same address."""
    socket_url = socket_url.strip()
    if not socket_url:
        return []
    port = _PORT.fullmatch(socket_url)
    if port:
        if not 0 < int(port.group(1)) < 65536:
            raise ValueError(f"socket.io address: no such port {socket_url!r}")
        return [f"{scheme}://*{socket_url}" for scheme in ("http", "https", "ws", "wss")]
    parts = urlsplit(socket_url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/"):
        raise ValueError(
            f"socket.io address {socket_url!r}: give '', ':PORT' or an origin http(s)://host[:port]"
        )
    origin = f"{parts.scheme}://{parts.netloc}"
    socket = origin.replace("http", "ws", 1)
    return [origin, socket]


def build_dist(out: Path, socket_url: str = "") -> Path:
    """Assembles the served folder ``out`` (emptied first): see the module's docstring."""
    web = data_path("web")
    missing = [source for source in VENDOR_FILES.values() if not (web / source).exists()]
    if missing:
        raise FileNotFoundError(f"web/{missing[0]} is missing: run scripts/build-web.sh (npm ci)")
    extra = connect_sources(socket_url)
    if out.exists():
        shutil.rmtree(out)
    (out / "vendor").mkdir(parents=True)
    for name in PAGE_FILES:
        shutil.copyfile(web / name, out / name)
    for target, source in VENDOR_FILES.items():
        shutil.copyfile(web / source, out / target)
    index = (out / "index.html").read_text("utf-8")
    if index.count(CSP_CONNECT) != 1:
        raise ValueError(f"web/index.html: its CSP needs exactly one {CSP_CONNECT!r}")
    index = index.replace(CSP_CONNECT, " ".join([CSP_CONNECT, *extra]))
    (out / "index.html").write_text(index, "utf-8")
    (out / "i18n.json").write_text(render(build()), "utf-8")
    config = {"socket_url": socket_url.strip()}
    (out / "config.json").write_text(json.dumps(config, indent=1) + "\n", "utf-8")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check, write nothing")
    parser.add_argument("--dist", type=Path, help="also assemble the served folder here")
    parser.add_argument(
        "--socket-url", default="", help="socket.io address: '' (the page's origin), ':PORT', URL"
    )
    args = parser.parse_args(argv)
    path, text = output_path(), render(build())
    current = path.read_text("utf-8") if path.exists() else None
    if current != text:
        if args.check:
            print(f"out of date: {path} (run: python -m bot.tools.web_i18n)", file=sys.stderr)
            return 1
        path.write_text(text, "utf-8")
    if args.dist and not args.check:
        build_dist(args.dist, args.socket_url)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
