"""Someone in danger (issue #13): 112 first, in every language; ordinary questions are no alarm."""

from __future__ import annotations

import uuid

import pytest

from bot.core.locales import all_locales, get_locale
from bot.core.paths import data_path
from bot.core.taxonomy import taxonomy
from bot.core.yamlio import load_yaml
from bot.server.nlu.emergency_cues import GENERAL, build_cues, emergency_cues
from bot.tools.check_data import nlu_examples

EVAL = data_path("tests", "emergency_eval")
EMERGENCY = "emergency"


def locale_cues(code: str) -> dict:
    return (load_yaml(data_path("locales", f"{code}.yml")) or {}).get("emergency") or {}


def held_out(code: str) -> dict[str, list[str]]:
    return nlu_examples(EVAL / f"{code}.yml")


@pytest.mark.parametrize("code", taxonomy().languages)
def test_every_language_has_cues_bare_cries_and_replies(code):
    cues = locale_cues(code)
    assert len(cues.get("cues") or {}) >= 5 and cues.get("bare"), code
    locale = get_locale(code)
    assert "112" in locale.texts["emergency"]
    for cry in cues["bare"]:
        assert emergency_cues().check(f"{cry}!!").category == GENERAL, (code, cry)


def test_the_emergency_number_alone_or_with_call_is_a_cry_for_help():
    for text in ("112", "112!!!", "call 112", " 112 "):
        assert emergency_cues().check(text).category == GENERAL, text
    assert (
        emergency_cues().check("ist die 112 kostenlos oder kostet das etwas bei euch").category
        is None
    )


def test_cues_match_word_starts_and_chinese_anywhere():
    cues = build_cues(
        {"fi": {"cues": {"suicide": ["itsemurh"]}}, "zh": {"cues": {"suicide": ["自杀"]}}}
    )
    assert cues.check("ajattelen itsemurhaa").category == "suicide"
    assert cues.check("ITSEMURHAA!!").category == "suicide"
    assert cues.check("epäitsemurhaava").category is None  # not at a word start
    assert cues.check("我想自杀了").category == "suicide"


@pytest.mark.parametrize("code", taxonomy().languages)
def test_no_question_the_bot_answers_trips_a_danger_cue(code):
    """The specific answers' own questions and the written test set's questions are ordinary:
    a cue that matches one of them would answer it with 112 (Persian "تجاوز", rape, once matched
    the Arabic "تجاوز الثامنة عشرة", over eighteen)."""
    content = load_yaml(data_path("content", f"{code}.yml")) or {}
    questions = [
        answer["question"]
        for answers in (content.get("answers") or {}).values()
        for answer in answers.values()
    ]
    written = nlu_examples(data_path("tests", "nlu_eval", f"{code}.yml"))
    for intent, texts in written.items():
        questions += texts if intent != EMERGENCY else []
    tripped = [q for q in questions if emergency_cues().check(q).found]
    assert not tripped, tripped


@pytest.mark.parametrize(
    "text, category",
    [
        ("هل يمكنني لمّ شمل ابني الذي تجاوز الثامنة عشرة؟", None),  # Arabic: over eighteen
        ("یه نفر بهم تجاوز کرد", "sexual_violence"),  # Persian: someone raped me
        ("kendimi asla güvende hissetmiyorum", None),  # Turkish: I never feel safe
        ("kendimi asacağım", "suicide"),
        ("my landlord kicked me out, where can we sleep", None),
        ("he kicked me in the stomach", "violence"),
        ("talossa palaa, apua", "fire"),
        ("авария на трассе, двое зажаты в машине", "medical"),
        ("tarviiko vuokra-asuntoon kotivakuutuksen tulipalon varalta", "fire"),
    ],
)
def test_cues_that_collided_with_ordinary_words(text, category):
    signal = emergency_cues().check(text)
    assert signal.category == category
    if text.startswith("tarviiko"):
        assert signal.ordinary  # an insurance question: no alarm unless the classifier says so


@pytest.mark.parametrize("code", taxonomy().languages)
def test_held_out_crisis_messages_get_emergency(nlu, code):
    examples = held_out(code)
    assert len(examples.get(EMERGENCY, [])) >= 10, code
    missed = [t for t in examples[EMERGENCY] if nlu(t)["intent"]["name"] != EMERGENCY]
    assert missed == [], missed


def test_look_alike_questions_are_not_taken_for_emergencies(nlu):
    total, alarms = 0, []
    for code in taxonomy().languages:
        for intent, texts in held_out(code).items():
            if intent == EMERGENCY:
                continue
            total += len(texts)
            alarms += [(code, t) for t in texts if nlu(t)["intent"]["name"] == EMERGENCY]
    assert total >= 100
    assert len(alarms) <= 0.05 * total, alarms


@pytest.mark.parametrize(
    "message, language",
    [("Мой муж бьёт меня, я боюсь", "ru"), ("mieheni lyö minua", "fi"), ("112", "fi"),
     ("help!!", "en"), ("أريد أن أنتحر", "ar"),
     ("J'ai besoin d'une ambulance, mon père ne respire plus", "fr")],
)  # fmt: skip
@pytest.mark.e2e
def test_112_comes_first_in_the_users_language(bot, message, language):
    sender = f"e2e-{uuid.uuid4().hex[:12]}"
    replies = bot.say(sender, message, metadata={"language": language})
    assert replies[0]["text"] == get_locale(language).text("emergency")
    assert len(replies) >= 2, "the fitting helpline follows"
    goodbyes = {str(v) for loc in all_locales() for v in [loc.texts["goodbye"]]}
    assert not any(r.get("text") in goodbyes for r in replies)
