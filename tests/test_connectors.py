"""Messaging connectors, offline: real-format webhooks into the real Rasa and action servers.

The connectors are switched on by environment variables with test secrets, and every platform
API (Telegram Bot API, Graph API, Slack Web API, Twilio REST API, Bot Framework login, OpenID
keys and Bot Connector) is a fake HTTP server on 127.0.0.1 that records what the assistant sends.
No SDK is patched: each one is pointed at the fake by its connector's ``*_API_URL``-style setting.
A second pair of servers runs with the committed credentials.yml and no connector variables.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from rasa.shared.core.events import BotUttered, UserUttered

from bot.core.locales import get_locale
from bot.core.taxonomy import taxonomy
from bot.server.channels.base import language_metadata, offered_buttons
from bot.server.channels.facebook import MAX_QUICK_REPLIES
from bot.server.channels.formatting import (
    markdown_to_plain,
    numbered_options,
    payload_for_choice,
    split_message,
)
from bot.server.channels.message_check import max_message_chars
from bot.server.channels.twilio import conversation_id
from bot.tools.harness import Bot, running_bot
from tests.support.paths import MODEL

pytestmark = [pytest.mark.connectors, pytest.mark.e2e]

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "connectors"

TELEGRAM_TOKEN = "123456789:TEST-telegram-token_abcdefghijklmno"
TELEGRAM_SECRET = "telegram-webhook-secret-for-tests"
FACEBOOK_VERIFY = "facebook-verify-token-for-tests"
FACEBOOK_SECRET = "facebook-app-secret-for-tests"
SLACK_SECRET = "slack-signing-secret-for-tests"
TWILIO_SID = "AC" + "0123456789abcdef" * 2
TWILIO_TOKEN = "twilio-auth-token-for-tests"
TWILIO_PUBLIC_URL = "https://kotobot.example.org/webhooks/twilio/webhook"
BOTFRAMEWORK_APP_ID = "8a5b2c1d-0000-4000-8000-00000000b07f"
BOTFRAMEWORK_KEY_ID = "kotobot-test-key"
CONNECTOR_VARIABLES = (
    "TELEGRAM_BOT_TOKEN", "TELEGRAM_WEBHOOK_SECRET", "TELEGRAM_WEBHOOK_URL", "TELEGRAM_API_URL",
    "FACEBOOK_VERIFY_TOKEN", "FACEBOOK_APP_SECRET", "FACEBOOK_PAGE_ACCESS_TOKEN",
    "FACEBOOK_GRAPH_URL", "SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_CHANNEL",
    "SLACK_API_URL", "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_WEBHOOK_URL",
    "TWILIO_API_URL", "BOTFRAMEWORK_APP_ID", "BOTFRAMEWORK_APP_PASSWORD",
    "BOTFRAMEWORK_TENANT_ID", "BOTFRAMEWORK_OPENID_URL", "BOTFRAMEWORK_LOGIN_URL",
)  # fmt: skip
FINNISH_QUESTION = "miten saan kotoutumissuunnitelman"
FI = get_locale("fi")


# --- the fake platform APIs -------------------------------------------------------------------


@dataclass
class Call:
    """One request the assistant made to a platform API."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    fields: dict[str, Any] = field(default_factory=dict)  # JSON body or form fields
    query: dict[str, str] = field(default_factory=dict)


class FakePlatforms(ThreadingHTTPServer):
    """Answers like each platform's API, records every call; Telegram's setWebhook fails."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.url = f"http://127.0.0.1:{self.server_port}"
        self.calls: list[Call] = []
        self.changed = threading.Condition()
        self.private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        jwk = json.loads(RSAAlgorithm.to_jwk(self.private_key.public_key()))
        self.jwks = {"keys": [{**jwk, "kid": BOTFRAMEWORK_KEY_ID, "endorsements": ["msteams"]}]}

    def record(self, call: Call) -> None:
        with self.changed:
            self.calls.append(call)
            self.changed.notify_all()

    def wait_for(
        self, predicate: Callable[[Call], bool], count: int = 1, timeout: float = 30
    ) -> list[Call]:
        """The matching calls, once there are ``count`` of them (Slack replies asynchronously)."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while True:
                found = [call for call in self.calls if predicate(call)]
                if len(found) >= count or time.monotonic() > deadline:
                    return found
                self.changed.wait(0.2)

    def matching(self, predicate: Callable[[Call], bool]) -> list[Call]:
        with self.changed:
            return [call for call in self.calls if predicate(call)]


class _Handler(BaseHTTPRequestHandler):
    server: FakePlatforms

    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def _handle(self, method: str) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        url = urlsplit(self.path)
        query = {key: values[0] for key, values in parse_qs(url.query).items()}
        call = Call(
            method, url.path, dict(self.headers.items()), body, _fields(self.headers, body), query
        )
        self.server.record(call)
        if url.path.endswith("/setWebhook"):
            self.close_connection = True  # as if the network were down: no answer at all
            return
        status, answer = self._answer(call)
        data = json.dumps(answer).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _answer(self, call: Call) -> tuple[int, Any]:
        path, fields = call.path, call.fields
        if path.startswith("/telegram/"):
            if path.endswith("/sendMessage"):
                message = {
                    "message_id": len(self.server.calls),
                    "date": int(time.time()),
                    "chat": {"id": int(fields["chat_id"]), "type": "private"},
                    "text": fields.get("text", ""),
                }
                return 200, {"ok": True, "result": message}
            return 200, {"ok": True, "result": True}
        if path.startswith("/graph/"):
            return 200, {"recipient_id": fields.get("recipient", {}).get("id"), "message_id": "m"}
        if path.startswith("/slack/"):
            return 200, {"ok": True, "channel": fields.get("channel"), "ts": "1732870009.000100"}
        if path.startswith("/twilio/"):
            return 201, {
                "sid": "SM" + uuid.uuid4().hex, "account_sid": TWILIO_SID, "status": "queued",
                "to": fields.get("To"), "from": fields.get("From"), "body": fields.get("Body"),
                "num_segments": "1", "direction": "outbound-api", "api_version": "2010-04-01",
            }  # fmt: skip
        if path == "/botframework/openid":
            return 200, {"issuer": "https://api.botframework.com", "jwks_uri": self._keys_url()}
        if path == "/botframework/keys":
            return 200, self.server.jwks
        if path.startswith("/botframework/login/"):
            return 200, {"token_type": "Bearer", "expires_in": 3600, "access_token": "fake-bf"}
        if path.startswith("/botframework/service/"):
            return 200, {"id": "activity-" + uuid.uuid4().hex[:8]}
        return 404, {"error": f"no fake for {path}"}

    def _keys_url(self) -> str:
        return f"{self.server.url}/botframework/keys"


def _fields(headers: Any, body: bytes) -> dict[str, Any]:
    content_type = headers.get("Content-Type") or ""
    if "json" in content_type:
        return json.loads(body or b"{}")
    if "x-www-form-urlencoded" in content_type:
        return {k: v[0] for k, v in parse_qs(body.decode("utf-8"), keep_blank_values=True).items()}
    return {}


# --- fixtures ---------------------------------------------------------------------------------


@dataclass
class Running:
    bot: Bot
    fake: FakePlatforms
    logs: Path

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return requests.post(f"{self.bot.base_url}{path}", timeout=60, **kwargs)


@pytest.fixture(scope="module")
def fake() -> Iterator[FakePlatforms]:
    server = FakePlatforms()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def running(fake: FakePlatforms, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: run `make train` first")
    env = {
        **dict.fromkeys(CONNECTOR_VARIABLES),
        "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost",
        "TELEGRAM_BOT_TOKEN": TELEGRAM_TOKEN, "TELEGRAM_WEBHOOK_SECRET": TELEGRAM_SECRET,
        "TELEGRAM_WEBHOOK_URL": "https://kotobot.example.org/webhooks/telegram/webhook",
        "TELEGRAM_API_URL": f"{fake.url}/telegram",
        "FACEBOOK_VERIFY_TOKEN": FACEBOOK_VERIFY, "FACEBOOK_APP_SECRET": FACEBOOK_SECRET,
        "FACEBOOK_PAGE_ACCESS_TOKEN": "fake-page-token", "FACEBOOK_GRAPH_URL": f"{fake.url}/graph",
        "SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": SLACK_SECRET,
        "SLACK_API_URL": f"{fake.url}/slack/api/",
        "TWILIO_ACCOUNT_SID": TWILIO_SID, "TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
        "TWILIO_WEBHOOK_URL": TWILIO_PUBLIC_URL, "TWILIO_API_URL": f"{fake.url}/twilio",
        "BOTFRAMEWORK_APP_ID": BOTFRAMEWORK_APP_ID, "BOTFRAMEWORK_APP_PASSWORD": "fake-password",
        "BOTFRAMEWORK_OPENID_URL": f"{fake.url}/botframework/openid",
        "BOTFRAMEWORK_LOGIN_URL": f"{fake.url}/botframework/login",
    }  # fmt: skip
    logs = tmp_path_factory.mktemp("connector-servers")
    with running_bot(MODEL, logs, env=env) as bot:
        yield Running(bot, fake, logs)


@pytest.fixture(scope="module")
def unconfigured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bot]:
    """The committed credentials.yml with no connector variables at all."""
    logs = tmp_path_factory.mktemp("unconfigured-servers")
    with running_bot(MODEL, logs, env=dict.fromkeys(CONNECTOR_VARIABLES)) as bot:
        yield bot


# --- helpers ----------------------------------------------------------------------------------


def fixture(name: str) -> Any:
    return copy.deepcopy(json.loads((FIXTURES / name).read_text("utf-8")))


def unique_number() -> int:
    return int(uuid.uuid4().int % 10**9) + 10**9


def greetings(locale_code: str) -> list[str]:
    greet = get_locale(locale_code).texts["greet"]
    return greet if isinstance(greet, list) else [greet]


def hub_signature(body: bytes, algorithm: str = "sha1", secret: str = FACEBOOK_SECRET) -> str:
    return f"{algorithm}=" + hmac.new(secret.encode(), body, algorithm).hexdigest()


def slack_headers(
    body: bytes, content_type: str, age: int = 0, secret: str = SLACK_SECRET
) -> dict[str, str]:
    timestamp = str(int(time.time()) - age)
    digest = hmac.new(secret.encode(), f"v0:{timestamp}:".encode() + body, hashlib.sha256)
    return {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": "v0=" + digest.hexdigest(),
    }


def twilio_signature(url: str, form: dict[str, str], token: str = TWILIO_TOKEN) -> str:
    """Twilio's algorithm: HMAC-SHA1 of the URL followed by the sorted form fields, base64."""
    data = url + "".join(f"{key}{form[key]}" for key in sorted(form))
    return base64.b64encode(hmac.new(token.encode(), data.encode(), hashlib.sha1).digest()).decode()


def bot_connector_token(fake: FakePlatforms, service_url: str, **changes: Any) -> str:
    now = int(time.time())
    claims = {
        "iss": "https://api.botframework.com", "aud": BOTFRAMEWORK_APP_ID, "nbf": now - 10,
        "exp": now + 3600, "serviceUrl": service_url,
    }  # fmt: skip
    key = changes.pop("key", fake.private_key)
    claims.update(changes)
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": BOTFRAMEWORK_KEY_ID})


def eventually(read: Callable[[], Any], timeout: float = 20) -> Any:
    """Slack's replies are sent while Rasa still processes; the tracker is saved at the end."""
    deadline = time.monotonic() + timeout
    while (value := read()) is None and time.monotonic() < deadline:
        time.sleep(0.2)
    return value


def joined(texts: list[str]) -> str:
    return "\n".join(texts)


# --- Telegram ---------------------------------------------------------------------------------


def telegram_update(chat_id: int, text: str, language_code: str) -> dict[str, Any]:
    update = fixture("telegram_message.json")
    update["update_id"] = unique_number()
    update["message"]["text"] = text
    update["message"]["from"].update(id=chat_id, language_code=language_code)
    update["message"]["chat"]["id"] = chat_id
    return update


def post_telegram(
    running: Running, update: dict, secret: str = TELEGRAM_SECRET
) -> requests.Response:
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret}
    return running.post("/webhooks/telegram/webhook", json=update, headers=headers)


def telegram_sent(running: Running, chat_id: int) -> list[Call]:
    return running.fake.matching(
        lambda c: c.path.endswith("/sendMessage") and c.fields.get("chat_id") == str(chat_id)
    )


def test_telegram_update_is_answered_in_finnish_through_the_bot_api(running):
    """The text decides the language (the app says English), the reply goes to sendMessage
    with the bot token in the URL, as plain text, with the related topics as inline buttons."""
    chat_id = unique_number()
    answer = post_telegram(running, telegram_update(chat_id, FINNISH_QUESTION, "en"))
    assert answer.status_code == 200
    sent = telegram_sent(running, chat_id)
    assert sent and all(f"/telegram/bot{TELEGRAM_TOKEN}/" in call.path for call in sent)
    text = joined([call.fields["text"] for call in sent])
    assert FI.text("topic_intro") in text and "**" not in text
    assert running.bot.slot(str(chat_id), "language") == "fi"
    keyboards = [
        json.loads(call.fields["reply_markup"]) for call in sent if "reply_markup" in call.fields
    ]
    buttons = [row[0] for keyboard in keyboards for row in keyboard["inline_keyboard"]]
    assert buttons and all(button["callback_data"].startswith("/") for button in buttons)


def test_telegram_language_code_decides_an_unclear_first_message(running):
    chat_id = unique_number()
    assert post_telegram(running, telegram_update(chat_id, "Kela", "uk-UA")).status_code == 200
    assert running.bot.slot(str(chat_id), "language") == "uk"
    assert telegram_sent(running, chat_id), "the assistant answers"


def test_telegram_button_tap_sends_its_payload(running):
    chat_id = unique_number()
    update = fixture("telegram_callback_query.json")
    update["callback_query"]["data"] = "/citizenship"
    update["callback_query"]["from"].update(id=chat_id, language_code="fr")
    update["callback_query"]["message"]["chat"]["id"] = chat_id
    assert post_telegram(running, update).status_code == 200
    text = joined([call.fields["text"] for call in telegram_sent(running, chat_id)])
    assert get_locale("fr").text("topic_intro") in text
    assert running.bot.slot(str(chat_id), "last_topic") == "citizenship"
    spinner = update["callback_query"]["id"]
    assert running.fake.matching(
        lambda c: (
            c.path.endswith("/answerCallbackQuery") and c.fields.get("callback_query_id") == spinner
        )
    )


def test_telegram_start_command_greets_in_the_app_language(running):
    chat_id = unique_number()
    assert post_telegram(running, telegram_update(chat_id, "/start", "fi")).status_code == 200
    assert [call.fields["text"] for call in telegram_sent(running, chat_id)][0] in greetings("fi")


def test_telegram_failed_set_webhook_does_not_stop_the_assistant(running):
    """setWebhook was called with the secret and got no answer (the fake drops it), yet the
    server started and the tests above were answered."""
    calls = running.fake.matching(lambda c: c.path.endswith("/setWebhook"))
    assert calls and calls[0].fields["secret_token"] == TELEGRAM_SECRET
    assert calls[0].fields["url"] == "https://kotobot.example.org/webhooks/telegram/webhook"
    assert "setWebhook failed" in (running.logs / "rasa.log").read_text("utf-8")


@pytest.mark.parametrize("secret", ["wrong-secret", ""])
def test_telegram_refuses_updates_without_the_secret_token(running, secret):
    chat_id = unique_number()
    answer = post_telegram(running, telegram_update(chat_id, "hei", "fi"), secret=secret)
    assert answer.status_code == 403
    assert not telegram_sent(running, chat_id)


# --- Facebook Messenger -----------------------------------------------------------------------


def messenger_event(psid: str, text: str, name: str = "messenger_message.json") -> bytes:
    event = fixture(name)
    messaging = event["entry"][0]["messaging"][0]
    messaging["sender"]["id"] = psid
    messaging["message"]["text"] = text
    return json.dumps(event).encode("utf-8")


def messenger_sent(running: Running, psid: str) -> list[dict]:
    calls = running.fake.matching(
        lambda c: (
            c.path == "/graph/me/messages"
            and c.fields.get("recipient", {}).get("id") == psid
            and "message" in c.fields
        )
    )
    return [call.fields["message"] for call in calls]


def post_messenger(running: Running, body: bytes, **headers: str) -> requests.Response:
    return running.post(
        "/webhooks/facebook/webhook",
        data=body,
        headers={"Content-Type": "application/json", **headers},
    )


def test_messenger_event_signed_with_sha1_is_answered_in_finnish(running):
    psid = str(unique_number())
    body = messenger_event(psid, "hei, mitä kuuluu?")
    answer = post_messenger(running, body, **{"X-Hub-Signature": hub_signature(body)})
    assert answer.status_code == 200
    sent = messenger_sent(running, psid)
    assert sent and sent[0]["text"] in greetings("fi")
    calls = running.fake.matching(lambda c: c.fields.get("recipient", {}).get("id") == psid)
    assert all(call.query.get("access_token") == "fake-page-token" for call in calls)
    typing = running.fake.matching(
        lambda c: c.fields.get("recipient", {}).get("id") == psid and "sender_action" in c.fields
    )
    assert {c.fields["sender_action"] for c in typing} == {"mark_seen", "typing_on", "typing_off"}


def test_messenger_quick_replies_round_trip_with_sha256_signature(running):
    """Related topics become quick replies; tapping one sends its payload back."""
    psid = str(unique_number())
    body = messenger_event(psid, FINNISH_QUESTION)
    signature = {"X-Hub-Signature-256": hub_signature(body, "sha256")}
    assert post_messenger(running, body, **signature).status_code == 200
    sent = messenger_sent(running, psid)
    assert FI.text("topic_intro") in joined([m.get("text", "") for m in sent])
    quick_replies = [reply for message in sent for reply in message.get("quick_replies", [])]
    assert quick_replies and all(reply["content_type"] == "text" for reply in quick_replies)
    assert all(len(reply["title"]) <= 20 for reply in quick_replies)

    tap = json.loads(messenger_event(psid, quick_replies[0]["title"], "messenger_quick_reply.json"))
    tap["entry"][0]["messaging"][0]["message"]["quick_reply"]["payload"] = quick_replies[0][
        "payload"
    ]
    body = json.dumps(tap).encode("utf-8")
    signature = {"X-Hub-Signature-256": hub_signature(body, "sha256")}
    assert post_messenger(running, body, **signature).status_code == 200
    topic = quick_replies[0]["payload"].removeprefix("/")
    assert running.bot.slot(psid, "last_topic") == topic


def test_messenger_many_buttons_become_numbered_options_and_the_number_is_understood(running):
    """Help lists every topic, more than Messenger's 13 quick replies: numbered text instead,
    and "3" typed back is the third topic."""
    assert len(taxonomy().topic_ids) > MAX_QUICK_REPLIES
    psid = str(unique_number())
    for text in ("hei, mitä kuuluu?", "/help"):
        body = messenger_event(psid, text)
        post_messenger(running, body, **{"X-Hub-Signature": hub_signature(body)})
    listing = messenger_sent(running, psid)[-1]
    third_topic = taxonomy().topic_ids[2]
    assert f"3) {FI.topic_label(third_topic)}" in listing["text"]
    assert "quick_replies" not in listing
    body = messenger_event(psid, "3")
    post_messenger(running, body, **{"X-Hub-Signature": hub_signature(body)})
    assert running.bot.slot(psid, "last_topic") == third_topic


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-Hub-Signature": "sha1=" + "0" * 40},
        {"X-Hub-Signature-256": "sha256=" + "0" * 64},
        {"X-Hub-Signature": "md5=00000000000000000000000000000000"},
    ],
    ids=["unsigned", "bad-sha1", "bad-sha256", "md5"],
)
def test_messenger_refuses_badly_signed_events(running, headers):
    psid = str(unique_number())
    answer = post_messenger(running, messenger_event(psid, "hei"), **headers)
    assert answer.status_code == 403
    assert not messenger_sent(running, psid)


def test_messenger_signature_with_another_secret_is_refused(running):
    psid = str(unique_number())
    body = messenger_event(psid, "hei")
    signature = hub_signature(body, "sha256", secret="not-the-app-secret")
    assert post_messenger(running, body, **{"X-Hub-Signature-256": signature}).status_code == 403


def test_messenger_webhook_verification(running):
    url = f"{running.bot.base_url}/webhooks/facebook/webhook"
    query = {"hub.mode": "subscribe", "hub.challenge": "1158201444"}
    good = requests.get(url, params={**query, "hub.verify_token": FACEBOOK_VERIFY}, timeout=10)
    assert (good.status_code, good.text) == (200, "1158201444")
    bad = requests.get(url, params={**query, "hub.verify_token": "guess"}, timeout=10)
    assert bad.status_code == 403


# --- Slack ------------------------------------------------------------------------------------


def slack_event(user: str, channel: str, text: str) -> bytes:
    event = fixture("slack_event.json")
    event["event_id"] = f"Ev{uuid.uuid4().hex[:10]}"
    event["event"].update(user=user, channel=channel, text=text)
    return json.dumps(event).encode("utf-8")


def slack_posts(running: Running, channel: str, count: int = 1) -> list[dict]:
    calls = running.fake.wait_for(
        lambda c: c.path == "/slack/api/chat.postMessage" and c.fields.get("channel") == channel,
        count=count,
    )
    return [call.fields for call in calls]


def test_slack_signed_event_is_answered_in_finnish_with_buttons(running):
    user, channel = f"U{unique_number()}", f"D{unique_number()}"
    body = slack_event(user, channel, FINNISH_QUESTION)
    answer = running.post(
        "/webhooks/slack/webhook", data=body, headers=slack_headers(body, "application/json")
    )
    assert answer.status_code == 200
    posts = slack_posts(running, channel)
    assert posts, "Slack replies in the background: nothing reached chat.postMessage"
    calls = running.fake.matching(lambda c: c.fields.get("channel") == channel)
    assert all(c.headers.get("Authorization") == "Bearer xoxb-test" for c in calls)
    text = joined([post.get("text", "") for post in posts])
    assert FI.text("topic_intro") in text and "**" not in text
    blocks = [block for post in posts for block in post.get("blocks", [])]
    buttons = [element for b in blocks if b["type"] == "actions" for element in b["elements"]]
    assert buttons and all(button["value"].startswith("/") for button in buttons)
    assert eventually(lambda: running.bot.slot(user, "language")) == "fi"


def test_slack_button_click_sends_its_payload(running):
    user, channel = f"U{unique_number()}", f"D{unique_number()}"
    click = fixture("slack_block_actions.json")
    click["user"]["id"] = user
    click["channel"]["id"] = channel
    click["actions"][0].update(value="/residence_permit", text={"type": "plain_text", "text": "x"})
    body = urlencode({"payload": json.dumps(click)}).encode("utf-8")
    headers = slack_headers(body, "application/x-www-form-urlencoded")
    assert running.post("/webhooks/slack/webhook", data=body, headers=headers).status_code == 200
    assert slack_posts(running, channel)
    assert eventually(lambda: running.bot.slot(user, "last_topic")) == "residence_permit"


def test_slack_url_verification_echoes_the_challenge(running):
    body = json.dumps(fixture("slack_url_verification.json")).encode("utf-8")
    headers = slack_headers(body, "application/json")
    answer = running.post("/webhooks/slack/webhook", data=body, headers=headers)
    assert answer.status_code == 200
    assert answer.json() == fixture("slack_url_verification.json")["challenge"]


@pytest.mark.parametrize(
    "headers",
    [
        lambda body: {"Content-Type": "application/json"},
        lambda body: slack_headers(body, "application/json", secret="not-the-signing-secret"),
        lambda body: slack_headers(body, "application/json", age=600),
    ],
    ids=["unsigned", "wrong-secret", "replayed-after-10-minutes"],
)
def test_slack_refuses_badly_signed_or_stale_requests(running, headers):
    user, channel = f"U{unique_number()}", f"D{unique_number()}"
    body = slack_event(user, channel, "hei")
    answer = running.post("/webhooks/slack/webhook", data=body, headers=headers(body))
    assert answer.status_code == 401
    assert not running.fake.matching(lambda c: c.fields.get("channel") == channel)


# --- Twilio (SMS and WhatsApp) ----------------------------------------------------------------


def twilio_form(name: str, sender: str, text: str) -> dict[str, str]:
    form = fixture(name)
    form.update(Body=text, AccountSid=TWILIO_SID, MessageSid=f"SM{uuid.uuid4().hex}")
    form["From"] = f"whatsapp:{sender}" if form["From"].startswith("whatsapp:") else sender
    form["SmsSid"] = form["SmsMessageSid"] = form["MessageSid"]
    return form


def post_twilio(running: Running, form: dict[str, str]) -> requests.Response:
    headers = {"X-Twilio-Signature": twilio_signature(TWILIO_PUBLIC_URL, form)}
    return running.post("/webhooks/twilio/webhook", data=form, headers=headers)


def twilio_sent(running: Running, to: str) -> list[dict]:
    calls = running.fake.matching(
        lambda c: (
            c.path == f"/twilio/2010-04-01/Accounts/{TWILIO_SID}/Messages.json"
            and c.fields.get("To") == to
        )
    )
    return [call.fields for call in calls]


def new_phone() -> str:
    return f"+35840{unique_number() % 10**7:07d}"


def test_twilio_sms_is_answered_in_finnish_with_numbered_options(running):
    """Signed form in, Messages.json out (from the number written to); the related topics are
    numbered, the "Was this helpful?" options after them numbered on, and "1" typed back opens
    the first related topic."""
    phone = new_phone()
    form = twilio_form("twilio_sms.json", phone, FINNISH_QUESTION)
    answer = post_twilio(running, form)
    assert answer.status_code == 200 and "<Response>" in answer.text
    sent = twilio_sent(running, phone)
    assert sent and all(message["From"] == form["To"] for message in sent)
    body = joined([message["Body"] for message in sent])
    assert FI.text("topic_intro") in body and "**" not in body
    options = re.findall(r"^(\d+)\) (.+)$", body, flags=re.MULTILINE)
    assert [int(number) for number, _ in options] == list(range(1, len(options) + 1))
    assert options[-2:] == [(str(len(options) - 1), FI.text("feedback_yes")),
                            (str(len(options)), FI.text("feedback_no"))]  # fmt: skip
    calls = running.fake.matching(lambda c: c.path.startswith("/twilio/"))
    expected = "Basic " + base64.b64encode(f"{TWILIO_SID}:{TWILIO_TOKEN}".encode()).decode()
    assert calls[0].headers.get("Authorization") == expected

    first_title = options[0][1]
    post_twilio(running, twilio_form("twilio_sms.json", phone, "1"))
    sender_id = conversation_id(TWILIO_TOKEN, phone)
    topic = running.bot.slot(sender_id, "last_topic")
    assert FI.topic_label(topic) in first_title  # a related topic or "More about: <topic>"
    assert phone not in json.dumps(running.bot.tracker(sender_id)), "no phone numbers stored"


def test_twilio_whatsapp_is_answered_from_the_whatsapp_number(running):
    phone = new_phone()
    form = twilio_form("twilio_whatsapp.json", phone, FINNISH_QUESTION)
    assert post_twilio(running, form).status_code == 200
    sent = twilio_sent(running, f"whatsapp:{phone}")
    assert sent and all(message["From"] == "whatsapp:+14155238886" for message in sent)
    body = joined([message["Body"] for message in sent])
    assert FI.text("topic_intro") in body
    assert body.startswith("*") and "**" not in body, "WhatsApp bold is *one star*"


@pytest.mark.parametrize("how", ["wrong-token", "other-url", "changed-body", "unsigned"])
def test_twilio_refuses_requests_without_a_valid_signature(running, how):
    phone = new_phone()
    form = twilio_form("twilio_sms.json", phone, "hei")
    signature = {
        "wrong-token": twilio_signature(TWILIO_PUBLIC_URL, form, token="not-the-auth-token"),
        "other-url": twilio_signature("https://attacker.example/webhook", form),
        "changed-body": twilio_signature(TWILIO_PUBLIC_URL, {**form, "Body": "moi"}),
        "unsigned": "",
    }[how]
    headers = {"X-Twilio-Signature": signature} if signature else {}
    answer = running.post("/webhooks/twilio/webhook", data=form, headers=headers)
    assert answer.status_code == 403
    assert not twilio_sent(running, phone)


# --- Microsoft Bot Framework (Teams) ----------------------------------------------------------


def teams_activity(running: Running, text: str, locale: str) -> dict[str, Any]:
    activity = fixture("botframework_message.json")
    activity.update(text=text, locale=locale, id=str(unique_number()))
    activity["serviceUrl"] = f"{running.fake.url}/botframework/service/"
    activity["from"]["id"] = f"29:{uuid.uuid4().hex}"
    activity["conversation"]["id"] = f"a:{uuid.uuid4().hex}"
    return activity


def post_teams(running: Running, activity: dict, token: str | None) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return running.post("/webhooks/botframework/webhook", json=activity, headers=headers)


def teams_sent(running: Running, activity: dict) -> list[Call]:
    path = f"/botframework/service/v3/conversations/{activity['conversation']['id']}/activities"
    return running.fake.matching(lambda c: c.path == path)


def test_teams_activity_is_answered_in_finnish_with_hero_card_buttons(running):
    """A Bot Connector token signed with a key from the (fake) OpenID key set is accepted; the
    reply goes to the activity's serviceUrl with the token from the (fake) login endpoint."""
    activity = teams_activity(running, f"<at>Kotobot</at> {FINNISH_QUESTION}", "en-US")
    token = bot_connector_token(running.fake, activity["serviceUrl"])
    assert post_teams(running, activity, token).status_code == 200
    sent = teams_sent(running, activity)
    assert sent and all(call.headers["Authorization"] == "Bearer fake-bf" for call in sent)
    replies = [call.fields for call in sent]
    assert FI.text("topic_intro") in joined([reply.get("text", "") for reply in replies])
    assert all(reply["recipient"]["id"] == activity["from"]["id"] for reply in replies)
    cards = [a for reply in replies for a in reply.get("attachments", [])]
    buttons = [button for card in cards for button in card["content"]["buttons"]]
    assert cards and all(c["contentType"] == "application/vnd.microsoft.card.hero" for c in cards)
    assert all(b["type"] == "messageBack" and b["text"].startswith("/") for b in buttons)
    login = running.fake.matching(lambda c: c.path.startswith("/botframework/login/"))
    assert login[0].path == "/botframework/login/botframework.com/oauth2/v2.0/token"
    assert login[0].fields["client_id"] == BOTFRAMEWORK_APP_ID
    assert login[0].fields["scope"] == "https://api.botframework.com/.default"


def test_teams_locale_decides_an_unclear_first_message(running):
    activity = teams_activity(running, "Kela", "sv-SE")
    token = bot_connector_token(running.fake, activity["serviceUrl"])
    assert post_teams(running, activity, token).status_code == 200
    assert running.bot.slot(activity["from"]["id"], "language") == "sv"


@pytest.mark.parametrize(
    "how", ["no-token", "other-key", "other-audience", "other-issuer", "expired", "service-url"]
)
def test_teams_refuses_activities_without_a_valid_bot_connector_token(running, how):
    activity = teams_activity(running, "hei", "fi-FI")
    url = activity["serviceUrl"]
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = {
        "no-token": None,
        "other-key": bot_connector_token(running.fake, url, key=other_key),
        "other-audience": bot_connector_token(running.fake, url, aud="another-bot"),
        "other-issuer": bot_connector_token(running.fake, url, iss="https://evil.example"),
        "expired": bot_connector_token(running.fake, url, exp=int(time.time()) - 3600),
        "service-url": bot_connector_token(running.fake, "https://evil.example/"),
    }[how]
    assert post_teams(running, activity, token).status_code == 401
    assert not teams_sent(running, activity)


# --- the input guard, on every connector ------------------------------------------------------


@dataclass
class Conversation:
    """One user of one connector: what the tests type in, what reached the fake platform."""

    send: Callable[[str], requests.Response]
    sent: Callable[[], list[str]]  # the texts the assistant sent to this user, in order
    sender_id: str  # the Rasa conversation id
    ui_language: str  # what the platform says of the user's language ("en": it says nothing)

    def say(self, text: str, until: Callable[[str], bool] | None = None) -> list[str]:
        """Sends ``text``; the texts sent back once ``until(joined texts)`` holds (default: one
        came) and no more came for a second: Slack answers in the background."""
        before = len(self.sent())
        assert self.send(text).status_code == 200
        until = until or bool
        deadline = time.monotonic() + 30
        while not until(joined(self.sent()[before:])) and time.monotonic() < deadline:
            time.sleep(0.1)
        count, since = len(self.sent()), time.monotonic()
        while time.monotonic() - since < 1.0:
            time.sleep(0.1)
            if len(self.sent()) != count:
                count, since = len(self.sent()), time.monotonic()
        return self.sent()[before:]


def telegram_user(running: Running) -> Conversation:
    chat_id = unique_number()
    return Conversation(
        lambda text: post_telegram(running, telegram_update(chat_id, text, "fi")),
        lambda: [call.fields["text"] for call in telegram_sent(running, chat_id)],
        str(chat_id), "fi",
    )  # fmt: skip


def messenger_user(running: Running) -> Conversation:
    psid = str(unique_number())

    def send(text: str) -> requests.Response:
        body = messenger_event(psid, text)
        signature = {"X-Hub-Signature-256": hub_signature(body, "sha256")}
        return post_messenger(running, body, **signature)

    def sent() -> list[str]:
        return [message.get("text", "") for message in messenger_sent(running, psid)]

    return Conversation(send, sent, psid, "en")


def slack_user(running: Running) -> Conversation:
    user, channel = f"U{unique_number()}", f"D{unique_number()}"

    def send(text: str) -> requests.Response:
        body = slack_event(user, channel, text)
        headers = slack_headers(body, "application/json")
        return running.post("/webhooks/slack/webhook", data=body, headers=headers)

    def sent() -> list[str]:
        calls = running.fake.matching(
            lambda c: c.path == "/slack/api/chat.postMessage" and c.fields.get("channel") == channel
        )
        return [call.fields.get("text", "") for call in calls]

    return Conversation(send, sent, user, "en")


def twilio_user(running: Running) -> Conversation:
    phone = new_phone()
    return Conversation(
        lambda text: post_twilio(running, twilio_form("twilio_sms.json", phone, text)),
        lambda: [message["Body"] for message in twilio_sent(running, phone)],
        conversation_id(TWILIO_TOKEN, phone), "en",
    )  # fmt: skip


def teams_user(running: Running) -> Conversation:
    first = teams_activity(running, "", "fi-FI")

    def send(text: str) -> requests.Response:
        activity = {**copy.deepcopy(first), "text": text, "id": str(unique_number())}
        return post_teams(running, activity, bot_connector_token(running.fake, first["serviceUrl"]))

    def sent() -> list[str]:
        return [call.fields.get("text", "") for call in teams_sent(running, first)]

    return Conversation(send, sent, first["from"]["id"], "fi")


CONNECTOR_USERS = {
    "telegram": telegram_user, "messenger": messenger_user, "slack": slack_user,
    "twilio": twilio_user, "teams": teams_user,
}  # fmt: skip
MAX_CHARS = max_message_chars()


def stored_user_texts(running: Running, sender_id: str) -> list[str]:
    events = running.bot.tracker(sender_id)["events"]
    return [event.get("text") for event in events if event["event"] == "user"]


@pytest.mark.parametrize("connector", list(CONNECTOR_USERS))
def test_connector_refuses_a_100_kb_message_politely(running, connector):
    """Refused before the NLU, in the language its start shows (the Finnish text itself)."""
    user = CONNECTOR_USERS[connector](running)
    started = time.monotonic()
    replies = user.say(f"{FINNISH_QUESTION} " * 3000)
    assert time.monotonic() - started < 6, "a long message must not occupy the NLU"
    assert replies == [FI.text("too_long", max_chars=MAX_CHARS)]
    assert stored_user_texts(running, user.sender_id) == [], "nothing of it is stored"


@pytest.mark.parametrize("connector", list(CONNECTOR_USERS))
def test_connector_answers_an_invisible_message_with_the_fallback(running, connector):
    user = CONNECTOR_USERS[connector](running)
    replies = user.say("\u200b\u2060\ufeff\u202e")
    assert replies == [get_locale(user.ui_language).text("fallback")]
    assert stored_user_texts(running, user.sender_id) == []


@pytest.mark.parametrize("connector", list(CONNECTOR_USERS))
def test_connector_removes_zero_width_and_control_characters(running, connector):
    user = CONNECTOR_USERS[connector](running)
    typed = "mi\u200bten\x00 saan ko\u200btou\u2060tumis\u202esuunnitelman\u202c\ufeff"
    replies = user.say(typed, until=lambda text: FI.text("topic_intro") in text)
    assert FI.text("topic_intro") in joined(replies)
    stored = eventually(lambda: stored_user_texts(running, user.sender_id) or None)
    assert stored == [FINNISH_QUESTION]


@pytest.mark.parametrize("connector", list(CONNECTOR_USERS))
def test_connector_fake_commands_neither_restart_nor_set_a_language(running, connector):
    user = CONNECTOR_USERS[connector](running)
    user.say(FINNISH_QUESTION, until=lambda text: FI.text("topic_intro") in text)
    assert FI.text("help") in joined(user.say("/restart"))
    assert user.say('/greet{"language": "xx"}'), "answered too"
    assert eventually(lambda: running.bot.slot(user.sender_id, "language")) == "fi"
    assert running.bot.slot(user.sender_id, "last_topic") == "integration_plan"
    events = running.bot.tracker(user.sender_id)["events"]
    assert "restart" not in [event["event"] for event in events]
    stored = stored_user_texts(running, user.sender_id)
    assert "/help" in stored and "/restart" not in stored


# --- not configured ---------------------------------------------------------------------------


def test_unconfigured_connectors_answer_503_and_rest_still_works(unconfigured):
    for channel, variable in [
        ("telegram", "TELEGRAM_BOT_TOKEN"), ("facebook", "FACEBOOK_APP_SECRET"),
        ("slack", "SLACK_SIGNING_SECRET"), ("twilio", "TWILIO_AUTH_TOKEN"),
        ("botframework", "BOTFRAMEWORK_APP_ID"),
    ]:  # fmt: skip
        url = f"{unconfigured.base_url}/webhooks/{channel}/webhook"
        answer = requests.post(url, json={"any": "thing"}, timeout=10)
        assert answer.status_code == 503, channel
        assert answer.json()["status"] == "not configured"
        assert variable in answer.json()["missing_environment_variables"]
        assert "Traceback" not in answer.text
    replies = unconfigured.say(f"rest-{uuid.uuid4().hex[:8]}", "hei, mitä kuuluu?")
    assert replies and replies[0]["text"] in greetings("fi")


# --- the shared helpers, without servers ------------------------------------------------------


BUTTONS = [{"title": "Oleskelulupa", "payload": "/residence_permit"},
           {"title": "Suomen kansalaisuus", "payload": "/citizenship"}]  # fmt: skip


def test_numbered_options_and_typed_choices():
    text = numbered_options("Valitse:", BUTTONS)
    assert text == "Valitse:\n\n1) Oleskelulupa\n2) Suomen kansalaisuus"
    for typed in ("2", "2.", " 2) ", "(2)", "[2]", "#2", "suomen KANSALAISUUS"):
        assert payload_for_choice(typed, BUTTONS) == "/citizenship", typed
    for typed in ("3", "0", "22 vuotta", "", "/help"):
        assert payload_for_choice(typed, BUTTONS) is None, typed
    # Where buttons are real buttons (Telegram, Slack, Teams) a typed number is just text.
    assert payload_for_choice("2", BUTTONS, numbers=False) is None
    assert payload_for_choice("Oleskelulupa", BUTTONS, numbers=False) == "/residence_permit"


def test_typed_numbers_index_all_buttons_of_the_last_turn():
    """As the connectors number them: an answer's related topics, then "Was this helpful?"."""
    feedback = [{"title": "Kyllä", "payload": "/feedback_positive"}]
    events = [
        BotUttered("vanha", {"buttons": [{"title": "Vanha", "payload": "/old"}]}),
        UserUttered("miten saan kansalaisuuden"),
        BotUttered("vastaus", {"buttons": BUTTONS}),
        BotUttered("teksti ilman painikkeita", {}),
        BotUttered("Oliko vastauksesta apua?", {"buttons": feedback}),
    ]
    assert offered_buttons(events) == [*BUTTONS, *feedback]
    assert numbered_options("Oliko vastauksesta apua?", feedback, start=3).endswith("3) Kyllä")
    assert payload_for_choice("3", offered_buttons(events)) == "/feedback_positive"


def test_split_message_packs_paragraphs_up_to_the_limit():
    text = "**Otsikko**\n\n" + "sana " * 300 + "\n\n1. vaihe\n2. vaihe"
    parts = split_message(markdown_to_plain(text), 500)
    assert all(len(part) <= 500 for part in parts) and parts[0] == "Otsikko"
    assert " ".join(" ".join(parts).split()) == " ".join(markdown_to_plain(text).split())
    assert split_message("lyhyt\n\nteksti", 4096) == ["lyhyt\n\nteksti"]


def test_platform_locales_become_language_metadata():
    assert language_metadata("fi-FI") == {"language": "fi"}
    assert language_metadata("pt_BR") == {"language": "pt"}
    assert language_metadata(None) == {} and language_metadata("") == {}
