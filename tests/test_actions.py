"""Custom actions run on JSON tracker fixtures: assert on events and dispatched messages."""

import re

from actions.fallback import ActionFallbackSuggestions
from actions.help import ActionShowHelp
from actions.language import ActionChangeLanguage
from actions.topics import ActionAnswerTopic
from bot.core.locales import get_locale
from bot.core.taxonomy import taxonomy
from tests.support.trackers import load_tracker_state, run_action, track_language


def slot_events(events):
    return {e["name"]: e["value"] for e in events if e["event"] == "slot"}


def test_first_message_sets_the_detected_language():
    assert track_language(load_tracker_state("first_message_arabic")) == {"language": "ar"}


def test_short_message_keeps_the_conversation_language():
    assert track_language(load_tracker_state("finnish_conversation_says_ok")) == {}


def test_button_takes_the_ui_language_from_channel_metadata():
    state = load_tracker_state("button_with_ui_language")
    assert track_language(state) == {"language": "so", "ui_language": "so"}


def test_explicit_request_switches_and_is_confirmed_in_the_new_language():
    state = load_tracker_state("finnish_conversation_says_ok")
    state["latest_message"].update(
        text="in English please",
        intent={"name": "change_language", "confidence": 0.99},
        entities=[{"entity": "language", "value": "en", "start": 3, "end": 10}],
    )
    assert track_language(state) == {"language": "en"}
    state["slots"]["language"] = "en"
    _, messages = run_action(ActionChangeLanguage(), state)
    assert messages[0]["text"] == get_locale("en").text("language_changed", language_name="English")


def test_a_language_button_after_an_emergency_repeats_the_112_advice_in_that_language():
    # Someone who could not read the English 112 advice taps Arabic: the advice again, in
    # Arabic and 112 first, not the housing answer from before the emergency.
    _, messages = run_action(
        ActionChangeLanguage(), load_tracker_state("emergency_then_language_button")
    )
    arabic = get_locale("ar")
    assert [m["text"] for m in messages] == [
        arabic.text("emergency"),
        arabic.text("emergency_help_suicide"),
        arabic.text("language_changed", language_name=arabic.name),
    ]
    assert "112" in messages[0]["text"]


def test_a_language_button_after_a_topic_answer_repeats_the_topic_not_the_advice():
    state = load_tracker_state("emergency_then_language_button")
    state["events"] = state["events"][:6] + state["events"][-1:]  # no emergency in between
    _, messages = run_action(ActionChangeLanguage(), state)
    texts = [m["text"] for m in messages]
    assert get_locale("ar").text("emergency") not in texts
    assert any("**" in text for text in texts[2:])  # the housing answer, in Arabic


def test_change_language_without_a_language_asks_with_buttons():
    state = load_tracker_state(
        "finnish_conversation_says_ok",
        latest_message={
            "text": "vaihda kieli",
            "intent": {"name": "change_language"},
            "entities": [],
        },
    )
    _, messages = run_action(ActionChangeLanguage(), state)
    assert messages[0]["text"] == get_locale("fi").text("ask_language")
    payloads = [b["payload"] for b in messages[0]["buttons"]]
    assert len(payloads) == len(taxonomy().languages)
    assert '/change_language{"language": "ar"}' in payloads


def test_topic_answer_is_in_the_users_language_with_an_official_https_link():
    state = load_tracker_state("first_message_arabic", slots={"language": "ar"})
    events, messages = run_action(ActionAnswerTopic(), state)
    assert slot_events(events) == {"last_topic": "integration_plan", "last_answer": None}
    text = messages[0]["text"]
    assert re.search(r"[\u0600-\u06FF]{3}", text), "answer should be in Arabic script"
    assert re.search(r"https://([a-z0-9-]+\.)+fi/", text)
    assert {b["payload"] for b in messages[0]["buttons"]} <= {f"/{t}" for t in taxonomy().topic_ids}


def _too_short_first_message(text: str, intent: str) -> dict:
    return load_tracker_state(
        "first_message_arabic",
        latest_message={
            "text": text,
            "intent": {"name": intent, "confidence": 0.6},
            "entities": [],
            "language": {"language": "so", "confidence": 0.21, "reliable": False, "words": 1},
        },
    )


def test_first_message_too_short_to_tell_gets_english_and_is_marked_unsure():
    state = _too_short_first_message("hi", "greet")
    assert track_language(state) == {"language": "en", "language_unsure": True}


def test_first_word_that_leans_one_way_gets_that_language_still_unsure():
    state = _too_short_first_message("kansalaisuus", "citizenship")
    state["latest_message"]["language"] = {"language": "fi", "confidence": 0.63, "words": 1}
    assert track_language(state) == {"language": "fi", "language_unsure": True}
    state["slots"].update(language="fi", language_unsure=True)
    _, messages = run_action(ActionAnswerTopic(), state)
    assert messages[-1]["text"] == get_locale("fi").text("ask_language")
    assert len(messages[-1]["buttons"]) == len(taxonomy().languages)


def test_an_unsure_language_offers_the_language_buttons_after_the_answer():
    state = _too_short_first_message("kela", "social_security")
    state["slots"].update(language="en", language_unsure=True)
    _, messages = run_action(ActionAnswerTopic(), state)
    assert messages[-1]["text"] == get_locale("en").text("ask_language")
    payloads = {b["payload"] for b in messages[-1]["buttons"]}
    assert '/change_language{"language": "so"}' in payloads
    assert len(payloads) == len(taxonomy().languages)
    state["slots"]["language_unsure"] = False
    _, settled = run_action(ActionAnswerTopic(), state)
    assert all(m.get("text") != get_locale("en").text("ask_language") for m in settled)


def test_the_next_clear_message_settles_an_unsure_language():
    state = _too_short_first_message("kiitos", "thank")
    state["slots"].update(language="en", language_unsure=True)
    state["latest_message"]["language"] = {"language": "fi", "confidence": 0.93, "reliable": False}
    assert track_language(state) == {"language": "fi", "language_unsure": False}


def test_link_not_in_users_language_is_announced():
    state = load_tracker_state(
        "first_message_arabic",
        slots={"language": "ar"},
        latest_message={"text": "/asylum", "intent": {"name": "asylum"}, "entities": []},
    )
    _, messages = run_action(ActionAnswerTopic(), state)
    # Briefly, after the page's title (bot.content.replies.source_lines): "- Title (English): URL".
    lines = messages[0]["text"].splitlines()
    english, finnish = get_locale("en").name, get_locale("fi").name
    assert any(re.fullmatch(rf"- .+ \({english}\): https://\S+", line) for line in lines)
    assert any(re.fullmatch(rf"- .+ \({finnish}\): https://\S+", line) for line in lines)
    assert not any(line.startswith("  ") for line in lines), "no sentence after each link"


def test_help_lists_every_topic_as_a_button():
    _, messages = run_action(ActionShowHelp(), load_tracker_state("finnish_conversation_says_ok"))
    payloads = [b["payload"] for b in messages[0]["buttons"]]
    assert payloads == [f"/{t}" for t in taxonomy().topic_ids]
    assert messages[0]["buttons"][0]["title"] == get_locale("fi").topic_label(
        taxonomy().topic_ids[0]
    )


def test_fallback_offers_the_likeliest_topics():
    state = load_tracker_state("first_message_arabic", slots={"language": "ar"})
    state["latest_message"]["intent"] = {"name": "nlu_fallback", "confidence": 0.25}
    _, messages = run_action(ActionFallbackSuggestions(), state)
    assert messages[0]["text"] == get_locale("ar").text("fallback")
    assert [b["payload"] for b in messages[1]["buttons"]] == [
        "/integration_plan",
        "/initial_assessment",
    ]


def test_unsupported_language_gets_english_and_finnish_with_language_buttons():
    _, messages = run_action(ActionFallbackSuggestions(), load_tracker_state("german_message"))
    text = messages[0]["text"]
    assert get_locale("en").text("unsupported_language") in text
    assert get_locale("fi").text("unsupported_language") in text
    titles = [b["title"] for b in messages[0]["buttons"]]
    assert "العربية" in titles or get_locale("ar").name in titles
    assert len(titles) == len(taxonomy().languages)
