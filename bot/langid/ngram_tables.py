"""lingua's n-gram probabilities for our languages as sorted numpy arrays, built once per install.

The 64-bit hashes of every (n-gram, language) entry of orders 1-5, sorted, with the language's
index and the log-probability beside them: 13 bytes an entry, ~61 MB for 4.7 million entries of
our 13 languages, where lingua's own hash maps take ~370 MB. Built by ``make install``
(``python -m bot.langid.ngram_tables``) from the installed lingua library
(:mod:`bot.langid.lingua_models`) into the environment's ``share/kotobot`` folder, or where
``KOTOBOT_LANGID_TABLES`` says; built on first use when missing.
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bot.langid import lingua_models

log = logging.getLogger(__name__)

FORMAT = 2  # bump when the layout or the hash changes
ORDERS = (1, 2, 3, 4, 5)
MAX_ORDER = ORDERS[-1]
_FNV_OFFSET = np.uint64(14695981039346656037)
_FNV_PRIME = np.uint64(1099511628211)


def hash_ngrams(ngrams: Sequence[str]) -> np.ndarray:
    """FNV-1a over the code points of n-grams of up to 5 letters, padded with U+0000 to 5 (so
    that one lookup serves every order), vectorised. Collisions: ~1 in 10⁹ lookups."""
    padded = "".join(ngram.ljust(MAX_ORDER, "\0") for ngram in ngrams)
    points = np.frombuffer(padded.encode("utf-32-le"), dtype=np.uint32)
    points = points.astype(np.uint64).reshape(len(ngrams), MAX_ORDER)
    hashes = np.full(len(ngrams), _FNV_OFFSET, dtype=np.uint64)
    for column in range(MAX_ORDER):
        hashes = (hashes ^ points[:, column]) * _FNV_PRIME
    return hashes


@dataclass(frozen=True)
class NgramTables:
    languages: tuple[str, ...]  # ISO 639-1, in column order
    keys: np.ndarray  # sorted uint64 hashes of the n-grams
    language_index: np.ndarray  # uint8 index into languages
    log_probability: np.ndarray  # float32
    characters: tuple[str, ...]  # every unigram of every language
    character_probability: np.ndarray  # (characters, languages) float32, 0 where unseen

    @property
    def nbytes(self) -> int:
        arrays = (self.keys, self.language_index, self.log_probability, self.character_probability)
        return sum(array.nbytes for array in arrays)

    def save(self, path: Path) -> None:
        """Written to a temporary file first, so that readers never see half a table."""
        arrays = {"languages": np.array(self.languages), "characters": np.array(self.characters)}
        arrays["character_probability"] = self.character_probability
        arrays["keys"], arrays["language"] = self.keys, self.language_index
        arrays["logp"] = self.log_probability
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".npz", delete=False) as out:
            np.savez(out, **arrays)
        os.replace(out.name, path)

    @classmethod
    def load(cls, path: Path) -> NgramTables:
        with np.load(path) as data:
            return cls(
                languages=tuple(str(code) for code in data["languages"]),
                keys=data["keys"],
                language_index=data["language"],
                log_probability=data["logp"],
                characters=tuple(str(char) for char in data["characters"]),
                character_probability=data["character_probability"],
            )

    @classmethod
    def from_models(cls, models_by_code: dict[str, dict[int, dict[str, float]]]) -> NgramTables:
        languages = tuple(models_by_code)
        keys, index, logp = [], [], []
        for column, code in enumerate(languages):
            for order in ORDERS:
                model = models_by_code[code].get(order, {})
                if model:
                    keys.append(hash_ngrams(list(model)))
                    index.append(np.full(len(model), column, dtype=np.uint8))
                    logp.append(np.log(np.fromiter(model.values(), np.float64, len(model))))
        all_keys, all_index = np.concatenate(keys), np.concatenate(index)
        ordering = np.lexsort((all_index, all_keys))
        sorted_logp = np.concatenate(logp)[ordering].astype(np.float32)
        characters = sorted({char for code in languages for char in models_by_code[code][1]})
        probability = np.zeros((len(characters), len(languages)), dtype=np.float32)
        row = {char: i for i, char in enumerate(characters)}
        for column, code in enumerate(languages):
            for char, p in models_by_code[code][1].items():
                probability[row[char], column] = p
        return cls(
            languages,
            all_keys[ordering],
            all_index[ordering],
            sorted_logp,
            tuple(characters),
            probability,
        )


def lingua_name(code: str) -> str:
    """ "fi" -> "FINNISH", as lingua names its models."""
    from lingua import IsoCode639_1, Language

    return Language.from_iso_code_639_1(getattr(IsoCode639_1, code.upper())).name


def build(languages: Sequence[str], library: Path | None = None) -> NgramTables:
    names = {code: lingua_name(code) for code in languages}
    models = lingua_models.read_models(names.values(), library)
    return NgramTables.from_models({code: models[name] for code, name in names.items()})


def default_path(languages: Sequence[str]) -> Path:
    """One file per lingua version and language list, inside the environment that has lingua."""
    configured = os.environ.get("KOTOBOT_LANGID_TABLES")
    if configured:
        return Path(configured)
    version = lingua_models.lingua_version()
    digest = hashlib.sha1(f"{FORMAT}:{','.join(languages)}".encode()).hexdigest()[:10]
    return Path(sys.prefix) / "share" / "kotobot" / f"lingua-{version}-{digest}.npz"


def load_or_build(languages: Sequence[str]) -> NgramTables:
    """The tables from disk; built (and saved, where the folder is writable) when missing."""
    path = default_path(languages)
    if path.is_file():
        return NgramTables.load(path)
    log.warning("Building language-detection tables (once, ~30 s); `make install` does it ahead.")
    tables = build(languages)
    try:
        tables.save(path)
    except OSError as error:
        log.warning("Could not save the language-detection tables to %s: %s", path, error)
    return tables


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build the language-detection n-gram tables.")
    parser.add_argument("--force", action="store_true", help="rebuild even if the file exists")
    args = parser.parse_args(argv)
    from bot.taxonomy import taxonomy

    languages = taxonomy().languages
    path = default_path(languages)
    if path.is_file() and not args.force:
        print(f"language-detection tables: {path} (up to date)")
        return 0
    start = time.perf_counter()
    tables = build(languages)
    tables.save(path)
    seconds = time.perf_counter() - start
    print(f"language-detection tables: {path} ({tables.nbytes / 1e6:.0f} MB, {seconds:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
