"""The web chat page (web/) in a real, headless chromium, against the real Rasa and action servers.

Needs /usr/bin/chromium (scripts/install-browser.sh), the Python package ``playwright`` (it
drives that chromium; never run ``playwright install``), web/node_modules (scripts/build-web.sh:
socket.io-client, and axe-core for the accessibility checks) and the trained model. Skipped only
when chromium is missing outside CI.

The page is built as scripts/build-web.sh builds it (bot.tools.web_i18n.build_dist) into a temporary
folder, with its socket.io address set to a small TCP proxy in front of Rasa, which the tests cut
and restore to play a dropped connection or a restarting server, and delay to see the typing
indicator. axe-core is served to the test page from web/node_modules at a test-only path (never
in web/dist). Screenshots of the fi, ar and zh conversations at 360×640 and 1280×800, axe-core's
results and the browser's console go to tests/artifacts/. Every request is recorded: each must
be to the page's own origin or the socket.io origin; anything else is also aborted.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import functools
import http.server
import json
import os
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from bot.core.locales import get_locale, supported_languages
from bot.tools.harness import Bot, running_bot, web_server_command
from bot.tools.web_i18n import PAGE_FILES, build_dist, connect_sources
from bot.tools.web_i18n import build as build_web_texts
from bot.tools.web_i18n import main as web_i18n_main
from tests.support.paths import MODEL, ROOT
from tests.support.socket_client import SocketChat

WEB = ROOT / "web"
NODE_MODULES = WEB / "node_modules"
AXE = NODE_MODULES / "axe-core" / "axe.min.js"
AXE_PATH = "/__test__/axe.min.js"  # served by the test's web server only
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip
PHONE = {"width": 360, "height": 640}
DESKTOP = {"width": 1280, "height": 800}
REPLY_TIMEOUT_MS = 60_000
IN_CI = bool(os.environ.get("CI"))

LANGUAGES = supported_languages()
ARABIC_LETTERS = re.compile("[\u0600-\u06ff]{3,}")
CHINESE_LETTERS = re.compile("[\u4e00-\u9fff]{2,}")
FINNISH_QUESTION = "miten haen oleskelulupaa"
ARABIC_QUESTION = "ما هي خطة الاندماج"
INJECTION = (
    '<img src=x onerror="window.__pwned=1"> **<b>bold</b>** [x](javascript:window.__pwned=2)'
)


# --- without a browser --------------------------------------------------------------------------


def test_page_texts_are_generated_from_the_locales():
    assert web_i18n_main(["--check"]) == 0, (
        "web/i18n.json is stale: run python -m bot.tools.web_i18n"
    )
    texts = build_web_texts()
    assert texts["order"] == list(LANGUAGES) and set(texts["languages"]) == set(LANGUAGES)
    keys = ("title", "language_label", "input_hint", "send", "typing", "offline", "reconnected")
    for code, entry in texts["languages"].items():
        locale = get_locale(code)
        assert entry["name"] == locale.name
        assert entry["privacy"] == locale.texts["privacy_notice"]
        assert entry["dir"] == locale.direction
        assert all(entry[key] for key in keys)
    # Every page text is translated: no language shows another one's words (names aside).
    for key in ("typing", "offline", "pages_other_language", "skip_to_input"):
        values = [texts["languages"][code][key] for code in LANGUAGES]
        assert len(set(values)) == len(values), key


def test_the_served_folder_holds_only_what_the_page_needs(tmp_path):
    if not (NODE_MODULES / "socket.io-client").exists():
        pytest.fail("web/node_modules is missing: run scripts/build-web.sh")
    out = build_dist(tmp_path / "dist", "")
    served = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    assert served == sorted(
        [*PAGE_FILES, "i18n.json", "config.json", "vendor/socket.io.min.js",
         "vendor/socket.io-client.LICENSE"]
    )  # fmt: skip
    index = (out / "index.html").read_text("utf-8")
    assert "node_modules" not in index and "http" not in index.split("<body>")[1]
    assert "connect-src 'self';" in index
    assert json.loads((out / "config.json").read_text("utf-8")) == {"socket_url": ""}
    # The one setting: the page's origin, another port of the page's host, or an origin.
    assert connect_sources(":5005") == [
        "http://*:5005", "https://*:5005", "ws://*:5005", "wss://*:5005"
    ]  # fmt: skip
    assert connect_sources("https://chat.example.fi") == [
        "https://chat.example.fi", "wss://chat.example.fi"
    ]  # fmt: skip
    for bad in ("javascript:alert(1)", "ftp://x", "https://x/path", ":99999"):
        with pytest.raises(ValueError):
            connect_sources(bad)
    # `make run` (the harness) serves that folder, not web/ with its node_modules.
    command = web_server_command(8080)
    assert command[command.index("--directory") + 1] == str(ROOT / "web" / "dist")


# --- servers ------------------------------------------------------------------------------------


class CuttableProxy:
    """A TCP proxy in front of Rasa, on 127.0.0.1: ``cut()`` closes every connection and refuses
    new ones (a dropped network or a server restarting) until ``restore()``; ``delay`` holds
    what Rasa sends for that many seconds (a slow network, to see the typing indicator)."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.down = False
        self.delay = 0.0
        self.connections: set[asyncio.StreamWriter] = set()
        self.loop = asyncio.new_event_loop()
        ready = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(self.loop)
            start = asyncio.start_server(self._handle, "127.0.0.1", 0)
            self.server = self.loop.run_until_complete(start)
            ready.set()
            self.loop.run_forever()

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()
        ready.wait(10)
        self.origin = f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.down:
            writer.close()
            return
        try:
            upstream_reader, upstream = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.close()
            return
        self.connections |= {writer, upstream}

        async def pipe(
            source: asyncio.StreamReader, sink: asyncio.StreamWriter, slow: bool
        ) -> None:
            with contextlib.suppress(Exception):
                while data := await source.read(65536):
                    if slow and self.delay:
                        await asyncio.sleep(self.delay)
                    sink.write(data)
                    await sink.drain()
            sink.close()

        await asyncio.gather(pipe(reader, upstream, False), pipe(upstream_reader, writer, True))
        self.connections -= {writer, upstream}

    def cut(self) -> None:
        def close_all() -> None:
            self.down = True
            for connection in list(self.connections):
                connection.close()

        self.loop.call_soon_threadsafe(close_all)

    def restore(self) -> None:
        self.loop.call_soon_threadsafe(setattr, self, "down", False)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    """What `python -m http.server --directory web/dist` serves (scripts/run.sh), and axe-core
    at a test-only path."""

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802 (http.server API)
        if self.path == AXE_PATH:
            body = AXE.read_bytes()
            self.send_response(200)
            self.send_header("Content-Type", "text/javascript")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        super().do_GET()


@contextlib.contextmanager
def serving(directory: Path) -> Iterator[tuple[str, http.server.ThreadingHTTPServer]]:
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", server
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class Site:
    web: str  # the page's origin
    socket: str  # the socket.io origin (the proxy)
    bot: Bot
    proxy: CuttableProxy
    browser: Any
    outside: list[str] = field(default_factory=list)  # requests to any other origin


def _unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} is missing: run scripts/install-browser.sh (as root)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("the Python package playwright is missing from .venv (see web/README.md)")
    if not AXE.exists() or not (NODE_MODULES / "socket.io-client").exists():
        pytest.fail("web/node_modules is incomplete: run scripts/build-web.sh")
    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: run `make train` first")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    tmp = tmp_path_factory.mktemp("web")
    dist = tmp / "dist"
    dist.mkdir()
    with serving(dist) as (web, _), contextlib.ExitStack() as stack:
        # Conversations and feedback go to throw-away files; the page's origin may connect (CORS).
        env = {"KOTOBOT_FEEDBACK_DB": str(tmp / "feedback.sqlite3"), "KOTOBOT_CORS_ORIGINS": web}
        bot = stack.enter_context(running_bot(MODEL, tmp / "servers", env=env))
        proxy = CuttableProxy(int(urlsplit(bot.base_url).port or 0))
        stack.callback(proxy.close)
        build_dist(dist, proxy.origin)  # WEB_SOCKET_URL=<the proxy> scripts/build-web.sh
        playwright = stack.enter_context(sync_playwright())
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        stack.callback(browser.close)
        yield Site(web, proxy.origin, bot, proxy, browser)


# --- the page -----------------------------------------------------------------------------------


class Chat:
    """One browser context and page on the chat, with the reads and waits the tests need."""

    def __init__(self, site: Site, name: str, locale: str, **options: Any) -> None:
        self.site, self.name = site, name
        self.console: list[str] = []
        self.errors: list[str] = []
        self.context = site.browser.new_context(
            locale=locale, viewport=options.pop("viewport", PHONE), **options
        )
        self.context.route("**/*", self._guard)
        self.page = self.context.new_page()
        self.page.on("console", lambda m: self.console.append(f"{m.type}: {m.text}"))
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.on("request", lambda request: self._record(request.url))
        self.page.on("websocket", lambda websocket: self._record(websocket.url))

    def _allowed(self, url: str) -> bool:
        parts = urlsplit(url)
        if parts.scheme in ("data", "blob", "about"):
            return True
        origin = f"{parts.scheme.replace('ws', 'http', 1)}://{parts.netloc}"
        return origin in (self.site.web, self.site.socket)

    def _record(self, url: str) -> None:
        if not self._allowed(url):
            self.site.outside.append(url)

    def _guard(self, route: Any) -> None:
        if self._allowed(route.request.url):
            route.continue_()
        else:
            route.abort()

    def open(self, query: str = "") -> Chat:
        self.page.goto(f"{self.site.web}/{query}")
        self.wait_cards(1)  # the greeting
        return self

    def close(self) -> None:
        (ARTIFACTS / f"browser-{self.name}-console.log").write_text(
            "\n".join(self.console) + "\n", "utf-8"
        )
        self.context.close()
        assert not self.errors, self.errors

    # reads

    def cards(self) -> Any:
        return self.page.locator("#log .card")

    def card_count(self) -> int:
        return self.cards().count()

    def html(self, name: str) -> str | None:
        return self.page.get_attribute("html", name)

    def session_id(self) -> str:
        raw = self.page.evaluate("() => sessionStorage.getItem('kotobot.chat')")
        return json.loads(raw)["session_id"]

    def no_horizontal_scroll(self) -> None:
        widths = self.page.evaluate(
            "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
        assert widths[0] <= widths[1], f"horizontal scrolling: {widths}"

    # actions and waits

    def ask(self, text: str) -> None:
        box = self.page.locator("#message")
        box.fill(text)
        box.press("Enter")

    def wait_cards(self, count: int) -> Any:
        try:
            self.page.wait_for_function(
                "n => document.querySelectorAll('#log .card').length >= n",
                arg=count,
                timeout=REPLY_TIMEOUT_MS,
            )
        except Exception as error:  # playwright's TimeoutError: say what the page shows
            shown = self.page.inner_text("#log")[-3000:]
            raise AssertionError(f"no card #{count}; the page shows:\n{shown}") from error
        return self.cards().nth(count - 1)

    def answer(self, text: str) -> Any:
        """Asks ``text``; the answer's card once it is there."""
        count = self.card_count()
        self.ask(text)
        return self.wait_cards(count + 1)

    # checks

    def axe(self, label: str) -> dict[str, Any]:
        """axe-core on the whole page (WCAG 2.0/2.1 A and AA, best practices): its results, also
        written to tests/artifacts/axe-<label>.json."""
        if not self.page.evaluate("() => typeof window.axe === 'object'"):
            self.page.add_script_tag(url=AXE_PATH)  # same origin: the page's CSP allows it
        # Once as the page is, and once with the message box in the flow: text that the box
        # (at the bottom of the screen) covers has no background axe can tell, so its contrast
        # would only be "incomplete".
        run = """() => axe.run(document, {runOnly: {type: 'tag', values:
                     ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}})"""
        results = self.page.evaluate(run)
        composer = self.page.locator("#composer")
        composer.evaluate("e => { e.style.position = 'static'; }")
        flowing = self.page.evaluate(run)
        composer.evaluate("e => { e.style.position = ''; }")
        seen = {rule["id"] for rule in results["violations"]}
        results["violations"] += [r for r in flowing["violations"] if r["id"] not in seen]
        results["incomplete"] = flowing["incomplete"]
        summary = {
            kind: [
                {
                    "id": rule["id"],
                    "impact": rule.get("impact"),
                    "help": rule["help"],
                    "nodes": [node["target"] for node in rule["nodes"]][:10],
                }
                for rule in results[kind]
            ]
            for kind in ("violations", "incomplete")
        }
        summary["passes"] = len(results["passes"])
        path = ARTIFACTS / f"axe-{label}.json"
        path.write_text(json.dumps(summary, indent=1, ensure_ascii=False), "utf-8")
        return summary

    def screenshots(self, label: str, card: Any) -> None:
        """tests/artifacts/browser-<label>-360x640.png and -1280x800.png (the question and its
        answer in view) and browser-<label>-360-full.png (the whole page, header included)."""
        shown = """e => (e.previousElementSibling || e)
                      .scrollIntoView({block: 'start', behavior: 'instant'})"""
        for size in (PHONE, DESKTOP):
            self.page.set_viewport_size(size)
            card.evaluate(shown)
            time.sleep(0.2)
            name = f"browser-{label}-{size['width']}x{size['height']}.png"
            self.page.screenshot(path=str(ARTIFACTS / name))
        self.page.set_viewport_size(PHONE)
        # The whole page: the message box, which stays at the bottom of the screen, at the end.
        composer = self.page.locator("#composer")
        composer.evaluate("e => { e.style.position = 'static'; }")
        self.page.screenshot(path=str(ARTIFACTS / f"browser-{label}-360-full.png"), full_page=True)
        composer.evaluate("e => { e.style.position = ''; }")


@contextlib.contextmanager
def chat(site: Site, name: str, locale: str, **options: Any) -> Iterator[Chat]:
    session = Chat(site, name, locale, **options)
    try:
        yield session
    except BaseException:
        with contextlib.suppress(Exception):
            session.page.screenshot(path=str(ARTIFACTS / f"browser-{name}-failure.png"))
        raise
    finally:
        session.close()


def assert_accessible(session: Chat, label: str) -> None:
    """No serious or critical axe-core violation, and every text's contrast could be checked."""
    results = session.axe(label)
    bad = [v for v in results["violations"] if v["impact"] in ("serious", "critical")]
    bad += [v for v in results["incomplete"] if v["id"] == "color-contrast"]
    assert not bad, json.dumps(bad, indent=1, ensure_ascii=False)


def assert_one_answer_card(card: Any, language: str, direction: str) -> dict[str, Any]:
    """The answer's parts, all in one card: title, text, steps, named links, date, buttons."""
    assert card.get_attribute("lang") == language
    assert card.get_attribute("dir") == direction
    parts = card.evaluate(
        """card => ({
            title: card.querySelector('h2.card-title')?.innerText,
            labelled: card.getAttribute('aria-labelledby') === card.querySelector('h2')?.id,
            paragraphs: card.querySelectorAll('p').length,
            steps: card.querySelectorAll('ol.steps li').length,
            links: [...card.querySelectorAll('.sources a')].map(a => ({
                text: a.innerText, href: a.href, target: a.target, rel: a.rel})),
            sourcesHeading: card.querySelector('.sources h3')?.innerText,
            date: card.querySelector('.meta time')?.getAttribute('datetime'),
            buttons: [...card.querySelectorAll('button.choice')].map(b => b.dataset.payload),
            feedback: card.querySelectorAll('.choices.feedback button').length,
            feedbackLabel: (() => {
                const group = card.querySelector('.choices.feedback');
                const id = group && group.getAttribute('aria-labelledby');
                return id ? document.getElementById(id).innerText : null;
            })(),
            rawUrlsShown: [...card.querySelectorAll('.sources a')]
                .some(a => a.innerText.includes('https://')),
        })"""
    )
    assert parts["title"] and parts["labelled"], parts
    assert parts["paragraphs"] >= 1, parts
    assert parts["links"], parts
    for link in parts["links"]:
        assert link["href"].startswith("https://"), link
        assert " — " in link["text"], link  # "migri.fi — Finnish citizenship"
        assert link["target"] == "_blank" and "noopener" in link["rel"], link
    assert not parts["rawUrlsShown"], parts
    assert parts["sourcesHeading"] == get_locale(language).text("topic_intro")
    assert parts["date"] and re.fullmatch(r"\d{4}-\d{2}-\d{2}", parts["date"]), parts
    assert parts["feedback"] == 2, parts  # "was this helpful?" in the same card
    assert parts["feedbackLabel"] == get_locale(language).text("feedback_ask"), parts
    assert any(not payload.startswith("/feedback") for payload in parts["buttons"]), parts
    return parts


# --- conversations ------------------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.e2e
def test_finnish_answer_in_one_card_by_keyboard_only(site: Site):
    """fi from the browser's language; everything done with the keyboard; one card per answer;
    typing indicator; axe-core; screenshots; reduced motion; 320 px and 200 % text."""
    texts = build_web_texts()["languages"]["fi"]
    with chat(site, "fi", "fi-FI") as session:
        page = session.open().page
        assert page.locator("#language").input_value() == "fi"
        assert page.title() == texts["title"]
        assert session.html("lang") == "fi" and session.html("dir") == "ltr"
        assert page.locator("#privacy").inner_text() == get_locale("fi").texts["privacy_notice"]
        assert page.locator("#message").get_attribute("placeholder") == texts["input_hint"]
        assert page.get_by_label(texts["input_hint"]).count() == 1  # the message box's label
        assert page.get_by_label(texts["language_label"]).count() == 1  # the picker's

        # Keyboard only: the first Tab shows "go to the message box"; Enter goes there.
        active = "() => document.activeElement.id"
        page.keyboard.press("Tab")
        assert page.evaluate(active) == "skip"
        assert page.locator("#skip").bounding_box()["y"] >= 0  # visible when focused
        page.keyboard.press("Tab")
        assert page.evaluate(active) == "language"  # the picker is next
        page.keyboard.press("Shift+Tab")
        page.keyboard.press("Enter")
        assert page.evaluate(active) == "message"
        # Typing indicator while the answer is on its way (a slow network: 1.5 s).
        site.proxy.delay = 1.0
        try:
            before = session.card_count()
            page.keyboard.type(FINNISH_QUESTION)
            page.keyboard.press("Enter")  # Enter sends
            typing = page.locator("#typing.active")
            typing.wait_for(state="visible", timeout=5000)
            assert typing.inner_text().strip() == texts["typing"]
            card = session.wait_cards(before + 1)
        finally:
            site.proxy.delay = 0
        page.wait_for_function("() => !document.querySelector('#typing.active')")
        assert session.card_count() == before + 1, "one answer, one card"
        # New messages are announced: the cards are added to a polite live region (a log).
        log = page.locator("#log")
        assert log.get_attribute("role") == "log" and log.get_attribute("aria-live") == "polite"
        assert card.evaluate("e => e.parentElement.id") == "log"
        parts = assert_one_answer_card(card, "fi", "ltr")
        question = page.locator(".message.user").last
        assert question.inner_text().endswith(FINNISH_QUESTION)
        assert question.get_attribute("lang") == "fi" and question.get_attribute("dir") == "auto"
        # Each message carries lang and dir.
        assert page.evaluate(
            """() => [...document.querySelectorAll('#log > *')]
                   .every(m => m.getAttribute('lang') && m.getAttribute('dir'))"""
        )
        assert site.bot.slot(session.session_id(), "language") == "fi"
        assert_accessible(session, "fi")
        session.screenshots("fi", card)

        # Back from the message box to the answer's buttons with Shift+Tab; focus is visible;
        # Enter on a related topic asks about it.
        page.locator("#message").focus()
        related = next(p for p in parts["buttons"] if not p.startswith("/feedback"))
        for _ in range(40):
            page.keyboard.press("Shift+Tab")
            if page.evaluate("() => document.activeElement.dataset.payload") == related:
                break
        else:
            raise AssertionError(f"the button {related} is not reachable with the keyboard")
        outline = page.evaluate(
            """() => { const s = getComputedStyle(document.activeElement);
                       return [s.outlineStyle, parseFloat(s.outlineWidth)]; }"""
        )
        assert outline[0] != "none" and outline[1] >= 2, outline
        before = session.card_count()
        page.keyboard.press("Enter")
        session.wait_cards(before + 1)
        assert session.card_count() == before + 1

        # Reduced motion: no animation (typing dots), no smooth scrolling.
        page.emulate_media(reduced_motion="reduce")
        motion = page.evaluate(
            """() => [getComputedStyle(document.querySelector('#typing .dots span')).animationName,
                      getComputedStyle(document.documentElement).scrollBehavior]"""
        )
        assert motion == ["none", "auto"], motion
        page.emulate_media(reduced_motion="no-preference")

        # 320 px wide, and 200 % text on a phone and on a 1280×800 screen zoomed to 200 %.
        page.set_viewport_size({"width": 320, "height": 640})
        session.no_horizontal_scroll()
        page.evaluate("() => { document.documentElement.style.fontSize = '200%'; }")
        session.no_horizontal_scroll()
        page.set_viewport_size({"width": 640, "height": 400})
        session.no_horizontal_scroll()
        # The message box ends the page on a low screen: there, and whole on the screen.
        page.locator("#message").evaluate(
            "e => e.scrollIntoView({block: 'end', behavior: 'instant'})"
        )
        box = page.locator("#message").bounding_box()
        assert box and 0 <= box["y"] and box["y"] + box["height"] <= 400, box
        page.evaluate("() => { document.documentElement.style.fontSize = ''; }")
        page.set_viewport_size(PHONE)
    assert not site.outside, f"requests left the page's origin: {site.outside}"


@pytest.mark.browser
@pytest.mark.e2e
def test_arabic_question_turns_the_page_arabic_then_chinese_from_the_picker(site: Site):
    """A Finnish page asked in Arabic follows the conversation: picker, texts, lang, rtl. The
    picker then switches to Chinese and the last answer comes again, in Chinese. A reload
    keeps the conversation and the language."""
    i18n = build_web_texts()["languages"]
    with chat(site, "ar", "fi-FI") as session:
        page = session.open().page
        assert session.html("lang") == "fi"
        card = session.answer(ARABIC_QUESTION)
        assert ARABIC_LETTERS.search(card.inner_text())
        assert_one_answer_card(card, "ar", "rtl")
        # The page follows the language the reply says it is in (bot_uttered metadata).
        page.wait_for_function("() => document.documentElement.lang === 'ar'")
        assert session.html("dir") == "rtl"
        assert page.locator("#language").input_value() == "ar"
        assert page.title() == i18n["ar"]["title"]
        assert page.locator("#message").get_attribute("placeholder") == i18n["ar"]["input_hint"]
        assert page.locator("#privacy").inner_text() == get_locale("ar").texts["privacy_notice"]
        question = page.locator(".message.user").last
        assert question.get_attribute("lang") == "ar"  # as the reply found it
        # Right to left: the card's start edge is on the right, the question at the left.
        log = page.locator("#log").bounding_box()
        mine = question.bounding_box()
        assert mine["x"] - log["x"] < 40, mine
        assert card.evaluate("e => getComputedStyle(e).borderRightWidth") == "4px"
        session.no_horizontal_scroll()
        session_id = session.session_id()
        assert site.bot.slot(session_id, "language") == "ar"
        assert_accessible(session, "ar")
        session.screenshots("ar", card)

        # The picker: Chinese; the assistant confirms and repeats the last answer in Chinese.
        before = session.card_count()
        page.select_option("#language", "zh")
        assert session.html("lang") == "zh" and session.html("dir") == "ltr"
        card = session.wait_cards(before + 1)
        assert session.card_count() == before + 1, "the confirmation and the answer: one card"
        assert card.get_attribute("lang") == "zh" and card.get_attribute("dir") == "ltr"
        text = card.inner_text()
        changed = get_locale("zh").text("language_changed", language_name=get_locale("zh").name)
        assert changed in text and CHINESE_LETTERS.search(text)
        assert card.locator(".sources a").count() >= 1  # the answer again, now in Chinese
        assert site.bot.slot(session_id, "language") == "zh"
        assert site.bot.slot(session_id, "ui_language") == "zh"
        assert page.title() == i18n["zh"]["title"]
        assert_accessible(session, "zh")
        session.screenshots("zh", card)

        # A reload keeps the conversation (sessionStorage) and the language.
        count = session.card_count()
        page.reload()
        page.wait_for_function(
            "n => document.querySelectorAll('#log .card').length >= n", arg=count
        )
        assert session.html("lang") == "zh"
        assert session.session_id() == session_id
        time.sleep(1)
        assert session.card_count() == count, "no second greeting after a reload"
    assert not site.outside, f"requests left the page's origin: {site.outside}"


@pytest.mark.browser
@pytest.mark.e2e
def test_connection_lost_then_back_sends_what_was_typed_meanwhile(site: Site):
    i18n = build_web_texts()["languages"]
    with chat(site, "reconnect", "fi-FI") as session:
        page = session.open().page
        session_id = session.session_id()
        status = page.locator("#status")
        site.proxy.cut()  # the network drops, or the server restarts
        try:
            page.wait_for_function(
                "t => document.querySelector('#status').innerText === t",
                arg=i18n["fi"]["offline"],
                timeout=15_000,
            )
            assert status.get_attribute("role") == "status"
            before = session.card_count()
            session.ask(FINNISH_QUESTION)  # typed while offline
            bubble = page.locator(".message.user").last
            assert bubble.locator(".queued").inner_text() == i18n["fi"]["queued"]
            time.sleep(1.5)
            assert session.card_count() == before
        finally:
            site.proxy.restore()
        card = session.wait_cards(before + 1)  # reconnected, sent, answered
        assert card.locator(".sources a").count() >= 1
        assert bubble.locator(".queued").count() == 0
        assert session.session_id() == session_id, "the same conversation"
        events = site.bot.tracker(session_id)["events"]
        asked = [
            e for e in events if e.get("event") == "user" and e.get("text") == FINNISH_QUESTION
        ]
        assert len(asked) == 1, "sent once"
        time.sleep(1)
        assert session.card_count() == before + 1

        # Lost while the answer is on its way: the question goes again after the reconnection,
        # and the answer is shown once.
        before = session.card_count()
        site.proxy.delay = 3.0
        try:
            session.ask(ARABIC_QUESTION)
            time.sleep(1)
            site.proxy.cut()
            page.wait_for_function(
                "t => document.querySelector('#status').innerText === t",
                arg=i18n["fi"]["offline"],
                timeout=15_000,
            )
        finally:
            site.proxy.delay = 0
            site.proxy.restore()
        card = session.wait_cards(before + 1)
        assert card.get_attribute("lang") == "ar"
        time.sleep(2)
        assert session.card_count() == before + 1, "the answer once"
    assert not site.outside, f"requests left the page's origin: {site.outside}"


@pytest.mark.browser
@pytest.mark.e2e
def test_markup_from_users_or_content_is_shown_as_text(site: Site):
    with chat(site, "markup", "en-GB") as session:
        page = session.open().page
        before = session.card_count()
        session.ask(INJECTION)
        session.wait_cards(before + 1)
        bubble = page.locator(".message.user").last
        assert INJECTION in bubble.inner_text()
        # Content: the card renderer on hostile Markdown (as if the content source had it).
        rendered = page.evaluate(
            """async () => {
                const { renderTurn } = await import('./card.js');
                const i18n = await (await fetch('i18n.json')).json();
                const card = renderTurn({language: 'en', messages: [{text: [
                    '**<script>window.__pwned=3</script>Title**', '',
                    'Text <img src=x onerror="window.__pwned=4"> [a](javascript:alert(1))',
                    'Official information:',
                    '- Evil: javascript:alert(1)',
                    '- Good (suomi): https://migri.fi/x',
                ].join('\\n'), quick_replies: [{title: '<b>b</b>', payload: '/x'}]}]},
                i18n, () => {});
                document.getElementById('log').append(card);
                return {
                    tags: [...card.querySelectorAll('*')].map(e => e.tagName.toLowerCase()),
                    hrefs: [...card.querySelectorAll('a')].map(a => a.getAttribute('href')),
                    title: card.querySelector('h2').innerText,
                    button: card.querySelector('button').innerText,
                    marked: card.querySelector('.sources li[lang]')?.getAttribute('lang'),
                };
            }"""
        )
        assert not {"img", "script", "b", "iframe"} & set(rendered["tags"]), rendered
        assert rendered["hrefs"] == ["https://migri.fi/x"], rendered
        assert rendered["title"] == "<script>window.__pwned=3</script>Title"
        assert rendered["button"] == "<b>b</b>"
        assert rendered["marked"] == "fi"  # the page's language is marked on the link
        time.sleep(0.5)
        assert page.evaluate("() => window.__pwned") is None
        assert page.locator("#log img, #log script").count() == 0


@pytest.mark.e2e
def test_bot_replies_say_their_language_and_turn_over_socketio(site: Site):
    """What the page relies on, seen by a plain socket.io client: every bot_uttered of a turn
    carries metadata.language/dir/reply_to, and the last one last=true."""

    async def talk() -> list[dict[str, Any]]:
        async with SocketChat(site.bot.base_url) as session:
            data = {
                "message": ARABIC_QUESTION,
                "session_id": session.session_id,
                "customData": {"language": "fi"},
                "message_id": "m-1",
            }
            await session.send(data)
            return await session.replies_after(0, lambda r: any(m["metadata"]["last"] for m in r))

    # In a thread of its own: Playwright's sync API holds an event loop in this one.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        replies = pool.submit(asyncio.run, talk()).result(timeout=120)
    metadata = [reply["metadata"] for reply in replies]
    assert all(m["language"] == "ar" and m["dir"] == "rtl" for m in metadata), metadata
    assert all(m["reply_to"] == "m-1" for m in metadata), metadata
    assert len({m["turn"] for m in metadata}) == 1, metadata
    assert [m["last"] for m in metadata] == [False] * (len(metadata) - 1) + [True]
    assert any("quick_replies" in reply for reply in replies)
