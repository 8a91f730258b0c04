"""A connector added only in credentials.yml is guarded too (bot/server/rasa_patches.py).

The Rasa server runs with a credentials file naming nothing but Rasa's own REST connector
(``rest:``, rasa.core.channels.rest.RestInput), which knows nothing of Kotobot's input guard.
"""

from __future__ import annotations

import pytest

from bot.core.locales import get_locale
from bot.core.settings import DEFAULT_MAX_MESSAGE_CHARS
from bot.tools.harness import running_bot
from tests.support.paths import MODEL


@pytest.fixture(scope="module")
def stock_rest(tmp_path_factory):
    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: run `make train` first")
    folder = tmp_path_factory.mktemp("stock-rest")
    credentials = folder / "credentials.yml"
    credentials.write_text("rest:\n", "utf-8")
    with running_bot(MODEL, folder / "logs", credentials=credentials) as bot:
        yield bot


def texts(replies: list[dict]) -> list[str]:
    return [reply.get("text", "") for reply in replies]


def test_an_over_long_message_is_refused_in_its_language_and_not_stored(stock_rest):
    question = "Miten saan kotoutumissuunnitelman, kun olen juuri muuttanut Suomeen? "
    long_text = question * (DEFAULT_MAX_MESSAGE_CHARS // len(question) + 2)
    replies = stock_rest.say("stock-long", long_text)
    expected = get_locale("fi").text("too_long", max_chars=DEFAULT_MAX_MESSAGE_CHARS)
    assert texts(replies) == [expected]
    events = stock_rest.tracker("stock-long")["events"]
    assert not [event for event in events if event["event"] == "user"]  # never reached the NLU


def test_typed_internal_commands_are_not_obeyed(stock_rest):
    stock_rest.say("stock-restart", "Miten saan kotoutumissuunnitelman?")
    assert stock_rest.slot("stock-restart", "language") == "fi"
    replies = stock_rest.say("stock-restart", "/restart")
    assert replies  # answered (the topic menu), not silently restarted
    events = stock_rest.tracker("stock-restart")["events"]
    assert not [event for event in events if event["event"] == "restart"]
    assert stock_rest.slot("stock-restart", "language") == "fi"  # the conversation is kept


def test_invisible_characters_are_removed_before_the_assistant_reads_the_message(stock_rest):
    stock_rest.say("stock-clean", "miten\u200b saan\u202e kotoutumis\u200bsuunnitelman?")
    users = [e for e in stock_rest.tracker("stock-clean")["events"] if e["event"] == "user"]
    assert users and users[-1]["text"] == "miten saan kotoutumissuunnitelman?"
    assert users[-1]["parse_data"]["intent"]["name"] != "nlu_fallback"
