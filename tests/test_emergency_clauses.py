"""An errand first, then the danger (issue #13): each clause after the first is checked alone."""

from __future__ import annotations

import pytest

from bot.server.nlu.clauses import clause_spans, group_tokens
from bot.server.nlu.emergency_detector import EMERGENCY_INTENT, EmergencyDetector

TURNS = ["but", "mutta", "但是", "en fait"]


def clauses(text: str, breaks: list[str] | None = TURNS) -> list[str]:
    return [text[a:b] for a, b in clause_spans(text, breaks)]


def test_a_clause_ends_at_sentence_punctuation_or_before_a_turn_word():
    assert clauses("I wanted to ask about Kela, but my husband just hit me") == [
        "I wanted to ask about Kela",
        "but my husband just hit me",
    ]
    assert clauses("kysyisin asumistuesta mutta naapurissa palaa") == [
        "kysyisin asumistuesta",
        "mutta naapurissa palaa",
    ]
    chinese = clauses("请问怎么预约医生。但是我女儿不见了找不到")
    assert chinese == ["请问怎么预约医生", "但是我女儿不见了找不到"]
    assert clauses("Bonjour madame. En fait mon fils ne respire plus") == [
        "Bonjour madame",
        "En fait mon fils ne respire plus",
    ]


def test_one_clause_decimals_words_inside_words_and_lone_words_give_nothing():
    assert clauses("how do I book a doctor?") == []
    assert clauses("my daughter has 37.5 degrees and a cough") == []  # no sentence end in 37.5
    assert clauses("butter or margarine for the baby") == []  # "but" only as a word
    assert clauses("Hi! how do I book a doctor") == []  # "Hi" says nothing on its own


def test_the_locales_turn_words_are_used_by_default():
    text = "hej jag ville fråga om bostadsbidraget men min sambo blöder mycket"
    assert [text[a:b] for a, b in clause_spans(text)] == [
        "hej jag ville fråga om bostadsbidraget",
        "men min sambo blöder mycket",
    ]


def test_tokens_go_to_the_clause_they_start_in():
    spans = [(0, 10), (12, 30)]
    assert group_tokens(spans, [0, 5, 12, 20], ["a", "b", "c", "d"]) == [["a", "b"], ["c", "d"]]


@pytest.fixture(scope="module")
def detector() -> EmergencyDetector:
    return EmergencyDetector(EmergencyDetector.get_default_config())


ERRAND = "I wanted to ask about my housing allowance but my wife is not answering me at all"
SPANS = clause_spans(ERRAND, TURNS)
TOPIC = {"name": "housing", "confidence": 0.9}


def test_a_later_clause_the_classifier_is_sure_of_makes_an_emergency(detector):
    found = detector.assess(ERRAND, TOPIC, [TOPIC], SPANS, [0.01, 0.93])
    assert found == {"category": "general", "by": "clause"}


def test_a_first_clause_or_an_unsure_one_does_not(detector):
    assert detector.assess(ERRAND, TOPIC, [TOPIC], SPANS, [0.99, 0.1]) is None
    assert detector.assess(ERRAND, TOPIC, [TOPIC], SPANS, [0.01, 0.7]) is None
    assert detector.assess(ERRAND, TOPIC, [TOPIC], (), ()) is None


def test_a_later_clause_with_a_danger_cue_needs_no_classifier(detector):
    text = "How do I book an appointment at the health centre? My husband is hitting me right now"
    spans = clause_spans(text, TURNS)
    assert len(spans) == 2
    assert detector.assess(text, TOPIC, [TOPIC], spans, [0.0, 0.0])["category"] == "violence"


def test_a_later_clause_with_an_ordinary_phrase_of_its_own_stays_calm(detector):
    text = "Our smoke alarm keeps beeping. How much does a new smoke alarm cost?"
    spans = clause_spans(text, TURNS)
    assert detector.assess(text, TOPIC, [TOPIC], spans, [0.0, 0.95]) is None


# Written for this test (session 13), none trips a danger cue as a whole message: each has an
# ordinary phrase (opening hours, book an appointment, Kela) before the danger.
@pytest.mark.parametrize(
    "text",
    [
        "hi quick question about the opening hours of the health centre but my little boy drank "
        "something from the cleaning cupboard and his mouth is burning",
        "I wanted to book an appointment for my vaccination but my grandma fell down the stairs "
        "and she is not waking up",
        "moi kysyisin kelan asumistuesta mutta mun kaveri otti just koko purkin unilääkkeitä ja "
        "nukahtelee",
        "piti varata aika terveyskeskukseen mutta vauva on ihan veltto eikä herää kunnolla",
        "hej jag ville boka tid på hälsocentralen men min pappa kan inte prata ordentligt och "
        "ena sidan av ansiktet hänger",
        "хотела узнать как записаться в терветаси, но у дочки губы посинели и она хрипит",
        "je voulais demander pour le cours de finnois mais mon mari est tombé par terre et il "
        "respire très bizarrement",
    ],
)
def test_errand_first_then_danger_gets_emergency(nlu, text):
    assert nlu(text)["intent"]["name"] == EMERGENCY_INTENT


@pytest.mark.parametrize(
    "text",
    [
        "I was attacked two years ago. Can I still get compensation from the state?",
        "My son has a mild cold, no fever. Can he go to daycare tomorrow?",
        "Kysyisin kotoutumissuunnitelmasta. Mutta ensin: miten varaan ajan terveysasemalle?",
        "Our building has a fire drill next week. What should I do with my cat?",
    ],
)
def test_calm_messages_of_several_clauses_are_no_alarm(nlu, text):
    assert nlu(text)["intent"]["name"] != EMERGENCY_INTENT
