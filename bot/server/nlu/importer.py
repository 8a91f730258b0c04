"""Rasa training-data importer: the NLU files read with libyaml, each example told its language.

Rasa's RasaFileImporter parses every NLU file with a pure-Python YAML parser and checks it against
Rasa's schema with pykwalify: ~20 s for Kotobot's ~37,000 examples, paid twice by ``rasa train``
(its validation step, then the training graph). This importer parses with PyYAML's C loader and
builds the same examples (tests/test_nlu_importer.py compares them with Rasa's reader); the
schema check stays in ``make check-data`` (bot/tools/check_data.py runs Rasa's own reader on
every file). Domain, stories and rules are read as Rasa reads them.

An example in ``data/nlu/<code>/`` is written in language ``<code>``: the importer says so on the
example (``LANGUAGE_HINT``), and at training the language detector takes that instead of
detecting (~45 s for all examples; and right where a two-word example would be misread).
"""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path
from typing import Any

import yaml
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.shared.importers.rasa import RasaFileImporter
from rasa.shared.nlu.training_data.formats.rasa_yaml import (
    KEY_NLU,
    KEY_RESPONSES,
    RasaYAMLReader,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from rasa.shared.utils import validation

from bot.core.taxonomy import taxonomy

LANGUAGE_HINT = "language_hint"
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class ImportedMessage(Message):
    """A training example whose fingerprint costs one hash instead of one per value.

    Rasa fingerprints the training data after every node of the training graph (to find what
    its cache can restore), and every example again whenever one is added to a TrainingData
    (duplicates are dropped by hash). Its fingerprint hashes each string, number and token
    separately: most of ``rasa train``'s time outside the classifiers for ~37,000 examples.
    This one serialises the example once (JSON, sorted keys) and hashes that: equal examples
    get equal fingerprints, and any change of text, intent, metadata, tokens or features
    changes it (tests/test_nlu_importer.py).
    """

    def fingerprint(self) -> str:
        if self._cached_fingerprint is None:
            try:
                payload = json.dumps(
                    [self.data, [feature.fingerprint() for feature in self.features]],
                    sort_keys=True,
                    ensure_ascii=False,
                    default=_plain,
                )
            except (TypeError, ValueError):  # keys JSON cannot sort: Rasa's own way
                return super().fingerprint()
            self._cached_fingerprint = hashlib.md5(  # noqa: S324 (a fingerprint, as Rasa's)
                payload.encode("utf-8", "surrogatepass")
            ).hexdigest()
        return self._cached_fingerprint

    def __deepcopy__(self, memo: dict) -> ImportedMessage:
        """Rasa's importers merge (deep-copy) all examples four times before training; copying
        the attributes directly, strings and numbers shared, takes a fraction of the generic
        deep copy's time."""
        clone = object.__new__(type(self))
        memo[id(self)] = clone
        clone.__dict__.update(
            (key, value if isinstance(value, _ATOMIC) else copy.deepcopy(value, memo))
            for key, value in self.__dict__.items()
        )
        return clone


_ATOMIC = (str, int, float, bool, type(None))


def _plain(value: Any) -> Any:
    """What JSON cannot write: a token as its parts, else the object's own fingerprint."""
    if isinstance(value, Token):
        return [value.text, value.start, value.end, value.lemma, value.data]
    if callable(getattr(value, "fingerprint", None)):
        return value.fingerprint()
    return repr(value)


class _LibyamlNLUReader(RasaYAMLReader):
    """RasaYAMLReader.reads with PyYAML's C loader and without the pykwalify schema check."""

    def reads(self, string: str, **kwargs: Any) -> TrainingData:  # noqa: ARG002 (Rasa's signature)
        content = yaml.load(string, Loader=_LOADER) or {}  # noqa: S506 (a safe loader)
        if not validation.validate_training_data_format_version(content, self.filename):
            return TrainingData()
        for key, value in content.items():
            if key == KEY_NLU:
                self._parse_nlu(value)
            elif key == KEY_RESPONSES:
                self.responses = value
        for example in self.training_examples:
            example.__class__ = ImportedMessage  # the same example, a cheaper fingerprint
        return TrainingData(
            self.training_examples,
            self.entity_synonyms,
            self.regex_features,
            self.lookup_tables,
            self.responses,
        )


def read_nlu_file(path: str | Path) -> TrainingData:
    """One NLU file's training data, as Rasa's reader makes it."""
    reader = _LibyamlNLUReader()
    reader.filename = str(path)
    return reader.reads(Path(path).read_text("utf-8"))


def language_of_file(path: str | Path) -> str | None:
    """``fi`` for data/nlu/fi/*.yml; None outside a supported language's folder."""
    language = Path(path).parent.name
    return language if language in taxonomy().languages else None


def combine(parts: list[TrainingData]) -> TrainingData:
    """One TrainingData of several, without the deep copies of ``TrainingData.merge``: the
    parts are fresh from their files and used nowhere else."""
    examples, regexes, lookups = [], [], []
    synonyms: dict[str, str] = {}
    responses: dict[str, Any] = {}
    for part in parts:
        examples.extend(part.training_examples)
        regexes.extend(part.regex_features)
        lookups.extend(part.lookup_tables)
        synonyms.update(part.entity_synonyms)
        responses.update(part.responses)
    return TrainingData(examples, synonyms, regexes, lookups, responses)


class NLUFilesImporter(RasaFileImporter):
    """RasaFileImporter whose NLU data comes from :func:`read_nlu_file`."""

    def get_nlu_data(self, language: str | None = "en") -> TrainingData:  # noqa: ARG002
        parts, languages = [], {}
        for path in sorted(self._nlu_files):
            part = read_nlu_file(path)
            if file_language := language_of_file(path):
                languages.update((id(example), file_language) for example in part.training_examples)
            parts.append(part)
        # Duplicates go as in Rasa (the same example in two languages' files is one example),
        # so the language is set on the examples that remain.
        data = combine(parts)
        for example in data.training_examples:
            if id(example) in languages:
                example.set(LANGUAGE_HINT, languages[id(example)])
        return data
