"""End to end: the real Rasa server and action server, talked to over REST."""

from __future__ import annotations

import re
import uuid

import pytest

from bot.content import content_source
from bot.core.locales import get_locale
from bot.core.taxonomy import taxonomy
from tests.support.paths import LANGID_DEV, langid_dev_lines

pytestmark = pytest.mark.e2e
HTTPS_OFFICIAL = re.compile(r"https://([a-z0-9-]+\.)+fi/")  # official Finnish sites


def new_sender() -> str:
    return f"e2e-{uuid.uuid4().hex[:12]}"


def texts(replies: list[dict]) -> str:
    return "\n".join(reply.get("text", "") for reply in replies)


@pytest.mark.parametrize(
    "greeting, language",
    [("hei, mitä kuuluu?", "fi"), ("hej hej, god morgon", "sv"), ("مرحبا كيف حالك", "ar"),
     ("привет, добрый день", "ru"), ("你好，早上好", "zh")],
)  # fmt: skip
def test_greeting_is_answered_in_the_users_language(bot, greeting, language):
    sender = new_sender()
    replies = bot.say(sender, greeting)
    assert bot.slot(sender, "language") == language
    assert replies, "the bot must answer"
    greet_variants = get_locale(language).texts["greet"]
    variants = greet_variants if isinstance(greet_variants, list) else [greet_variants]
    assert texts(replies) in variants


def test_topic_question_gets_an_answer_with_an_official_link(bot):
    sender = new_sender()
    replies = bot.say(sender, "miten saan kotoutumissuunnitelman")
    assert bot.slot(sender, "language") == "fi"
    assert bot.slot(sender, "last_topic") == "integration_plan"
    assert HTTPS_OFFICIAL.search(texts(replies))


def test_switching_language_mid_conversation_keeps_the_conversation(bot):
    sender = new_sender()
    bot.say(sender, "miten haen oleskelulupaa")
    assert bot.slot(sender, "language") == "fi"
    replies = bot.say(sender, "in English please")
    assert bot.slot(sender, "language") == "en"
    assert replies[0]["text"] == get_locale("en").text("language_changed", language_name="English")
    english = content_source().topic("residence_permit", "en")
    last_answer = bot.slot(sender, "last_answer")
    repeated = english.specific(last_answer.split("/")[1]).answer if last_answer else english.title
    assert repeated in texts(replies[1:]), "the last answer is repeated in English"
    bot.say(sender, "ok")
    assert bot.slot(sender, "language") == "en", "a short message keeps the language"
    bot.say(sender, "как получить гражданство Финляндии")
    assert bot.slot(sender, "language") == "ru", "a clear message in another language switches"
    assert bot.slot(sender, "last_topic") in taxonomy().topic_ids


def test_ui_language_decides_an_uncertain_first_turn(bot):
    sender = new_sender()
    bot.say(sender, "Kela", metadata={"language": "uk"})
    assert bot.slot(sender, "language") == "uk"


def test_a_first_message_too_short_to_tell_is_answered_in_english_with_language_buttons(bot):
    sender = new_sender()
    replies = bot.say(sender, "hi")
    assert bot.slot(sender, "language") == "en"
    assert bot.slot(sender, "language_unsure") is True
    payloads = [b["payload"] for r in replies for b in r.get("buttons", [])]
    assert '/change_language{"language": "ar"}' in payloads
    assert get_locale("en").text("ask_language") in texts(replies)
    bot.say(sender, "kiitos")  # one clear word now decides, as a first message would
    assert bot.slot(sender, "language") == "fi"
    assert not bot.slot(sender, "language_unsure")


def test_a_first_word_that_only_leans_is_answered_in_that_language_with_buttons(bot):
    sender = new_sender()
    # A Finnish word ("flat") and a Spanish one ("matter"): Finnish 0.63 on 2026-12-07, Spanish
    # 0.66 since session 20 (Turkish examples use the Finnish word, so it is no longer typical of
    # Finnish texts alone). Either way a lean, answered in that language.
    replies = bot.say(sender, "asunto")
    language = bot.slot(sender, "language")
    assert language in ("fi", "es")
    # Unsure exactly when the language question follows the answer (a later word table may make
    # "asunto" clear; the policy's bands are tested in tests/test_language_policy.py).
    unsure = bool(bot.slot(sender, "language_unsure"))
    assert unsure == (get_locale(language).text("ask_language") in texts(replies))
    bot.say(sender, "I am looking for an apartment in Espoo")  # the next message decides
    assert bot.slot(sender, "language") == "en"
    assert not bot.slot(sender, "language_unsure")


def test_topic_payload_with_ui_language_is_answered_in_that_language(bot):
    sender = new_sender()
    replies = bot.say(sender, "/citizenship", metadata={"language": "fr"})
    assert bot.slot(sender, "language") == "fr"
    body = texts(replies)
    assert HTTPS_OFFICIAL.search(body)
    assert get_locale("fr").text("topic_intro") in body


def test_unsupported_language_lists_our_languages(bot):
    sender = new_sender()
    replies = bot.say(sender, "Ich möchte wissen, wie ich eine Aufenthaltserlaubnis bekomme")
    assert get_locale("en").text("unsupported_language") in texts(replies)
    buttons = [b["title"] for r in replies for b in r.get("buttons", [])]
    assert len(buttons) == len(taxonomy().languages)


def test_gibberish_falls_back_politely(bot):
    sender = new_sender()
    bot.say(sender, "hola buenos dias")
    replies = bot.say(sender, "qwrtzp xvbnm kkkk")
    assert replies and all("Traceback" not in r.get("text", "") for r in replies)
    assert bot.slot(sender, "language") == "es"


@pytest.mark.skipif(not LANGID_DEV.is_dir(), reason="../shared/langid-dev not available")
def test_two_word_first_messages_set_the_right_language(bot):
    """A sample of the benchmark (make bench runs all 250 per language)."""
    correct = total = 0
    for language in taxonomy().languages:
        lines = langid_dev_lines("word-pairs", language)
        for line in lines[:15]:
            sender = new_sender()
            bot.say(sender, line)
            correct += bot.slot(sender, "language") == language
            total += 1
    assert correct / total >= 0.93


def test_every_topic_in_every_language_gets_an_official_link(bot):
    """Issue #4: REST /topic_id with metadata {"language": xx}: every topic in every language."""
    answered = []
    for language in taxonomy().languages:
        intro = get_locale(language).text("topic_intro")
        for topic in taxonomy().topic_ids:
            sender = new_sender()
            body = texts(bot.say(sender, f"/{topic}", metadata={"language": language}))
            if intro in body and HTTPS_OFFICIAL.search(body):
                answered.append((language, topic))
    assert len(answered) == len(taxonomy().languages) * len(taxonomy().topic_ids)


@pytest.mark.parametrize(
    "question, language, topic, fact",
    [("Hur länge måste jag bo i Finland för att få medborgarskap?", "sv", "citizenship", "8"),
     ("Як довго діє тимчасовий захист?", "uk", "temporary_protection", "2027"),
     ("where can I find an apartment in Helsinki?", "en", "housing", None)],
)  # fmt: skip
def test_a_specific_question_gets_the_fact_first_in_the_users_language(
    bot, question, language, topic, fact
):
    """Issue #12: the first reply answers the question asked, with the page that states it."""
    sender = new_sender()
    replies = bot.say(sender, question)
    assert bot.slot(sender, "language") == language
    assert bot.slot(sender, "last_topic") == topic
    answer_id = (bot.slot(sender, "last_answer") or "/").split("/")[1]
    answer = content_source().topic(topic, language).specific(answer_id)
    assert answer is not None, "a specific answer, not the topic card"
    first = replies[0]["text"]
    assert answer.answer in first and answer.links()[0].url in first
    assert fact is None or fact in answer.answer
