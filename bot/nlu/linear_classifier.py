"""Rasa's LogisticRegressionClassifier, without a 70 MB copy per message.

scikit-learn scores a message as ``X @ coef_.T``. ``coef_`` is row-major (intents × features,
~34 × 270,000 here), so its transpose is column-major and scipy copies the whole matrix into
row-major order before every sparse product: ~10 % of the Rasa server's CPU per message in the
``make bench`` profile. Stored column-major, the transpose is already row-major and nothing is
copied. Same weights, same scores, same training.
"""

from __future__ import annotations

import numpy as np
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.shared.nlu.training_data.message import Message


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class LinearIntentClassifier(LogisticRegressionClassifier):
    """LogisticRegressionClassifier that keeps its weights column-major for fast scoring."""

    def process(self, messages: list[Message]) -> list[Message]:
        coef = getattr(self.clf, "coef_", None)
        if coef is not None and not coef.flags.f_contiguous:
            self.clf.coef_ = np.asfortranarray(coef)
        return super().process(messages)
