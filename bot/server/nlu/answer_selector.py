"""Rasa NLU component: chooses the specific answer within the topic the intent classifier found.

The intent stays the topic id (the contract); this component adds ``answer`` to the parse result:

    "answer": {"topic": "citizenship", "id": "residence_time", "confidence": 0.81,
               "alternatives": [], "ranking": [{"id": "residence_time", "confidence": 0.81}, ...],
               "other_topics": {"residence_permit": {"id": "permanent_permit", "confidence": 0.4}}}

``id`` is None for a general question ("citizenship", "kansalaisuus"): the topic card answers it.
``alternatives`` names two answers when the model cannot tell them apart: the action then offers
both as buttons instead of guessing. ``other_topics`` keeps the best answer of the next likeliest
topics, so a follow-up ("and for children?") can be answered within the conversation's topic.

Training examples of an answer are ordinary examples of the topic intent with the intent-level
metadata ``answer: <id>`` (data/nlu/<code>/answers.yml). One small logistic regression per topic
learns the topic's answers from them, over only the feature columns those examples use: a few MB
in all, where one model over every answer would take hundreds. The topic's other examples are not
used as a "general" class: many of them are specific questions the content has no answer for, and
with them the general class swallowed specific questions (measured: 82% vs 89% on the canonical
questions). A question is general when no answer is likely enough.

An example block with ``answer_only: true`` beside its ``answer`` teaches this component only, not
the topic classifier (see :func:`answer_only`).
"""

from __future__ import annotations

import json
import logging
import os
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import TOKENS_NAMES
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, METADATA, METADATA_INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.core.taxonomy import taxonomy
from bot.server.nlu.featurizer import sentence_matrix, sentence_parts

log = logging.getLogger(__name__)

ANSWER_KEY = "answer"
ANSWER_ONLY_KEY = "answer_only"
COMMAND_PREFIX = "/"
RANKING_LENGTH = 5
OTHER_TOPICS = 2
MODEL_FILE = "answers.npz"
INDEX_FILE = "answers.json"


def answer_label(message: Message) -> str | None:
    """The answer id a training example of a topic stands for, or None."""
    if not taxonomy().is_topic(message.get(INTENT)):
        return None
    metadata = (message.get(METADATA) or {}).get(METADATA_INTENT) or {}
    answer = metadata.get(ANSWER_KEY) if isinstance(metadata, dict) else None
    return str(answer) if answer else None


def answer_only(message: Message) -> bool:
    """True for an example that teaches which answer within its topic a question asks for, but
    not which topic: data/nlu/<code>/official_phrasing.yml. In the topic classifier those
    helper-written examples cost 1-3 points on real questions; in the answer models they gain."""
    metadata = (message.get(METADATA) or {}).get(METADATA_INTENT) or {}
    return bool(isinstance(metadata, dict) and metadata.get(ANSWER_ONLY_KEY))


def sentence_features(message: Message) -> scipy.sparse.csr_matrix | None:
    """The message's sentence features as one CSR row; None when it has none."""
    matrix = sentence_matrix([message])
    return matrix if matrix.nnz or matrix.shape[1] else None


@dataclass
class TopicModel:
    """Answer classifier of one topic: weights over the feature columns its examples use."""

    labels: list[str]
    columns: np.ndarray  # sorted feature indices
    coef: np.ndarray  # labels × columns, float32
    intercept: np.ndarray

    def probabilities(self, features: scipy.sparse.csr_matrix) -> np.ndarray:
        """Softmax over the answers. The message's few non-zero features are looked up in the
        sorted column list (slicing the sparse row by ~30,000 columns cost ~2 ms per topic)."""
        indices, values = features.indices, features.data
        positions = np.minimum(np.searchsorted(self.columns, indices), len(self.columns) - 1)
        known = self.columns[positions] == indices
        scores = self.coef[:, positions[known]] @ values[known] + self.intercept
        if self.coef.shape[0] == 1:  # two labels: scikit-learn keeps one row, for the second
            scores = np.array([0.0, scores[0]])
        scores = scores - scores.max()
        exp = np.exp(scores)
        return exp / exp.sum()


def train_topic_model(
    rows: list[scipy.sparse.csr_matrix], labels: list[str], c: float
) -> TopicModel | None:
    """A logistic regression over the columns these rows use; None: nothing to learn."""
    from bot.server.nlu.lbfgs import fit_logistic_regression

    if len(set(labels)) < 2:
        return None
    matrix = scipy.sparse.vstack(rows, format="csr")
    columns = np.unique(matrix.indices)
    reduced = matrix[:, columns]
    # scikit-learn's LogisticRegression(C=c), fitted without scipy's bound bookkeeping
    clf = fit_logistic_regression(reduced, labels, c=c, max_iter=100, balanced=False)
    return TopicModel(
        labels=[str(label) for label in clf.classes_],
        columns=columns.astype(np.int64),
        coef=clf.coef_.astype(np.float32),
        intercept=clf.intercept_.astype(np.float32),
    )


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class AnswerSelector(GraphComponent):
    """Adds ``answer`` (the specific answer within the predicted topic) to every parse result."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            # Regularisation of the per-topic models (scikit-learn's C).
            "C": 10.0,
            # A specific answer is chosen when its probability reaches this ...
            "specific_threshold": 0.5,
            # ... and beats the runner-up by this much; otherwise both are offered when each
            # reaches `alternative_threshold`, else the topic card answers.
            "ambiguity_margin": 0.15,
            "alternative_threshold": 0.25,
            # ... and only when the two hold this share together: probability spread over many
            # answers ("ما هي خطة الاندماج", what is the integration plan) is a general question.
            "alternatives_min_share": 0.65,
            # ... and only when the third answer is well behind the second (below this share of
            # it): a model torn between three answers ("hur får jag en integrationsplan?": who
            # gets one 0.35, how to ask 0.30, how long 0.23) faces a general question.
            "third_answer_ratio": 0.5,
            # A message of at most this many tokens ("citizenship", "asumistuki") says little:
            # its specific answer needs `short_specific_threshold`, else the topic card answers.
            "short_message_tokens": 2,
            "short_specific_threshold": 0.7,
            # Processes that train the topics' models at once (at most one per core).
            "n_jobs": 2,
        }

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        models: dict[str, TopicModel] | None = None,
    ) -> None:
        self.config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self.models = models or {}

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> AnswerSelector:
        return cls(config, model_storage, resource)

    # -- training -------------------------------------------------------------------------

    def train(self, training_data: TrainingData) -> Resource:
        examples: dict[str, list[Message]] = defaultdict(list)
        labels: dict[str, list[str]] = defaultdict(list)
        for message in training_data.intent_examples:
            label = answer_label(message)
            if label is None or not sentence_parts(message):
                continue
            topic = message.get(INTENT)
            examples[topic].append(message)
            labels[topic].append(label)
        # one matrix per topic: built at once, and cheaper to send to a worker than many rows
        rows = {topic: sentence_matrix(messages) for topic, messages in examples.items()}
        # The topics' models are independent: trained side by side on the machine's cores
        # (joblib, which scikit-learn brings), ~half the time on two.
        from joblib import Parallel, delayed

        topics = sorted(rows)
        c = float(self.config["C"])
        jobs = min(int(self.config["n_jobs"]), os.cpu_count() or 1, len(topics)) or 1
        trained = Parallel(n_jobs=jobs)(
            delayed(train_topic_model)([rows[topic]], labels[topic], c) for topic in topics
        )
        self.models = {
            topic: model for topic, model in zip(topics, trained, strict=True) if model is not None
        }
        log.info("answer selector: %d topics, %d answers", len(self.models),
                 sum(len(m.labels) for m in self.models.values()))  # fmt: skip
        self.persist()
        return self._resource

    def persist(self) -> None:
        arrays: dict[str, np.ndarray] = {}
        index = {}
        for topic, model in self.models.items():
            index[topic] = model.labels
            arrays[f"{topic}.columns"] = model.columns
            arrays[f"{topic}.coef"] = model.coef
            arrays[f"{topic}.intercept"] = model.intercept
        with self._model_storage.write_to(self._resource) as directory:
            np.savez(directory / MODEL_FILE, **arrays)
            (directory / INDEX_FILE).write_text(json.dumps(index), "utf-8")

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> AnswerSelector:
        models = {}
        try:
            with model_storage.read_from(resource) as directory:
                index = json.loads((directory / INDEX_FILE).read_text("utf-8"))
                with np.load(directory / MODEL_FILE, allow_pickle=False) as arrays:
                    for topic, labels in index.items():
                        models[topic] = TopicModel(
                            labels=list(labels),
                            columns=arrays[f"{topic}.columns"],
                            coef=np.ascontiguousarray(arrays[f"{topic}.coef"]),
                            intercept=arrays[f"{topic}.intercept"],
                        )
        except (ValueError, FileNotFoundError) as exc:
            log.warning("answer selector has no trained model (%s); topic cards only", exc)
        return cls(config, model_storage, resource, models)

    # -- inference ------------------------------------------------------------------------

    def ranking(self, topic: str, features: scipy.sparse.csr_matrix) -> list[dict[str, Any]]:
        """Answers of ``topic`` by probability (empty when the topic has none)."""
        model = self.models.get(topic)
        if model is None:
            return []
        probabilities = model.probabilities(features)
        order = np.argsort(-probabilities)[:RANKING_LENGTH]
        return [
            {"id": model.labels[i], "confidence": round(float(probabilities[i]), 4)} for i in order
        ]

    def decide(
        self, topic: str, ranking: list[dict[str, Any]], short: bool = False
    ) -> dict[str, Any]:
        """The chosen answer (None: the topic card) and, when two are too close, both.
        ``short``: the message is a word or two, which needs a clearer answer."""
        config = self.config
        top = ranking[0] if ranking else {"id": None, "confidence": 0.0}
        second = ranking[1] if len(ranking) > 1 else {"id": None, "confidence": 0.0}
        third = ranking[2]["confidence"] if len(ranking) > 2 else 0.0
        close = top["confidence"] - second["confidence"] < config["ambiguity_margin"]
        threshold = config["short_specific_threshold" if short else "specific_threshold"]
        chosen, alternatives = None, []
        if top["confidence"] >= threshold and not close:
            chosen = top["id"]
        elif (
            close
            and second["confidence"] >= config["alternative_threshold"]
            and top["confidence"] + second["confidence"] >= config["alternatives_min_share"]
            and third < config["third_answer_ratio"] * second["confidence"]
        ):
            alternatives = [top["id"], second["id"]]
        return {
            "topic": topic,
            "id": chosen,
            "confidence": top["confidence"] if chosen else 0.0,
            "alternatives": alternatives,
            "ranking": ranking,
        }

    def describe(self, message: Message) -> dict[str, Any] | None:
        text = message.get(TEXT) or ""
        if not text or text.startswith(COMMAND_PREFIX):
            return None  # a button says what it wants; its payload carries the answer if any
        features = sentence_features(message)
        if features is None:
            return None
        topics = [
            entry.get("name")
            for entry in message.get(INTENT_RANKING_KEY) or [message.get(INTENT) or {}]
            if taxonomy().is_topic(entry.get("name"))
        ][: OTHER_TOPICS + 1]
        intent = (message.get(INTENT) or {}).get("name")
        if not topics:
            return None
        main = intent if taxonomy().is_topic(intent) else None
        result = (
            self.decide(main, self.ranking(main, features), short=self._is_short(message))
            if main
            else {"topic": None, "id": None, "confidence": 0.0, "alternatives": [], "ranking": []}
        )
        others = {}
        for topic in topics:
            if topic != main:
                best = self.ranking(topic, features)[:1]
                if best:
                    others[topic] = best[0]
        result["other_topics"] = others
        return result

    def _is_short(self, message: Message) -> bool:
        tokens = message.get(TOKENS_NAMES[TEXT])
        count = len(tokens) if tokens is not None else len((message.get(TEXT) or "").split())
        return count <= int(self.config["short_message_tokens"])

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            described = self.describe(message)
            if described is not None:
                message.set(ANSWER_KEY, described, add_to_output=True)
        return messages
