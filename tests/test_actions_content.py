"""Actions around topic answers: services, reception, feedback, follow-ups, language re-render."""

import time

import pytest

from actions import common
from actions.fallback import ActionFallbackSuggestions
from actions.feedback import ActionRecordFeedback
from actions.language import ActionChangeLanguage
from actions.reception import ActionReceptionInfo
from actions.services import ActionServiceDetails
from actions.topics import ActionAnswerTopic
from bot.answers.feedback import FeedbackLog
from bot.content import content_source
from bot.content.http import HttpContentSource
from bot.content.ptv import ServiceDetails
from bot.core.locales import get_locale
from tests.support.trackers import load_tracker_state, run_action


@pytest.fixture(autouse=True)
def feedback_db(tmp_path, monkeypatch):
    path = tmp_path / "feedback.sqlite3"
    monkeypatch.setenv("KOTOBOT_FEEDBACK_DB", str(path))
    return path


def state_for(topic: str, language: str, **slots):
    state = load_tracker_state("first_message_arabic", slots={"language": language, **slots})
    state["latest_message"] = {"text": f"/{topic}", "intent": {"name": topic}, "entities": []}
    return state


def test_plain_topic_answer_ends_with_the_feedback_question():
    _, messages = run_action(ActionAnswerTopic(), state_for("citizenship", "es"))
    assert messages[-1]["text"] == get_locale("es").text("feedback_ask")
    assert [b["payload"] for b in messages[-1]["buttons"]] == [
        "/feedback_positive",
        "/feedback_negative",
    ]


def test_reception_info_lists_who_to_contact_with_official_links():
    _, messages = run_action(ActionReceptionInfo(), state_for("asylum", "uk"))
    text = messages[0]["text"]
    assert get_locale("uk").text("reception_centre") in text
    assert "https://" in text
    assert messages[-1]["text"] == get_locale("uk").text("feedback_ask")


def test_reception_info_stays_out_of_the_way_of_a_specific_answer():
    state = state_for(
        "temporary_protection", "uk", last_answer="temporary_protection/validity_end_date"
    )
    _, messages = run_action(ActionReceptionInfo(), state)
    assert [m["text"] for m in messages] == [get_locale("uk").text("feedback_ask")]


def test_service_details_asks_for_the_municipality_once():
    events, messages = run_action(ActionServiceDetails(), state_for("employment", "tr"))
    assert messages[0]["text"] == get_locale("tr").text("followup_hint")
    assert {"event": "slot", "name": "municipality_asked", "value": True, "timestamp": None} in [
        {**e, "timestamp": None} for e in events
    ]
    _, again = run_action(
        ActionServiceDetails(), state_for("employment", "tr", municipality_asked=True)
    )
    assert [m["text"] for m in again] == [get_locale("tr").text("feedback_ask")]


class FakePtv:
    def __init__(self, services):
        self.services = services
        self.calls = []

    def services_for_municipality(self, code, language):
        self.calls.append((code, language))
        return self.services


def service(name, summary, language="en"):
    return ServiceDetails(
        "id-" + name, name, summary, language, phone="+358 9 123", web_page="https://example.fi"
    )


def test_service_details_for_a_known_municipality(monkeypatch):
    ptv = FakePtv(
        [
            service("Immigrant advice", "Advice for immigrants in Tampere"),
            service("Dog park", "Parks"),
        ]
    )
    monkeypatch.setattr("actions.services.ptv_client", lambda: ptv)
    _, messages = run_action(
        ActionServiceDetails(), state_for("employment", "ar", municipality="Tampere")
    )
    assert ptv.calls == [("837", "ar")]
    text = messages[0]["text"]
    assert "Immigrant advice" in text and "Dog park" not in text
    assert (
        get_locale("ar").text("ptv_language_note", language_name="العربية", page_language="English")
        in text
    )


def test_service_catalogue_down_gives_a_polite_message(monkeypatch):
    monkeypatch.setattr("actions.services.ptv_client", lambda: FakePtv(None))
    _, messages = run_action(
        ActionServiceDetails(), state_for("employment", "fi", municipality="Oulu")
    )
    assert messages[0]["text"] == get_locale("fi").text("services_unavailable")


def test_and_in_tampere_follow_up_gives_local_services(monkeypatch):
    ptv = FakePtv([service("Maahanmuuttajien neuvonta", "Kotoutumispalvelut", "fi")])
    monkeypatch.setattr("actions.services.ptv_client", lambda: ptv)
    state = load_tracker_state("finnish_conversation_says_ok")
    state["latest_message"] = {
        "text": "entä Tampereella?",
        "intent": {"name": "nlu_fallback"},
        "entities": [{"entity": "municipality", "value": "Tampere", "start": 5, "end": 16}],
    }
    _, messages = run_action(ActionFallbackSuggestions(), state)
    assert ptv.calls == [("837", "fi")]
    assert "Maahanmuuttajien neuvonta" in messages[0]["text"]


def _fallback_state(language: str, ranking: list[tuple[str, float]]) -> dict:
    state = load_tracker_state("first_message_arabic", slots={"language": language})
    state["latest_message"]["intent"] = {"name": ranking[0][0], "confidence": ranking[0][1]}
    state["latest_message"]["intent_ranking"] = [{"name": n, "confidence": c} for n, c in ranking]
    return state


def test_a_near_tie_between_topics_asks_which_one_without_saying_sorry():
    # "Vilka dokument behöver jag för uppehållstillstånd på grund av arbete?": 0.25 / 0.24
    torn = [("nlu_fallback", 0.2), ("work_based_immigration", 0.25), ("residence_permit", 0.24)]
    _, messages = run_action(ActionFallbackSuggestions(), _fallback_state("sv", torn))
    sv = get_locale("sv")
    assert messages[0]["text"] == sv.text("fallback_ambiguous")
    assert [b["payload"] for b in messages[0]["buttons"]][:2] == [
        "/work_based_immigration",
        "/residence_permit",
    ]
    assert all(m.get("text") != sv.text("fallback") for m in messages)
    lost = [("nlu_fallback", 0.2), ("work_based_immigration", 0.12), ("residence_permit", 0.09)]
    _, messages = run_action(ActionFallbackSuggestions(), _fallback_state("sv", lost))
    assert messages[0]["text"] == sv.text("fallback")


def test_not_understood_questions_are_logged_for_editors(feedback_db):
    state = load_tracker_state("first_message_arabic", slots={"language": "ar"})
    state["latest_message"]["intent"] = {"name": "nlu_fallback"}
    run_action(ActionFallbackSuggestions(), state)
    entries = FeedbackLog(feedback_db).entries()
    assert [(e.kind, e.language) for e in entries] == [("fallback", "ar")]


def test_negative_feedback_records_the_question_it_is_about(feedback_db):
    state = load_tracker_state("finnish_conversation_says_ok")
    state["latest_message"] = {
        "text": "/feedback_negative",
        "intent": {"name": "feedback_negative"},
        "entities": [],
    }
    state["events"].append({"event": "user", "text": "/feedback_negative", "metadata": {}})
    _, messages = run_action(ActionRecordFeedback(), state)
    entry = FeedbackLog(feedback_db).entries()[0]
    assert (entry.kind, entry.language, entry.topic) == ("negative", "fi", "integration_plan")
    assert entry.question == "ok"
    assert messages[0]["text"] == get_locale("fi").text("feedback_thanks")


def test_switching_language_repeats_the_last_answer_in_the_new_language():
    state = load_tracker_state("finnish_conversation_says_ok", slots={"language": "sv"})
    state["latest_message"] = {
        "text": "på svenska tack",
        "intent": {"name": "change_language"},
        "entities": [{"entity": "language", "value": "sv", "start": 0, "end": 10}],
    }
    _, messages = run_action(ActionChangeLanguage(), state)
    sv_title = content_source().topic("integration_plan", "sv").title
    assert sv_title in messages[-1]["text"]
    assert messages[0]["text"] == get_locale("sv").text("language_changed", language_name="svenska")


def test_topic_answers_arrive_within_3_s_when_the_content_api_is_down(monkeypatch):
    dead = HttpContentSource("http://127.0.0.1:9", ttl=300)
    monkeypatch.setattr(common, "content_source", lambda: dead)
    start = time.monotonic()
    _, messages = run_action(ActionAnswerTopic(), state_for("residence_permit", "fa"))
    assert time.monotonic() - start < 3
    assert "https://" in messages[0]["text"]


def test_a_municipality_on_its_own_gives_its_services(monkeypatch):
    ptv = FakePtv([service("Integration services", "Advice for immigrants in Espoo")])
    monkeypatch.setattr("actions.services.ptv_client", lambda: ptv)
    state = load_tracker_state("first_message_arabic", slots={"language": "en"})
    state["latest_message"] = {
        "text": "I live in Espoo",
        "intent": {"name": "out_of_scope"},
        "entities": [{"entity": "municipality", "value": "Espoo", "start": 10, "end": 15}],
    }
    _, messages = run_action(ActionFallbackSuggestions(), state)
    assert ptv.calls == [("049", "en")]
    assert "Integration services" in messages[0]["text"]
