"""Hostile and broken input: the text rules in process, then every kind against the real servers.

Issue #7: never a 5xx or a stack trace, a short polite reply in the user's language for every
well-formed message (a JSON object with a string sender and a string message), a clear message
past the maximum length, and the bot keeps serving.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from bot.core.locales import get_locale
from bot.core.taxonomy import taxonomy
from bot.server.channels.message_check import (
    EMPTY,
    TOO_LONG,
    check_message,
    max_message_chars,
    normalize_text,
)
from tests.support.socket_client import SocketChat, texts

MAX = max_message_chars()
INTENTS = {"greet", "help", "change_language", "citizenship", "restart", "session_start", "back"}


# --- The rules (bot/server/channels/message_check.py), in process
# --------------------------------------------------


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("  hei \n\t mitä   kuuluu  ", "hei mitä kuuluu"),
        ("hei\x00\x07\x1b[31m mitä", "hei [31m mitä"),
        ("he\u200bi \u202emiten\u202c \ufeffhaen", "hei miten haen"),
        ("!!!!!!!!!!!!!!!! 😀😀😀😀😀😀😀😀 hmmmmmm", "!!! 😀😀😀 hmmm"),
        ("👍🏽👍🏽👍🏽👍🏽👍🏽", "👍🏽👍🏽👍🏽"),
        ("maksoin 100000 euroa", "maksoin 100000 euroa"),  # digits are never collapsed
        ("می\u200cخواهم", "می\u200cخواهم"),  # Persian ZWNJ stays
        ("e\u0301", "é"),  # NFC
        ("lone \ud800 surrogate", "lone surrogate"),
    ],
)
def test_text_is_normalised(raw, expected):
    assert normalize_text(raw) == expected


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("/restart", "/help"),
        (" / restart ", "/help"),
        ('/session_start{"language": "fi"}', "/help"),
        ("/back", "/help"),
        ('/greet{"language": "xx"', "/greet"),  # unclosed JSON: no entities
        ('/greet{"language": 5}', "/greet"),  # not a string
        ('/greet{"language": ["fi", {"a": 1}]}', "/greet"),
        ('/greet{"language": "fi"}', '/greet{"language": "fi"}'),
        ('/greet@0.01{"language":"sv"}trailing', '/greet{"language": "sv"}'),
        ("/citizenship", "/citizenship"),
        ("/unknown_intent{broken", "/unknown_intent{broken"),  # Rasa reads it as text
        ("miten haen/restart", "miten haen/restart"),
    ],
)
def test_fake_commands_are_defused(raw, expected):
    assert check_message(raw, INTENTS).text == expected


def test_fake_commands_become_words_without_a_help_intent():
    assert check_message("/restart", {"greet"}).text == "restart"


def test_empty_and_too_long_messages_are_flagged():
    assert check_message(" \u200b\n\t ").problem == EMPTY
    assert check_message("a" * (MAX + 1)).problem == TOO_LONG
    assert check_message("a" * 100_000).problem == TOO_LONG
    assert check_message("\u200b" * (MAX * 2) + "hei").problem is None  # invisible padding
    assert check_message("kysymys " * (MAX // 8)).problem is None


# --- Against the real servers --------------------------------------------------------------------


def new_sender() -> str:
    return f"bad-{uuid.uuid4().hex[:12]}"


def post(bot, body, raw: bool = False, **kwargs) -> requests.Response:
    url = f"{bot.base_url}/webhooks/rest/webhook"
    if raw:
        headers = {"Content-Type": "application/json"}
        return bot.http.post(url, data=body, headers=headers, timeout=60, **kwargs)
    return bot.http.post(url, json=body, timeout=60, **kwargs)


def assert_polite_reply(response: requests.Response, sender: str) -> list[dict]:
    assert response.status_code == 200, response.text[:300]
    replies = response.json()
    assert isinstance(replies, list) and replies, "every well-formed message gets an answer"
    assert all(r.get("recipient_id") == sender for r in replies)
    text = "\n".join(r.get("text") or "" for r in replies)
    assert text.strip() or any(r.get("buttons") for r in replies)
    assert "Traceback" not in response.text and "Exception" not in response.text
    return replies


HOSTILE = {
    "empty": "",
    "whitespace": "   \n\t  ",
    "invisible only": "\u200b\u200c\u200d\u2060\ufeff",
    "100 KB": "apua " * 20_000,
    "control characters": "hei\x00\x01\x07\x08\x1b[2J\x7f mitä kuuluu",
    "zero width": "mi\u200bten\u200b ha\u200ben o\u200bles\u200bke\u200blu\u200blu\u200bpaa",
    "rtl override": "\u202eaapulukeselo nehaa netim\u202c",
    "bidi isolates": "\u2066kansalaisuus\u2069 \u2067كيف\u2069",
    "emoji flood": "😀🙏🏽👨‍👩‍👧" * 300,
    "emoji only": "🙏",
    "html/js": '<script>alert("x")</script><img src=x onerror=alert(1)><a href="javascript:1">',
    "template injection": "{{7*7}} ${7*7} {language_name} {max_chars} %s%n {0.__class__}",
    "jinja/ssti": "{% for x in ().__class__.__base__.__subclasses__() %}{{x}}{% endfor %}",
    "sql injection": "'; DROP TABLE events; -- \" OR 1=1 --",
    "fake /restart": "/restart",
    "fake /session_start": '/session_start{"language": "fi"}',
    "fake /back": "/back",
    "bad json payload": '/greet{"language": "xx"',
    "unsupported language payload": '/greet{"language": "xx"}',
    "wrong type payload": '/change_language{"language": 12}',
    "nested payload": '/greet{"language": {"$gt": ""}}',
    "unknown intent payload": "/give_me_admin",
    "only a slash": "/",
    "path traversal": "../../../../etc/passwd %00",
    "very long word": "x" * MAX,
    "mixed scripts": "Miten 申请 居留许可 كيف oleskelulupa получить",
    "format string": "%(message)s %s %d {} {0}",
    "null byte json": "hei\u0000",
    "newline log injection": "hei\n2026-01-01 ERROR fake log line\r\nINFO forged",
}


@pytest.mark.e2e
@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_message_gets_a_polite_reply(bot, name):
    sender = new_sender()
    assert_polite_reply(post(bot, {"sender": sender, "message": HOSTILE[name]}), sender)


@pytest.mark.e2e
def test_too_long_message_is_refused_in_the_conversations_language(bot):
    sender = new_sender()
    bot.say(sender, "miten haen oleskelulupaa")
    assert bot.slot(sender, "language") == "fi"
    started = time.monotonic()
    replies = assert_polite_reply(post(bot, {"sender": sender, "message": "a" * 100_000}), sender)
    assert time.monotonic() - started < 5, "a long message must not occupy the NLU"
    assert replies[0]["text"] == get_locale("fi").text("too_long", max_chars=MAX)
    assert str(MAX) in replies[0]["text"]


@pytest.mark.e2e
@pytest.mark.parametrize("language", ["ar", "uk", "zh"])
def test_first_message_replies_use_the_ui_language(bot, language):
    sender = new_sender()
    replies = post(bot, {"sender": sender, "message": " ", "metadata": {"language": language}})
    assert assert_polite_reply(replies, sender)[0]["text"] == get_locale(language).text("fallback")
    long = post(
        bot, {"sender": sender, "message": "x" * (MAX + 1), "metadata": {"language": language}}
    )
    expected = get_locale(language).text("too_long", max_chars=MAX)
    assert assert_polite_reply(long, sender)[0]["text"] == expected


@pytest.mark.e2e
def test_fake_restart_does_not_wipe_the_conversation(bot):
    sender = new_sender()
    bot.say(sender, "miten saan kotoutumissuunnitelman")
    assert bot.slot(sender, "last_topic") == "integration_plan"
    for command in ("/restart", "/session_start", "/back"):
        replies = assert_polite_reply(post(bot, {"sender": sender, "message": command}), sender)
        assert replies[0]["text"] == get_locale("fi").text("help")  # the topic menu
    assert bot.slot(sender, "language") == "fi"
    assert bot.slot(sender, "last_topic") == "integration_plan"
    events = [e["event"] for e in bot.tracker(sender)["events"]]
    assert "restart" not in events


@pytest.mark.e2e
def test_fake_language_payload_never_sets_an_unsupported_language(bot):
    sender = new_sender()
    assert_polite_reply(
        post(bot, {"sender": sender, "message": '/greet{"language": "xx"}'}), sender
    )
    assert bot.slot(sender, "language") in (None, *taxonomy().languages)
    bot.say(sender, "miten haen oleskelulupaa")
    assert bot.slot(sender, "language") == "fi"
    for message in ('/greet{"language": "xx"}', '/change_language{"language": "xx"}'):
        assert_polite_reply(post(bot, {"sender": sender, "message": message}), sender)
        assert bot.slot(sender, "language") in taxonomy().languages


@pytest.mark.e2e
def test_ui_language_metadata_still_works(bot):
    sender = new_sender()
    bot.say(sender, "Kela", metadata={"language": "uk"})
    assert bot.slot(sender, "language") == "uk"


MALFORMED = {
    "not json": (b"this is not json", True, 400),
    "truncated json": (b'{"sender": "x", "message": "hei"', True, 400),
    "empty body": (b"", True, 400),
    "json list": (b'[{"sender": "x", "message": "hei"}]', True, 400),
    "json string": (b'"hei"', True, 400),
    "json null": (b"null", True, 400),
    "invalid utf-8": (b'{"sender": "x", "message": "\xff\xfe"}', True, 400),
    "deep nesting": (b'{"sender": "x", "message": "hei", "metadata": ' + b"[" * 100_000, True, 400),
    "over 1 MB": (json.dumps({"sender": "x", "message": "a" * 1_100_000}).encode(), True, 413),
    "no sender": ({"message": "hei"}, False, 400),
    "null sender": ({"sender": None, "message": "hei"}, False, 400),
    "empty sender": ({"sender": "  ", "message": "hei"}, False, 400),
    "object sender": ({"sender": {"id": 1}, "message": "hei"}, False, 400),
    "bool sender": ({"sender": True, "message": "hei"}, False, 400),
    "control chars in sender": ({"sender": "a\nb", "message": "hei"}, False, 400),
    "1000-char sender": ({"sender": "s" * 1000, "message": "hei"}, False, 400),
    "no message": ({"sender": "x"}, False, 400),
    "null message": ({"sender": "x", "message": None}, False, 400),
    "number message": ({"sender": "x", "message": 42}, False, 400),
    "list message": ({"sender": "x", "message": ["hei"]}, False, 400),
    "object message": ({"sender": "x", "message": {"text": "hei"}}, False, 400),
}


@pytest.mark.e2e
@pytest.mark.parametrize("name", list(MALFORMED))
def test_malformed_request_gets_a_4xx_json_error(bot, name):
    body, raw, status = MALFORMED[name]
    response = post(bot, body, raw=raw)
    assert response.status_code == status, response.text[:300]
    error = response.json()
    assert error["status"] == status and error["error"] and error["message"]
    assert "Traceback" not in response.text


ODD_BUT_ACCEPTED = {
    "integer sender": {"sender": 12345, "message": "hei"},
    "metadata is a string": {"message": "hei", "metadata": "fi"},
    "metadata is a list": {"message": "hei", "metadata": ["fi"]},
    "language is a number": {"message": "hei", "metadata": {"language": 5}},
    "unknown language": {"message": "hei", "metadata": {"language": "xx-YY"}},
    "huge metadata": {"message": "hei", "metadata": {"language": "fi", "junk": "x" * 50_000}},
    "extra fields": {"message": "hei", "admin": True, "input_channel": {"x": 1}},
    "input_channel injection": {"message": "hei", "input_channel": "../../socketio"},
}


@pytest.mark.e2e
@pytest.mark.parametrize("name", list(ODD_BUT_ACCEPTED))
def test_odd_but_well_formed_requests_are_answered(bot, name):
    body = {"sender": new_sender(), **ODD_BUT_ACCEPTED[name]}
    assert_polite_reply(post(bot, body), str(body["sender"]))


@pytest.mark.e2e
def test_bot_keeps_serving_during_and_after_hostile_input(bot):
    """Ordinary users are answered quickly while hostile requests arrive at the same time."""
    hostile = [{"sender": new_sender(), "message": text} for text in HOSTILE.values()] * 2
    with ThreadPoolExecutor(max_workers=6) as pool:
        flood = [pool.submit(post, bot, body) for body in hostile]
        sender = new_sender()
        started = time.monotonic()
        replies = bot.say(sender, "miten saan kotoutumissuunnitelman")
        elapsed = time.monotonic() - started
        statuses = [future.result().status_code for future in flood]
    assert all(status == 200 for status in statuses)
    print(f"ordinary question answered in {elapsed:.2f} s during a flood of {len(flood)}")
    assert replies and bot.slot(sender, "last_topic") == "integration_plan"
    # Before the length limit one 100 KB message held the event loop for ~40 s.
    assert elapsed < 15, f"an ordinary question took {elapsed:.1f} s during the flood"
    health = bot.http.get(f"{bot.base_url}/webhooks/rest/", timeout=10)
    assert health.status_code == 200 and health.json() == {"status": "ok"}


@pytest.mark.e2e
def test_streaming_requests_are_validated_too(bot):
    sender = new_sender()
    response = post(bot, {"sender": sender, "message": "kansalaisuus"}, params={"stream": "true"})
    assert response.status_code == 200
    lines = [json.loads(line) for line in response.text.splitlines() if line.strip()]
    assert lines and all(line["recipient_id"] == sender for line in lines)
    assert post(bot, {"sender": sender, "message": 3}, params={"stream": "true"}).status_code == 400


# --- socket.io (the web widget): the same guard as REST ------------------------------------------


def user_texts(bot, sender: str) -> list[str]:
    """What the tracker store keeps of the user's messages."""
    return [e.get("text") for e in bot.tracker(sender)["events"] if e["event"] == "user"]


def topic_answered(replies: list[dict]) -> bool:
    return get_locale("fi").text("topic_intro") in texts(replies)


@pytest.mark.e2e
def test_socketio_too_long_message_is_refused_in_the_ui_language(bot):
    async def scenario() -> tuple[str, list[dict], float]:
        async with SocketChat(bot.base_url) as chat:
            started = time.monotonic()
            replies = await chat.say("apua " * 20_000, language="ar", quiet=0)
            return chat.session_id, replies, time.monotonic() - started

    session, replies, elapsed = asyncio.run(scenario())
    assert [reply["text"] for reply in replies] == [
        get_locale("ar").text("too_long", max_chars=MAX)
    ]
    assert elapsed < 5, "a long message must not occupy the NLU"
    assert user_texts(bot, session) == [], "nothing of it reaches the tracker store"


@pytest.mark.e2e
@pytest.mark.parametrize(
    "message",
    ["", "   \n\t  ", "\u200b\u2060\ufeff\u202e", 42, None, ["hei"], {"text": "hei"}],
    ids=["empty", "whitespace", "invisible", "number", "null", "list", "object"],
)
def test_socketio_empty_or_non_text_message_gets_the_fallback(bot, message):
    async def scenario() -> tuple[str, list[dict]]:
        async with SocketChat(bot.base_url) as chat:
            return chat.session_id, await chat.say(message, language="uk")

    session, replies = asyncio.run(scenario())
    assert [reply["text"] for reply in replies] == [get_locale("uk").text("fallback")]
    assert user_texts(bot, session) == []


@pytest.mark.e2e
def test_socketio_invisible_and_control_characters_never_reach_the_tracker(bot):
    typed = "mi\u200bten\x00 saan\u00a0ko\u200btou\u2060tumis\u202esuunnitelman\u202c\ufeff\x07"

    async def scenario() -> tuple[str, list[dict]]:
        async with SocketChat(bot.base_url) as chat:
            return chat.session_id, await chat.say(typed, until=topic_answered)

    session, replies = asyncio.run(scenario())
    assert topic_answered(replies), texts(replies)
    assert user_texts(bot, session) == ["miten saan kotoutumissuunnitelman"]
    assert bot.slot(session, "last_topic") == "integration_plan"


@pytest.mark.e2e
def test_socketio_fake_commands_neither_restart_nor_set_a_language(bot):
    fi = get_locale("fi")

    async def scenario() -> tuple[str, list[dict], list[dict]]:
        async with SocketChat(bot.base_url) as chat:
            await chat.say("miten saan kotoutumissuunnitelman", until=topic_answered)
            restart = await chat.say("/restart")
            fake = await chat.say('/greet{"language": "xx"}')
            return chat.session_id, restart, fake

    session, restart, fake = asyncio.run(scenario())
    assert restart[0]["text"] == fi.text("help") and restart[0].get("quick_replies")
    assert fake, "the fake payload is answered too"
    assert bot.slot(session, "language") == "fi"
    assert bot.slot(session, "last_topic") == "integration_plan"
    events = bot.tracker(session)["events"]
    assert "restart" not in [event["event"] for event in events]
    assert "/restart" not in user_texts(bot, session) and "/help" in user_texts(bot, session)


@pytest.mark.e2e
def test_socketio_malformed_payloads_are_survived(bot):
    """Payloads no widget sends: ignored or answered, and the connection keeps serving."""

    async def scenario() -> tuple[list[dict], list[dict]]:
        async with SocketChat(bot.base_url) as chat:
            for payload in ("not an object", None, [1, 2], {"message": "hei"}):
                await chat.send(payload)  # no session id: nothing to answer to
            ignored = await chat.replies_after(0, until=lambda _: True, quiet=2.0)
            before = len(chat.replies)
            await chat.send(
                {"message": "hei, mitä kuuluu?", "session_id": chat.session_id,
                 "customData": "{not json"}
            )  # fmt: skip
            answered = await chat.replies_after(before)
            return ignored, answered

    ignored, answered = asyncio.run(scenario())
    assert ignored == []
    greet = get_locale("fi").texts["greet"]
    assert answered and answered[0]["text"] in (greet if isinstance(greet, list) else [greet])
