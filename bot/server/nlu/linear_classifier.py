"""Rasa's LogisticRegressionClassifier, without a 70 MB copy per message.

scikit-learn scores a message as ``X @ coef_.T``. ``coef_`` is row-major (intents × features,
~34 × 270,000 here), so its transpose is column-major and scipy copies the whole matrix into
row-major order before every sparse product: ~10 % of the Rasa server's CPU per message in the
``make bench`` profile. Stored column-major, the transpose is already row-major and nothing is
copied. Rasa also stacks every message's sparse features with an empty dense matrix and returns
COO, which scikit-learn converts back: here the sparse rows go straight into one CSR matrix.
Same features, same weights, same scores.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from scipy.sparse import csr_matrix, hstack

from bot.server.nlu.answer_selector import answer_only
from bot.server.nlu.clauses import CLAUSE_EMERGENCY_KEY, CLAUSE_FEATURES_KEY
from bot.server.nlu.featurizer import sentence_matrix
from bot.server.nlu.lbfgs import fit_logistic_regression

EMERGENCY_INTENT = "emergency"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class LinearIntentClassifier(LogisticRegressionClassifier):
    """LogisticRegressionClassifier that keeps its weights column-major for fast scoring."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        # threads: for the training's sparse products (bot/server/nlu/lbfgs.py); at most the
        # machine's cores.
        return {**LogisticRegressionClassifier.get_default_config(), "threads": 2}

    def train(self, training_data: TrainingData) -> Resource:
        """Rasa's training, with the L-BFGS of bot/server/nlu/lbfgs.py instead of scipy's.
        Examples marked ``answer_only`` train the answer selector, not the topics."""
        training_data = training_data.filter_training_examples(lambda ex: not answer_only(ex))
        X, y = self._create_training_matrix(training_data)  # noqa: N806 (Rasa's names)
        if X.shape[0] == 0:
            return self._resource
        threads = min(int(self.config["threads"]), os.cpu_count() or 1)
        self.clf = fit_logistic_regression(
            X, y, max_iter=int(self.config["max_iter"]), tol=float(self.config["tol"]),
            threads=max(threads, 1),
        )  # fmt: skip
        self.persist()
        return self._resource

    def persist(self) -> None:
        """Saved column-major, so that a server never holds two copies while converting (the
        copy was the Rasa server's peak memory, +44 MB, at its first message)."""
        self._column_major()
        super().persist()

    def process(self, messages: list[Message]) -> list[Message]:
        self._column_major()  # a model trained before persist() did it
        super().process(messages)
        self._score_clauses(messages)
        return messages

    def _score_clauses(self, messages: list[Message]) -> None:
        """The emergency probability of each clause of a message of several clauses
        (bot/server/nlu/clauses.py), for the emergency check after this component."""
        classes = list(getattr(self.clf, "classes_", ()))
        if EMERGENCY_INTENT not in classes:
            return
        column = classes.index(EMERGENCY_INTENT)
        for message in messages:
            parts = message.get(CLAUSE_FEATURES_KEY)
            if not parts:
                continue
            matrix = hstack(parts, format="csr")
            if matrix.shape[1] != self.clf.n_features_in_:
                continue  # not the features this model was trained on: no clause check
            probabilities = self.clf.predict_proba(matrix)[:, column]
            message.set(CLAUSE_EMERGENCY_KEY, [float(p) for p in probabilities])

    def _column_major(self) -> None:
        coef = getattr(self.clf, "coef_", None)
        if coef is not None and not coef.flags.f_contiguous:
            self.clf.coef_ = np.asfortranarray(coef)

    def _create_X(self, messages: list[Message]) -> csr_matrix:  # noqa: N802 (Rasa's name)
        for message in messages:
            if message.get_dense_features(attribute=TEXT)[1] is not None:
                return super()._create_X(messages)  # dense features: Rasa's own way
        matrix = sentence_matrix(messages)
        width = getattr(self.clf, "n_features_in_", 0)
        if matrix.shape[1] == 0 and width:  # no message has features (e.g. an empty text)
            return csr_matrix((len(messages), width))
        return matrix
