"""Rasa's CountVectorsFeaturizer without the per-token (sequence) features nobody here reads.

Rasa computes two count vectors per message and featurizer: one row per token (for sequence
models such as DIET) and one for the whole message. Kotobot's classifier reads only the message
row (bot/server/nlu/linear_classifier.py) and no component reads token rows, so computing them was
about half of the featurizers' time per message. Same vocabulary, same message features.
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.constants import DENSE_FEATURIZABLE_ATTRIBUTES, TOKENS_NAMES
from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import (
    CountVectorsFeaturizer,
)
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, FEATURE_TYPE_SEQUENCE, TEXT
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message
from scipy.sparse import coo_matrix, csr_matrix

from bot.server.nlu.clauses import CLAUSE_FEATURES_KEY, CLAUSES_KEY, clause_spans, group_tokens


def sentence_parts(message: Message, attribute: str = TEXT) -> list[Any]:
    """The message's sparse sentence feature matrices, one per featurizer, in pipeline order."""
    return [
        f.features
        for f in message.features
        if f.attribute == attribute and f.is_sparse() and f.type == FEATURE_TYPE_SENTENCE
    ]


def sentence_matrix(messages: list[Message], attribute: str = TEXT) -> csr_matrix:
    """The messages' sparse sentence features as one CSR matrix, one row per message.

    The same matrix as stacking ``message.get_sparse_features(attribute)[1]`` row by row (the
    featurizers' columns side by side in pipeline order), without Rasa's deep copy and
    ``hstack`` per message: building the intent classifier's training matrix that way took
    ~15 s of ``rasa train``. A message without features gets an empty row.
    """
    rows, columns, values, widths = [], [], [], None
    for row, message in enumerate(messages):
        parts = sentence_parts(message, attribute)
        if not parts:
            continue
        shape = [part.shape[1] for part in parts]
        if widths is None:
            widths = shape
        elif shape != widths:
            raise ValueError(f"sentence features of different widths: {shape} vs {widths}")
        offset = 0
        for part, width in zip(parts, widths, strict=True):
            coo = part.tocoo()
            rows.append(np.full(coo.nnz, row, dtype=np.int64))
            columns.append(coo.col.astype(np.int64) + offset)
            values.append(coo.data)
            offset += width
    width = sum(widths or [0])
    if not rows:
        return csr_matrix((len(messages), width))
    # coo -> csr sums duplicates; a featurizer's row has none, so the values stay as they are
    return coo_matrix(
        (np.concatenate(values), (np.concatenate(rows), np.concatenate(columns))),
        shape=(len(messages), width),
    ).tocsr()


def scaled_rows(matrix: csr_matrix, length: float) -> csr_matrix:
    """Every non-empty row scaled to Euclidean ``length`` (float32; the same non-zeros)."""
    values = matrix.data.astype(np.float32)
    counts = np.diff(matrix.indptr)
    rows = np.repeat(np.arange(len(counts)), counts)
    norms = np.sqrt(np.bincount(rows, weights=values * values, minlength=len(counts)))
    factors = np.divide(length, norms, out=np.zeros_like(norms), where=norms > 0)
    values *= factors[rows].astype(np.float32)
    return csr_matrix((values, matrix.indices, matrix.indptr), shape=matrix.shape)


class CountFeatures(Features):
    """Rasa's Features with a fingerprint hashed from the matrix's arrays.

    ``rasa train`` fingerprints the training data after every graph node; Rasa's sparse
    fingerprint formats every non-zero value as text first (~11 s of training for ~40,000
    examples). The same content gives the same fingerprint, a different one another.
    """

    def fingerprint(self) -> str:
        if self._cached_fingerprint is None:
            coo = self.features.tocoo()
            digest = hashlib.md5(  # noqa: S324 (a fingerprint, as Rasa's)
                repr(
                    (self.type, self.origin, self.attribute, coo.shape, str(coo.data.dtype))
                ).encode()
            )
            for array in (coo.row, coo.col, coo.data):
                digest.update(np.ascontiguousarray(array).tobytes())
            self._cached_fingerprint = digest.hexdigest()
        return self._cached_fingerprint


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=True)
class SentenceCountVectorsFeaturizer(CountVectorsFeaturizer):
    """CountVectorsFeaturizer that adds only sentence features.

    ``sentence_norm``: each message's row scaled to this Euclidean length (None: raw counts, as
    Rasa). With raw counts a long question with a story before it outweighs a short one by its
    length alone, and the featurizer with more columns per word (character n-grams) outweighs
    the other; with scaled rows the words that name the topic still count in a long message.
    """

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {**CountVectorsFeaturizer.get_default_config(), "sentence_norm": None}

    def process(self, messages: list[Message]) -> list[Message]:
        """Rasa's ``process`` transforms one message at a time; this transforms every message of
        an attribute at once (the same features, added in the same order)."""
        if self.vectorizers is None:
            return super().process(messages)
        for attribute in self._attributes:
            if not self.vectorizers.get(attribute):
                continue
            all_tokens = [
                self._get_processed_message_tokens_by_attribute(message, attribute)
                for message in messages
            ]
            sequences, sentences = self._create_features(attribute, all_tokens)
            for message, sequence, sentence in zip(messages, sequences, sentences, strict=True):
                self.add_features_to_message(sequence, sentence, attribute, message)
            if attribute == TEXT:
                self._add_clause_features(messages, all_tokens)
        return messages

    def _add_clause_features(self, messages: list[Message], all_tokens: list[list[str]]) -> None:
        """One feature row per clause of a message of several (bot/server/nlu/clauses.py), for
        the emergency check; the clauses of all messages in one transform. Prediction only."""
        vectorizer = self.vectorizers.get(TEXT)
        if not vectorizer:
            return
        texts, owners = [], []
        for message, tokens in zip(messages, all_tokens, strict=True):
            spans = message.get(CLAUSES_KEY)
            if spans is None:
                spans = clause_spans(message.get(TEXT) or "")
                message.set(CLAUSES_KEY, spans)
            token_objects = message.get(TOKENS_NAMES[TEXT]) or []
            if not spans or len(token_objects) != len(tokens):
                continue
            groups = group_tokens(spans, [t.start for t in token_objects], tokens)
            owners.append((message, len(groups)))
            texts.extend(" ".join(group) for group in groups)
        if not texts:
            return
        matrix = vectorizer.transform(texts).tocsr()
        norm = self._config.get("sentence_norm")
        if norm:
            matrix = scaled_rows(matrix, float(norm))
        row = 0
        for message, count in owners:
            parts = message.get(CLAUSE_FEATURES_KEY) or []
            message.set(CLAUSE_FEATURES_KEY, [*parts, matrix[row : row + count]])
            row += count

    def add_features_to_message(
        self, sequence: Any, sentence: Any, attribute: str, message: Message
    ) -> None:
        """Rasa's, with features that fingerprint fast (:class:`CountFeatures`)."""
        for kind, matrix in ((FEATURE_TYPE_SEQUENCE, sequence), (FEATURE_TYPE_SENTENCE, sentence)):
            if matrix is not None:
                message.add_features(CountFeatures(matrix, kind, attribute, self._identifier))

    def _create_features(
        self, attribute: str, all_tokens: list[list[str]]
    ) -> tuple[list[Any], list[Any]]:
        vectorizer = self.vectorizers.get(attribute)
        if not vectorizer or attribute not in DENSE_FEATURIZABLE_ATTRIBUTES:
            return super()._create_features(attribute, all_tokens)
        # One transform for all messages (training: ~36,000 at once), then one row each: the
        # per-message transform cost ~0.4 ms each in scikit-learn's overhead alone.
        texts = [" ".join(tokens) for tokens in all_tokens if tokens]
        matrix = vectorizer.transform(texts) if texts else None
        if matrix is not None:
            matrix.sort_indices()
            norm = self._config.get("sentence_norm")
            if norm:
                matrix = scaled_rows(matrix, float(norm))
        sentences, row = [], 0
        for tokens in all_tokens:
            if not tokens:
                sentences.append(None)
                continue
            start, end = matrix.indptr[row], matrix.indptr[row + 1]
            sentences.append(
                coo_matrix(
                    (
                        matrix.data[start:end],
                        (np.zeros(end - start, np.int32), matrix.indices[start:end]),
                    ),
                    shape=(1, matrix.shape[1]),
                )
            )
            row += 1
        return [None] * len(all_tokens), sentences
