"""The web chat page (web/) in a real, headless chromium, against the real Rasa and action servers.

Needs /usr/bin/chromium (scripts/install-browser.sh), the Python package ``playwright`` (it
drives that chromium; never run ``playwright install``), the widget's bundle (scripts/build-web.sh)
and the trained model. Skipped only when chromium is missing outside CI. Screenshots and the
browser's console go to tests/artifacts/. Traffic stays on 127.0.0.1: anything else is aborted.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import json
import os
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from bench.servers import Bot, running_bot
from bot.locales import get_locale
from bot.paths import project_root
from bot.web_i18n import build as build_web_texts
from bot.web_i18n import main as web_i18n_main

ROOT = project_root()
MODEL = ROOT / "models" / "kotobot.tar.gz"
WEB = ROOT / "web"
BUNDLE = WEB / "node_modules" / "rasa-webchat" / "lib" / "index.js"
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip
PHONE = {"width": 390, "height": 844}
REPLY_TIMEOUT_MS = 60_000
IN_CI = bool(os.environ.get("CI"))

LANGUAGES = ("fi", "sv", "en", "ru", "uk", "ar", "so", "fa", "et", "tr", "zh", "es", "fr")
ARABIC_LETTERS = re.compile("[\u0600-\u06ff]{3,}")
FINNISH_QUESTION = "miten haen oleskelulupaa"
ARABIC_QUESTION = "ما هي خطة الاندماج"


def test_page_texts_are_generated_from_the_locales():
    assert web_i18n_main(["--check"]) == 0, "web/i18n.json is stale: run python -m bot.web_i18n"
    texts = build_web_texts()
    assert texts["order"] == list(LANGUAGES)
    for code, entry in texts["languages"].items():
        locale = get_locale(code)
        assert entry["name"] == locale.name
        assert entry["privacy"] == locale.texts["privacy_notice"]
        assert entry["dir"] == ("rtl" if code in ("ar", "fa") else "ltr")
        assert all(entry[key] for key in ("title", "language_label", "input_hint", "send"))


# --- servers -----------------------------------------------------------------------------------


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    """What `python -m http.server --directory web` serves (scripts/run.sh), without the log."""

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextlib.contextmanager
def serving_web() -> Iterator[str]:
    handler = functools.partial(_QuietHandler, directory=str(WEB))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@contextlib.contextmanager
def running_servers(logs: Path, cors_origin: str) -> Iterator[Bot]:
    """bench.servers.running_bot with the page's origin in KOTOBOT_CORS_ORIGINS, as for
    scripts/run.sh: the widget's socket.io client starts with cross-origin HTTP long-polling,
    and its connection is refused from other origins. Conversations and feedback go to
    throw-away files, not var/."""
    env = {
        "KOTOBOT_FEEDBACK_DB": str(logs / "feedback.sqlite3"),
        "KOTOBOT_CORS_ORIGINS": cors_origin,
    }
    with running_bot(MODEL, logs, env=env) as bot:
        yield bot


# --- browser -----------------------------------------------------------------------------------


def _unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def playwright_api() -> Any:
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} is missing: run scripts/install-browser.sh (as root)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("the Python package playwright is missing from .venv (see web/README.md)")
    if not BUNDLE.exists():
        pytest.fail(f"{BUNDLE.relative_to(ROOT)} is missing: run scripts/build-web.sh")
    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: run `make train` first")
    return sync_playwright


def _is_local(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("data", "blob", "about") or parts.hostname == "127.0.0.1"


class Page:
    """A Playwright page with the waits and reads this test needs."""

    def __init__(self, page: Any) -> None:
        self.page = page

    def bot_texts(self) -> list[str]:
        return self.page.eval_on_selector_all(".rw-response", "els => els.map(e => e.innerText)")

    def say(self, text: str, placeholder: str) -> None:
        box = self.page.get_by_placeholder(placeholder)
        box.fill(text)
        box.press("Enter")

    def wait_for_bot(self, after: int, contains: str) -> list[str]:
        """The bot's messages from index ``after`` on, once one of them contains ``contains``."""
        try:
            self.page.wait_for_function(
                """([after, text]) => [...document.querySelectorAll('.rw-response')]
                       .slice(after).some(e => e.innerText.includes(text))""",
                arg=[after, contains],
                timeout=REPLY_TIMEOUT_MS,
            )
        except Exception as error:  # playwright's TimeoutError: say what the bot did say
            seen = "\n---\n".join(self.bot_texts()[after:]) or "(nothing)"
            raise AssertionError(
                f"no bot message with {contains!r}; after #{after}: {seen}"
            ) from error
        self.settle()
        return self.bot_texts()[after:]

    def settle(self, quiet: float = 1.5, timeout: float = 30.0) -> None:
        """Until the widget has shown the whole turn: it shows a turn's messages one by one, and a
        message typed before it is done lands in the middle of the turn."""
        count = "() => document.querySelectorAll('#chat .rw-message, #chat .rw-reply').length"
        deadline = time.monotonic() + timeout
        last, since = -1, time.monotonic()
        while time.monotonic() < deadline:
            now = self.page.evaluate(count)
            if now != last:
                last, since = now, time.monotonic()
            elif time.monotonic() - since >= quiet:
                return
            time.sleep(0.2)

    def style(self, selector: str, *properties: str, last: bool = False) -> dict[str, str]:
        return self.page.evaluate(
            """([selector, properties, last]) => {
                const all = document.querySelectorAll(selector);
                const el = last ? all[all.length - 1] : all[0];
                const style = getComputedStyle(el);
                return Object.fromEntries(properties.map(p => [p, style.getPropertyValue(p)]));
            }""",
            [selector, list(properties), last],
        )

    def box(self, selector: str, last: bool = False) -> dict[str, float]:
        locator = self.page.locator(selector)
        return (locator.last if last else locator.first).bounding_box()

    def screenshot(self, name: str, top: Any) -> None:
        """A long phone screenshot (phone width, taller): the turn from ``top`` on."""
        self.page.set_viewport_size({"width": PHONE["width"], "height": 1400})
        top.evaluate("e => e.scrollIntoView({block: 'start'})")
        time.sleep(0.3)
        self.page.screenshot(path=str(ARTIFACTS / name))
        self.page.set_viewport_size(PHONE)

    def session_id(self) -> str:
        raw = self.page.evaluate("() => sessionStorage.getItem('chat_session')")
        return json.loads(raw)["session_id"]


@pytest.mark.browser
@pytest.mark.e2e
def test_web_chat_in_finnish_then_arabic_right_to_left(playwright_api, tmp_path):
    web_texts = build_web_texts()["languages"]
    fi, ar = get_locale("fi"), get_locale("ar")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "browser-failure.png").unlink(missing_ok=True)
    console: list[str] = []
    errors: list[str] = []
    blocked: list[str] = []
    answered_from_outside: list[str] = []

    def guard(route: Any) -> None:
        if _is_local(route.request.url):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    with (
        serving_web() as web,
        running_servers(tmp_path / "servers", cors_origin=web) as bot,
        playwright_api() as playwright,
    ):
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"),  # a fresh user-data-dir
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            locale="fi-FI",  # the page starts in the browser's language
            viewport=PHONE,
            device_scale_factor=2,
            is_mobile=True,
            has_touch=True,
        )
        context.route("**/*", guard)
        page = context.pages[0] if context.pages else context.new_page()
        page.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on(
            "response",
            lambda r: None if _is_local(r.url) else answered_from_outside.append(r.url),
        )
        page.on(
            "websocket",
            lambda ws: None if _is_local(ws.url) else answered_from_outside.append(ws.url),
        )
        chat = Page(page)
        try:
            page.goto(f"{web}/?socket={bot.base_url}")

            # Finnish, from the browser's language: page texts, greeting, a question with a link.
            assert page.locator("#language").input_value() == "fi"
            assert page.title() == web_texts["fi"]["title"]
            assert page.get_attribute("html", "lang") == "fi"
            assert page.get_by_label(web_texts["fi"]["language_label"]).is_visible()
            assert page.locator("#privacy").inner_text() == fi.texts["privacy_notice"]
            greet = fi.texts["greet"]
            chat.wait_for_bot(0, (greet if isinstance(greet, str) else greet[0])[:20])
            before = len(chat.bot_texts())
            chat.say(FINNISH_QUESTION, web_texts["fi"]["input_hint"])
            answer = "\n".join(chat.wait_for_bot(before, fi.texts["topic_intro"]))
            assert "https://" in answer
            link = page.locator(".rw-response a[href^='https://']").last
            assert link.is_visible()
            assert link.get_attribute("target") == "_blank"
            assert "noopener" in (link.get_attribute("rel") or "")
            page.locator(".rw-reply").first.wait_for(state="visible")  # quick-reply buttons
            session = chat.session_id()
            assert bot.slot(session, "language") == "fi"
            assert chat.style("#chat", "direction") == {"direction": "ltr"}
            chat.screenshot("browser-fi.png", page.locator(".rw-client").last)

            # Arabic from the picker: the assistant confirms in Arabic, the page goes right to left.
            before = len(chat.bot_texts())
            page.select_option("#language", "ar")
            changed = ar.text("language_changed", language_name=ar.name)
            chat.wait_for_bot(before, changed)
            assert bot.slot(session, "language") == "ar"
            assert bot.slot(session, "ui_language") == "ar"
            assert page.get_attribute("html", "dir") == "rtl"
            assert page.get_attribute("html", "lang") == "ar"
            assert page.title() == web_texts["ar"]["title"]
            assert page.locator("#privacy").inner_text() == ar.texts["privacy_notice"]
            before = len(chat.bot_texts())
            chat.say(ARABIC_QUESTION, web_texts["ar"]["input_hint"])
            replies = chat.wait_for_bot(before, ar.texts["topic_intro"])
            assert "https://" in "\n".join(replies)
            assert ARABIC_LETTERS.search(replies[0]), replies[0]
            assert bot.slot(session, "language") == "ar"
            assert chat.session_id() == session, "one conversation across the switch"

            for selector in ("#chat", ".rw-messages-container"):
                assert chat.style(selector, "direction") == {"direction": "rtl"}, selector
            question = chat.style(".rw-client", "direction", "text-align", last=True)
            assert question["direction"] == "rtl" and question["text-align"] in ("start", "right")
            confirmation = page.locator(".rw-response", has_text=changed).last
            style = confirmation.evaluate(
                "e => [getComputedStyle(e).direction, getComputedStyle(e).textAlign]"
            )
            assert style[0] == "rtl" and style[1] in ("start", "right"), style
            # Laid out right to left: the assistant's bubbles at the right, the user's at the left.
            log = chat.box(".rw-messages-container")
            mine, theirs = chat.box(".rw-client", last=True), confirmation.bounding_box()
            assert abs((log["x"] + log["width"]) - (theirs["x"] + theirs["width"])) < 40, theirs
            assert mine["x"] - log["x"] < 40, mine
            assert mine["x"] + mine["width"] < log["x"] + log["width"] - 40
            # Nothing runs off a phone's screen.
            width = page.evaluate("() => document.documentElement.scrollWidth")
            assert width <= PHONE["width"], width
            page.screenshot(path=str(ARTIFACTS / "browser-ar-phone.png"))
            chat.screenshot("browser-ar.png", page.locator(".rw-client").last)

            # Every message the assistant sent (the tracker's bot events; Rasa's socket.io channel
            # sends a text's paragraphs as separate messages) is on the page.
            events = bot.tracker(session)["events"]
            sent = [
                part
                for event in events
                if event.get("event") == "bot" and event.get("text")
                for part in event["text"].strip().split("\n\n")
            ]
            assert len(chat.bot_texts()) == len(sent), (chat.bot_texts(), sent)

            # Session persistence: a reload keeps the conversation and the language.
            count = len(chat.bot_texts())
            page.reload()
            page.wait_for_function(
                "n => document.querySelectorAll('.rw-response').length >= n", arg=count
            )
            assert page.get_attribute("html", "dir") == "rtl"
            assert chat.session_id() == session
        except BaseException:
            with contextlib.suppress(Exception):
                page.screenshot(path=str(ARTIFACTS / "browser-failure.png"))
            raise
        finally:
            (ARTIFACTS / "browser-console.log").write_text(
                "\n".join(console + [f"blocked: {url}" for url in blocked]) + "\n", "utf-8"
            )
            context.close()

    assert not errors, errors
    assert not answered_from_outside, f"traffic left 127.0.0.1: {answered_from_outside}"
