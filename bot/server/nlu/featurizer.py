"""Rasa's CountVectorsFeaturizer without the per-token (sequence) features nobody here reads.

Rasa computes two count vectors per message and featurizer: one row per token (for sequence
models such as DIET) and one for the whole message. Kotobot's classifier reads only the message
row (bot/server/nlu/linear_classifier.py) and no component reads token rows, so computing them was
about half of the featurizers' time per message. Same vocabulary, same message features.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.constants import DENSE_FEATURIZABLE_ATTRIBUTES
from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import (
    CountVectorsFeaturizer,
)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=True)
class SentenceCountVectorsFeaturizer(CountVectorsFeaturizer):
    """CountVectorsFeaturizer that adds only sentence features."""

    def _create_features(
        self, attribute: str, all_tokens: list[list[str]]
    ) -> tuple[list[Any], list[Any]]:
        vectorizer = self.vectorizers.get(attribute)
        if not vectorizer or attribute not in DENSE_FEATURIZABLE_ATTRIBUTES:
            return super()._create_features(attribute, all_tokens)
        sentences = []
        for tokens in all_tokens:
            if not tokens:
                sentences.append(None)
                continue
            features = vectorizer.transform([" ".join(tokens)])
            features.sort_indices()
            sentences.append(features.tocoo())
        return [None] * len(all_tokens), sentences
