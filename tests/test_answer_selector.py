"""The answer selector: trained on a tiny data set, then asked the way the pipeline asks it."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse
from rasa.engine.graph import ExecutionContext
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.server.nlu.answer_selector import ANSWER_KEY, AnswerSelector

WORDS = ["years", "citizenship", "fee", "cost", "dual", "two", "passport", "hello"]


def featurize(message: Message) -> Message:
    """Bag of words over WORDS, set the way Rasa's featurizers set sentence features."""
    tokens = message.get(TEXT).lower().split()
    row = np.array([[tokens.count(word) for word in WORDS]], dtype=float)
    message.add_features(
        Features(scipy.sparse.coo_matrix(row), "sentence", TEXT, "test-featurizer")
    )
    return message


def example(text: str, intent: str, answer: str | None = None) -> Message:
    metadata = {"answer": answer} if answer else None
    return featurize(Message.build(text, intent, intent_metadata=metadata))


@pytest.fixture()
def selector(tmp_path) -> AnswerSelector:
    storage = LocalModelStorage(tmp_path)
    resource = Resource("answer_selector")
    component = AnswerSelector.create(
        AnswerSelector.get_default_config(), storage, resource, ExecutionContext(None, None)
    )
    data = [
        *[example(t, "citizenship", "residence_time") for t in
          ["years citizenship", "how many years", "years years citizenship"]],
        *[example(t, "citizenship", "fee") for t in ["citizenship fee", "fee cost", "cost"]],
        *[example(t, "citizenship", "dual") for t in ["dual citizenship", "two passport", "dual"]],
        example("citizenship", "citizenship"),  # a general example: no answer of its own
        example("hello", "greet"),
    ]  # fmt: skip
    component.train(TrainingData(data))
    return AnswerSelector.load(
        AnswerSelector.get_default_config(), storage, resource, ExecutionContext(None, None)
    )


def parse(selector: AnswerSelector, text: str, intent: str = "citizenship") -> dict | None:
    message = featurize(Message({TEXT: text}))
    message.set(INTENT, {"name": intent, "confidence": 0.9})
    message.set(INTENT_RANKING_KEY, [{"name": intent, "confidence": 0.9}])
    selector.process([message])
    return message.get(ANSWER_KEY)


def test_a_specific_question_gets_its_answer_after_a_save_and_load(selector):
    assert set(selector.models) == {"citizenship"}  # greet is no topic; nothing to learn there
    assert parse(selector, "how many years citizenship")["id"] == "residence_time"
    assert parse(selector, "what does it cost fee")["id"] == "fee"


def test_the_intent_stays_and_a_general_question_gets_no_answer(selector):
    result = parse(selector, "hello")
    assert result["topic"] == "citizenship" and result["id"] is None


def test_no_answer_for_a_button_payload_or_a_topic_without_answers(selector):
    assert parse(selector, "/citizenship") is None
    assert parse(selector, "years", intent="greet") is None


def test_close_answers_are_both_offered():
    component = AnswerSelector({}, None, None)
    ranking = [{"id": "fee", "confidence": 0.45}, {"id": "dual", "confidence": 0.40}]
    decided = component.decide("citizenship", ranking)
    assert decided["id"] is None and decided["alternatives"] == ["fee", "dual"]
    clear = [{"id": "fee", "confidence": 0.8}, {"id": "dual", "confidence": 0.1}]
    assert component.decide("citizenship", clear)["id"] == "fee"
    vague = [{"id": "fee", "confidence": 0.3}, {"id": "dual", "confidence": 0.1}]
    assert component.decide("citizenship", vague) == {
        "topic": "citizenship", "id": None, "confidence": 0.0, "alternatives": [],
        "ranking": vague,
    }  # fmt: skip


def test_spread_probabilities_are_a_general_question_not_two_choices():
    component = AnswerSelector({}, None, None)
    spread = [
        {"id": "how_long", "confidence": 0.32}, {"id": "contents", "confidence": 0.26},
        {"id": "who_gets_one", "confidence": 0.19}, {"id": "when_drawn_up", "confidence": 0.09},
    ]  # fmt: skip
    decided = component.decide("integration_plan", spread)
    assert decided["id"] is None and decided["alternatives"] == []
    two = [{"id": "fee", "confidence": 0.36}, {"id": "dual", "confidence": 0.32}]
    assert component.decide("citizenship", two)["alternatives"] == ["fee", "dual"]
    three = [
        {"id": "who_gets_one", "confidence": 0.35}, {"id": "how_to_ask", "confidence": 0.30},
        {"id": "how_long", "confidence": 0.23}, {"id": "when_drawn_up", "confidence": 0.05},
    ]  # fmt: skip
    decided = component.decide("integration_plan", three)
    assert decided["id"] is None and decided["alternatives"] == []
    two_and_a_far_third = [*two, {"id": "livelihood", "confidence": 0.1}]
    assert component.decide("citizenship", two_and_a_far_third)["alternatives"] == ["fee", "dual"]


def test_a_word_or_two_needs_a_clearer_answer():
    component = AnswerSelector({}, None, None)
    ranking = [{"id": "fee", "confidence": 0.55}, {"id": "dual", "confidence": 0.11}]
    assert component.decide("citizenship", ranking)["id"] == "fee"
    assert component.decide("citizenship", ranking, short=True)["id"] is None
    clear = [{"id": "fee", "confidence": 0.75}, {"id": "dual", "confidence": 0.05}]
    assert component.decide("citizenship", clear, short=True)["id"] == "fee"


def test_answer_only_examples_teach_the_answer_not_the_topic(tmp_path):
    """data/nlu/<code>/official_phrasing.yml: `answer_only` examples train the answer models of
    their topic, and the topic classifier never sees them (so never learns a topic from them)."""
    from bot.server.nlu.linear_classifier import LinearIntentClassifier

    def answer_only(text: str, answer: str) -> Message:
        metadata = {"answer": answer, "answer_only": True}
        return featurize(Message.build(text, "residence_permit", intent_metadata=metadata))

    data = TrainingData([
        *[example(t, "citizenship", "residence_time") for t in ["years citizenship", "years"]],
        *[example(t, "citizenship", "fee") for t in ["citizenship fee", "fee cost"]],
        *[example(t, "greet") for t in ["hello", "hello hello"]],
        *[answer_only(t, "permit_card") for t in ["passport two", "two passport passport"]],
        *[answer_only(t, "fees") for t in ["cost", "cost cost fee"]],
    ])  # fmt: skip
    storage, context = LocalModelStorage(tmp_path), ExecutionContext(None, None)
    classifier = LinearIntentClassifier.create(
        LinearIntentClassifier.get_default_config(), storage, Resource("intents"), context
    )
    classifier.train(data)
    assert sorted(classifier.clf.classes_) == ["citizenship", "greet"]

    selector = AnswerSelector.create(
        AnswerSelector.get_default_config(), storage, Resource("answers"), context
    )
    selector.train(data)
    assert sorted(selector.models) == ["citizenship", "residence_permit"]
    assert parse(selector, "two passport passport", "residence_permit")["id"] == "permit_card"
