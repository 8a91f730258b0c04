"""langdetect over its own profiles held in a mapped table instead of ~60 MB of Python lists.

langdetect keeps, for each of ~175,000 n-grams, a Python list of 55 floats (its languages'
probabilities) in every process that asks it anything: the largest single item of the Rasa
server's memory after TensorFlow (issue #17). Here the same numbers, computed as langdetect
computes them from its shipped profiles (``langdetect/profiles/*``), are written once at install
into a table beside the n-gram tables (``python -m bot.langid.ngram_tables`` builds both) and
mapped read-only (bot/langid/mapped.py); langdetect's own ``Detector`` runs on it, seeded as
before, so every result is langdetect's (tests/test_compact_langid.py compares them).
"""

from __future__ import annotations

import functools
import hashlib
import logging
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np

from bot.langid.mapped import load_arrays, save_arrays, tables_folder

log = logging.getLogger(__name__)

FORMAT = 1  # bump when the layout or the hash changes
SEED = 0  # langdetect samples n-grams at random; seeded, it answers the same every time


def _hash(ngram: str) -> int:
    return int.from_bytes(hashlib.blake2b(ngram.encode("utf-8"), digest_size=8).digest(), "little")


def default_path() -> Path:
    """Beside the n-gram tables (bot/langid/ngram_tables.py), per langdetect version."""
    return tables_folder() / f"langdetect-{version('langdetect')}-{FORMAT}.npz"


def build() -> dict[str, np.ndarray]:
    """langdetect's n-gram probabilities, from its profiles, as it computes them."""
    from langdetect.detector_factory import PROFILES_DIRECTORY, DetectorFactory

    factory = DetectorFactory()
    profiles = sorted(Path(PROFILES_DIRECTORY).iterdir())
    factory.load_json_profile([path.read_text("utf-8") for path in profiles])
    ngrams = list(factory.word_lang_prob_map)
    keys = np.array([_hash(ngram) for ngram in ngrams], dtype=np.uint64)
    order = np.argsort(keys, kind="stable")
    keys = keys[order]
    if len(np.unique(keys)) != len(keys):
        raise ValueError("two langdetect n-grams share a hash: change _hash")
    probabilities = np.array([factory.word_lang_prob_map[ngrams[i]] for i in order])
    return {"languages": np.array(factory.langlist), "keys": keys, "probabilities": probabilities}


@functools.cache
def load_or_build(path: Path | None = None) -> LangdetectTable:
    """The table from disk, built (from langdetect's own files, ~5 s) and saved if missing."""
    path = path or default_path()
    if not path.is_file():
        log.warning("Building the langdetect table %s (once; make install does it ahead)", path)
        arrays = build()
        try:
            save_arrays(path, arrays)
        except OSError as error:
            log.warning("Could not save the langdetect table to %s: %s", path, error)
            return LangdetectTable(arrays)
    return LangdetectTable(load_arrays(path))


class _Probabilities:
    """What langdetect's Detector reads as ``word_lang_prob_map``: ``in`` and ``[ngram]``."""

    def __init__(self, keys: np.ndarray, rows: np.ndarray) -> None:
        self._keys, self._rows = keys, rows
        self.row = functools.lru_cache(maxsize=8192)(self._row)

    def _row(self, ngram: str) -> list[float] | None:
        key = np.uint64(_hash(ngram))
        index = int(np.searchsorted(self._keys, key))
        if index < len(self._keys) and self._keys[index] == key:
            return self._rows[index].tolist()
        return None

    def __contains__(self, ngram: object) -> bool:
        return isinstance(ngram, str) and self.row(ngram) is not None

    def __getitem__(self, ngram: str) -> list[float]:
        row = self.row(ngram)
        if row is None:
            raise KeyError(ngram)
        return row


class LangdetectTable:
    """Stands in for langdetect's DetectorFactory: what its Detector needs, from the table."""

    def __init__(self, arrays: dict[str, np.ndarray]) -> None:
        self.langlist = [str(code) for code in arrays["languages"]]
        self.word_lang_prob_map = _Probabilities(arrays["keys"], arrays["probabilities"])
        self.seed = SEED

    def probabilities(self, text: str) -> list[Any]:
        """langdetect's ``detect_langs(text)``: Language(lang, prob) objects, best first."""
        from langdetect.detector import Detector

        detector = Detector(self)
        detector.append(text)
        return detector.get_probabilities()
