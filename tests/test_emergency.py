"""Someone in danger (issue #13): 112 first, in every language; ordinary questions are no alarm."""

from __future__ import annotations

import re
import uuid

import pytest

from bot.core.locales import all_locales, get_locale
from bot.core.paths import data_path
from bot.core.taxonomy import taxonomy
from bot.core.yamlio import load_yaml
from bot.server.nlu.emergency_cues import (
    GENERAL,
    build_cues,
    emergency_cues,
    normalise,
)
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


def test_cues_after_an_arabic_prefix_short_cues_and_the_first_category():
    cues = build_cues(
        {
            "ar": {"cues": {"medical": ["ما يتنفس"]}},
            "en": {"cues": {"threat": ["sos"], "medical": ["knife in his leg"]}},
            "fi": {"cues": {"medical": ["veitsi"]}},
        }
    )
    assert cues.check("ابني وما يتنفس").category == "medical"  # و "and" before the cue
    assert cues.check("ابني سما يتنفس").category is None  # not a one-letter prefix
    assert cues.check("SOS!").category == "threat"  # a cue as short as the lookup key
    assert cues.check("so s").category is None
    assert cues.check("sos, knife in his leg").category == "medical"  # first listed, in "ar"
    assert cues.check("a knife in his leg").category == "medical"
    assert cues.check("a knife in his le").category is None


def _reference_patterns(raw: dict) -> dict[str, re.Pattern[str]]:
    """The matching rule written as one regular expression per category (the old matcher)."""
    parts: dict[str, list[str]] = {}
    for lists in raw.values():
        for category, listed in (lists.get("cues") or {}).items():
            for cue in map(lambda c: normalise(str(c)).strip(), listed or ()):
                if re.search(r"[\u3400-\u9fff]", cue):
                    parts.setdefault(category, []).append(re.escape(cue))
                elif re.search(r"[\u0600-\u06ff]", cue):
                    prefix = r"(?<= )[\u0648\u0641\u0628\u0644\u0643]?"
                    parts.setdefault(category, []).append(prefix + re.escape(cue))
                elif cue:
                    parts.setdefault(category, []).append(r"(?<= )" + re.escape(cue))
    return {category: re.compile("|".join(p)) for category, p in parts.items()}


def test_the_cue_index_finds_what_the_regular_expressions_find():
    raw = {code: locale_cues(code) for code in taxonomy().languages}
    cues = build_cues({code: {"cues": lists.get("cues")} for code, lists in raw.items()})
    texts = [t for code in taxonomy().languages for ts in held_out(code).values() for t in ts]
    for probe in sorted(data_path("tests", "emergency_probes").rglob("*.yml")):
        texts += [str(t) for ts in (load_yaml(probe) or {}).values() for t in ts]
    assert len(texts) >= 1000
    patterns = _reference_patterns(raw)

    def reference(text: str) -> str | None:
        norm = normalise(text)
        return next((c for c in cues.categories if patterns[c].search(norm)), None)

    def indexed(text: str) -> str | None:
        found = cues.danger.labels(normalise(text))
        return cues.categories[min(found)] if found else None

    differ = [t for t in texts if indexed(t) != reference(t)]
    assert not differ, differ[:5]


@pytest.mark.parametrize("code", taxonomy().languages)
def test_no_off_topic_training_example_is_someone_in_danger(code):
    """Examples of ``out_of_scope`` teach the classifier to let a message go: a crisis among
    them ("I have severe chest pain" in Persian, once) teaches it to ignore danger."""
    examples = nlu_examples(data_path("data", "nlu", code)).get("out_of_scope", [])
    assert examples, code
    signals = {t: emergency_cues().check(t) for t in examples}
    tripped = [
        t for t, s in signals.items() if s.category not in (None, GENERAL) and not s.ordinary
    ]
    assert not tripped, tripped


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


def test_calm_questions_about_past_dangers_are_no_cry_for_help():
    """ "My father had a stroke last year, can he get home care?" asks about home care: 112 first
    would not answer it. 195 such questions (tests/fixtures/emergency_calm/, helper-written,
    used to tune the ordinary phrases); a cue with no ordinary phrase may trip at most 1 in 20
    (4 did when written: a febrile seizure, a drowning in 2019, an overdose, epilepsy)."""
    questions = [
        str(q)
        for path in sorted(data_path("tests", "fixtures", "emergency_calm").glob("*.yml"))
        for q in load_yaml(path)
    ]
    assert len(questions) >= 150
    alarms = [q for q in questions if (s := emergency_cues().check(q)).found and not s.ordinary]
    assert len(alarms) <= 0.05 * len(questions), alarms


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
     ("J'ai besoin d'une ambulance, mon père ne respire plus", "fr"),
     # an errand first, the danger in a later clause without a cue word (the clause check)
     ("hej jag ville boka tid på hälsocentralen men min pappa kan inte prata ordentligt och "
      "ena sidan av ansiktet hänger", "sv")],
)  # fmt: skip
@pytest.mark.e2e
def test_112_comes_first_in_the_users_language(bot, message, language):
    sender = f"e2e-{uuid.uuid4().hex[:12]}"
    replies = bot.say(sender, message, metadata={"language": language})
    assert replies[0]["text"] == get_locale(language).text("emergency")
    assert len(replies) >= 2, "the fitting helpline follows"
    goodbyes = {str(v) for loc in all_locales() for v in [loc.texts["goodbye"]]}
    assert not any(r.get("text") in goodbyes for r in replies)


@pytest.mark.parametrize("code", taxonomy().languages)
def test_session_17_situations_trip_cues_and_their_calm_twins_do_not(code):
    """Suicide in progress (all the pills, a rope, the edge), a gas smell, smoke coming in, a
    seizure, a child's overdose: a cue, and no ordinary phrase to wait for the classifier. Their
    calm twins ("I took my pills, can I drink alcohol?", "my son had a seizure last month",
    "I was hit two years ago, I am safe now") must not alarm by the cues alone."""
    checks = load_yaml(data_path("tests", "fixtures", "emergency_cue_checks", f"{code}.yml"))
    missed = [t for t in checks["danger"] if not _alarms(t)]
    alarmed = [t for t in checks["calm"] if _alarms(t)]
    assert not missed and not alarmed, (missed, alarmed)


def _alarms(text: str) -> bool:
    signal = emergency_cues().check(text)
    return signal.found and not signal.ordinary


def test_an_age_typed_against_its_unit_still_trips_the_cue():
    """A number and the word after it ("3yr", "5v") are two words for the cue check, as the
    cues ("yr old is gone") are written; before, "3yr" hid the cue."""
    assert normalise("3yr old, 5v poika") == " 3 yr old 5 v poika "
    assert _alarms("my 3yr old is gone, we are at the mall")


def test_i_dont_know_how_many_is_no_ordinary_how_many():
    """ "He swallowed pills, I don't know how many" holds "how many", an ordinary phrase of
    questions about services ("how many days ..."); it must not silence the poisoning cue."""
    raw = {
        "en": {
            "cues": {"poisoning": ["swallowed pills"]},
            "ordinary": ["how many", "how much does"],
            "amount_unknown": ["don't know how many"],
        },
        "zh": {
            "cues": {"poisoning": ["吃了药"]},
            "ordinary": ["多少"],
            "amount_unknown": ["不知道多少"],
        },
    }
    cues = build_cues(raw)
    for text in ("he swallowed pills, I don't know how many!", "孩子吃了药 不知道多少"):
        signal = cues.check(text)
        assert signal.found and not signal.ordinary, text
    calm = cues.check("he swallowed pills for his cold, how many a day is safe?")
    assert calm.found and calm.ordinary
    without = build_cues({code: {**r, "amount_unknown": []} for code, r in raw.items()})
    assert without.check("he swallowed pills, I don't know how many").ordinary
