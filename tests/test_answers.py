"""Specific answers (issue #12): content, checks, and the actions that choose and render them."""

from __future__ import annotations

import datetime
import json

import pytest

from actions.fallback import ActionFallbackSuggestions, follow_up_answer
from actions.language import ActionChangeLanguage
from actions.topics import ActionAnswerTopic
from bot.content import content_source
from bot.content.http import InvalidDocument, document_to_topic, topic_to_document
from bot.core.locales import get_locale
from bot.core.taxonomy import taxonomy
from bot.tools import check_data
from tests.support.trackers import load_tracker_state, run_action

TOPIC = "citizenship"


@pytest.fixture(autouse=True)
def feedback_db(tmp_path, monkeypatch):
    monkeypatch.setenv("KOTOBOT_FEEDBACK_DB", str(tmp_path / "feedback.sqlite3"))


def some_answers(topic: str = TOPIC, language: str = "en"):
    content = content_source().topic(topic, language)
    assert content is not None and len(content.answers) >= check_data.MIN_ANSWERS_PER_TOPIC
    return content, content.answers


def state(language: str, parse: dict, **slots):
    result = load_tracker_state("first_message_arabic", slots={"language": language, **slots})
    result["latest_message"] = {"entities": [], **parse}
    return result


def slot_events(events: list[dict]) -> dict:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


# ------------------------------------------------------------------------------ content


def test_every_topic_has_specific_answers_with_sources_in_every_language():
    for language in taxonomy().languages:
        for topic in taxonomy().topic_ids:
            content = content_source().topic(topic, language)
            assert content is not None, (topic, language)
            assert len(content.answers) >= check_data.MIN_ANSWERS_PER_TOPIC, (topic, language)
            for answer in content.answers:
                assert answer.question and answer.answer, answer.key
                assert answer.links() and all(link.url.startswith("https://") for link in
                                               answer.links()), answer.key  # fmt: skip


def test_links_are_in_the_users_language_wherever_the_page_has_that_version():
    for language in taxonomy().languages:
        for topic in taxonomy().topic_ids:
            content = content_source().topic(topic, language)
            for item in (content, *content.answers):
                for page, link in zip(item.pages, item.links(), strict=False):
                    if language in page.versions:
                        assert link.language == language, (language, topic, link.url)


def test_answers_survive_the_content_api_round_trip():
    content, answers = some_answers(language="fi")
    document = json.loads(json.dumps(topic_to_document(content)))
    assert len(document["answers"]) == len(answers)
    assert document_to_topic(document, TOPIC, "fi") == content


@pytest.mark.parametrize(
    "change",
    [
        lambda a: a.pop("pages"),
        lambda a: a.update(pages=[]),
        lambda a: a.update(checked="yesterday"),
        lambda a: a.update(id="Bad Id"),
        lambda a: a.update(answer=""),
    ],
)
def test_an_invalid_answer_in_a_document_is_refused(change):
    content, _ = some_answers()
    document = json.loads(json.dumps(topic_to_document(content)))
    change(document["answers"][0])
    with pytest.raises(InvalidDocument):
        document_to_topic(document, TOPIC, "en")


def test_checks_flag_a_missing_language_a_missing_source_and_an_old_fact(tmp_path, monkeypatch):
    import shutil

    home = tmp_path / "home"
    shutil.copytree(check_data.project_root() / "content", home / "content")
    for name in ("topics.yml", "locales"):
        source = check_data.project_root() / name
        (shutil.copytree if source.is_dir() else shutil.copy)(source, home / name)
    import yaml

    sources = yaml.safe_load((home / "content" / "sources.yml").read_text("utf-8"))
    first, second, third = list(sources[TOPIC]["answers"])[:3]
    sources[TOPIC]["answers"][first]["pages"] = []
    sources[TOPIC]["answers"][second]["checked"] = "2020-01-01"
    (home / "content" / "sources.yml").write_text(yaml.safe_dump(sources), "utf-8")
    somali = yaml.safe_load((home / "content" / "so.yml").read_text("utf-8"))
    del somali["answers"][TOPIC][third]
    (home / "content" / "so.yml").write_text(yaml.safe_dump(somali), "utf-8")
    monkeypatch.setenv("KOTOBOT_HOME", str(home))
    problems = check_data.check_answers(today=datetime.date(2026, 12, 6))
    assert f"content: {TOPIC}/{first}: no official page" in problems
    assert any(
        p.startswith(f"content: {TOPIC}/{second}: fact checked 2020-01-01") for p in problems
    )
    assert f"so: no text for answer {TOPIC}/{third}" in problems
    assert len(problems) == 3, problems


def test_a_link_listed_as_one_language_but_pointing_to_another_is_flagged():
    problems = check_data._page_problems(
        "x", [{"fi": {"url": "https://migri.fi/en/home", "title": "t"}}]
    )
    assert problems == ["x: the fi version links a en page (https://migri.fi/en/home)"]
    assert check_data.url_language("https://migri.fi/sv/x?languageId=en_US") == "en"
    assert check_data.url_language("https://migri.fi/suomen-kansalaisuus") is None


def test_the_repository_content_passes_the_answer_checks():
    assert check_data.check_answers() == []
    assert check_data.check_answer_examples() == []


# ------------------------------------------------------------------------------ actions


def selection(answer_id=None, alternatives=(), topic=TOPIC):
    return {"topic": topic, "id": answer_id, "confidence": 0.9 if answer_id else 0.0,
            "alternatives": list(alternatives), "ranking": [], "other_topics": {}}  # fmt: skip


@pytest.mark.parametrize("language", ["sv", "ar", "zh"])
def test_a_specific_question_gets_the_fact_first_then_an_overview_button(language):
    content, answers = some_answers(language=language)
    target = answers[0]
    parse = {"text": "q", "intent": {"name": TOPIC}, "answer": selection(target.id)}
    events, messages = run_action(ActionAnswerTopic(), state(language, parse))
    first = messages[0]
    assert target.answer in first["text"] and target.question in first["text"]
    assert target.links()[0].url in first["text"]
    assert content.answer not in first["text"], "the specific answer, not the card"
    overview = get_locale(language).text(
        "answer_overview", topic=get_locale(language).topic_label(TOPIC)
    )
    assert {"title": overview, "payload": f"/{TOPIC}"} in first["buttons"]
    assert slot_events(events) == {"last_topic": TOPIC, "last_answer": target.key}


def test_a_general_question_gets_the_topic_card():
    content, _ = some_answers(language="fi")
    parse = {"text": "kansalaisuus", "intent": {"name": TOPIC}, "answer": selection()}
    events, messages = run_action(ActionAnswerTopic(), state("fi", parse))
    assert content.answer in messages[0]["text"]
    assert slot_events(events) == {"last_topic": TOPIC, "last_answer": None}


def test_two_close_answers_are_offered_as_buttons_instead_of_a_guess():
    _, answers = some_answers(language="uk")
    a, b = answers[:2]
    parse = {"text": "q", "intent": {"name": TOPIC}, "answer": selection(None, [a.id, b.id])}
    events, messages = run_action(ActionAnswerTopic(), state("uk", parse))
    buttons = messages[0]["buttons"]
    assert messages[0]["text"] == get_locale("uk").text("answer_choice")
    assert [x["title"] for x in buttons[:2]] == [a.question, b.question]
    assert json.loads(buttons[0]["payload"].removeprefix(f"/{TOPIC}")) == {"answer": a.id}
    assert slot_events(events)["last_answer"] is None


def test_an_answer_button_gets_that_answer():
    _, answers = some_answers(language="fr")
    target = answers[-1]
    parse = {"text": f'/{TOPIC}{{"answer": "{target.id}"}}', "intent": {"name": TOPIC},
             "entities": [{"entity": "answer", "value": target.id}]}  # fmt: skip
    _, messages = run_action(ActionAnswerTopic(), state("fr", parse))
    assert target.answer in messages[0]["text"]


def test_an_answer_of_another_topic_is_never_rendered_under_this_one():
    content, _ = some_answers(language="en")
    _, others = some_answers(topic="residence_permit")
    parse = {"text": "q", "intent": {"name": TOPIC},
             "answer": selection(others[0].id, topic="residence_permit")}  # fmt: skip
    _, messages = run_action(ActionAnswerTopic(), state("en", parse))
    assert content.answer in messages[0]["text"]


def test_a_language_switch_re_renders_the_specific_answer_in_the_new_language():
    _, answers = some_answers(language="so")
    target = answers[1]
    parse = {"text": "/change_language", "intent": {"name": "change_language"},
             "entities": [{"entity": "language", "value": "so"}]}  # fmt: skip
    tracker = state("so", parse, last_topic=TOPIC, last_answer=target.key)
    _, messages = run_action(ActionChangeLanguage(), tracker)
    assert target.answer in "\n".join(m.get("text", "") for m in messages)


def test_a_follow_up_the_nlu_did_not_place_is_answered_within_the_topic():
    _, answers = some_answers(language="en")
    target = answers[2]
    parse = {"text": "and for children?", "intent": {"name": "nlu_fallback"},
             "answer": {**selection(), "topic": None,
                        "other_topics": {TOPIC: {"id": target.id, "confidence": 0.8}}}}  # fmt: skip
    assert follow_up_answer(parse, TOPIC) == target.id
    assert follow_up_answer(parse, "asylum") is None
    events, messages = run_action(ActionFallbackSuggestions(), state("en", parse, last_topic=TOPIC))
    assert target.answer in messages[0]["text"]
    assert slot_events(events) == {"last_answer": target.key}
