"""lingua's n-gram probabilities for our languages as sorted numpy arrays, built once per install.

Our languages are ``languages:`` of topics.yml: a language added there gets its models here at the
next ``python -m bot.langid.ngram_tables`` (``make install``, ``make train``), as the file name
follows the language list; lingua 1.3.5 has models for 75 languages
(:data:`bot.langid.lingua_models.LANGUAGES`), and a language without them cannot be supported.
The 64-bit hashes of every (n-gram, language) entry of orders 1-5, sorted, with the language's
index and the log-probability beside them: 13 bytes an entry, ~61 MB for 4.7 million entries of
the 13 languages of 2026, where lingua's own hash maps take ~370 MB. A second, small table (orders
1-3, ~9 MB) covers our languages and the unsupported ones the detector recognises, for the "is this
another language?" check (lingua's low-accuracy mode: trigrams). Built by ``make install``
(``python -m bot.langid.ngram_tables``) from the model files of lingua 1.3.5's wheel
(:mod:`bot.langid.lingua_models`) into the environment's ``share/kotobot`` folder, or where
``KOTOBOT_LANGID_TABLES`` says (the small table beside it); a server refuses to start without
them (no download at run time).
Models that cannot be had are an error: there is no other detector to fall back to.
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bot.core.settings import get_settings
from bot.langid import lingua_models
from bot.langid.mapped import FILE_MODE, load_arrays, save_arrays, tables_folder

log = logging.getLogger(__name__)

FORMAT = 3  # bump when the layout, the hash or the models' source changes
ORDERS = (1, 2, 3, 4, 5)
# lingua's low-accuracy mode: trigrams only, an unseen one backing off to its prefixes.
LOW_ACCURACY_ORDERS = (1, 2, 3)
MAX_ORDER = ORDERS[-1]
_FNV_OFFSET = np.uint64(14695981039346656037)
_FNV_PRIME = np.uint64(1099511628211)


def readable_by_everyone(path: Path) -> None:
    """Tables built before files were saved 0644 (mkstemp's 0600): fixed where this user may."""
    try:
        if path.stat().st_mode & 0o444 != 0o444:
            os.chmod(path, FILE_MODE)
            print(f"language-detection tables: made {path} readable by every user")
    except OSError as error:
        print(f"language-detection tables: WARNING {path} is not readable by every user: {error}")


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
    orders: tuple[int, ...] = ORDERS  # n-gram lengths held

    @property
    def nbytes(self) -> int:
        arrays = (self.keys, self.language_index, self.log_probability, self.character_probability)
        return sum(array.nbytes for array in arrays)

    def save(self, path: Path) -> None:
        arrays = {"languages": np.array(self.languages), "characters": np.array(self.characters)}
        arrays["character_probability"] = self.character_probability
        arrays["keys"], arrays["language"] = self.keys, self.language_index
        arrays["logp"] = self.log_probability
        arrays["orders"] = np.array(self.orders)
        save_arrays(path, arrays)

    @classmethod
    def load(cls, path: Path) -> NgramTables:
        data = load_arrays(path)  # mapped, not copied: bot/langid/mapped.py
        return cls(
            languages=tuple(str(code) for code in data["languages"]),
            keys=data["keys"],
            language_index=data["language"],
            log_probability=data["logp"],
            characters=tuple(str(char) for char in data["characters"]),
            character_probability=data["character_probability"],
            orders=tuple(int(order) for order in data["orders"]),
        )

    @classmethod
    def from_models(
        cls, models_by_code: lingua_models.Models, orders: Sequence[int] = ORDERS
    ) -> NgramTables:
        languages = tuple(models_by_code)
        keys, index, logp = [], [], []
        for column, code in enumerate(languages):
            for order in orders:
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
            tuple(orders),
        )


def build(
    languages: Sequence[str],
    orders: Sequence[int] = ORDERS,
    wheel: Path | None = None,
    report: Callable[[str], None] | None = None,
) -> NgramTables:
    """Raises :class:`~bot.langid.lingua_models.ModelsNotFound` when the models cannot be had.
    ``report`` (e.g. ``print``) is told each language as its models are read."""
    if report is None:
        models = lingua_models.read_models(languages, wheel, orders)
    else:
        models = {}
        start = time.perf_counter()
        with lingua_models.models_wheel(wheel) as path:
            for number, code in enumerate(languages, 1):
                models.update(lingua_models.read_models([code], path, orders))
                entries = sum(len(model) for model in models[code].values())
                seconds = time.perf_counter() - start
                report(f"[{number}/{len(languages)}] {code}: {entries:,} n-grams ({seconds:.0f} s)")
        report("sorting them into one table")
    return NgramTables.from_models({code: models[code] for code in languages}, orders)


def default_path(languages: Sequence[str], orders: Sequence[int] = ORDERS) -> Path:
    """One file per models release, format, language list and orders, in the environment."""
    key = f"{FORMAT}:{','.join(languages)}:{''.join(str(order) for order in orders)}"
    digest = hashlib.sha1(key.encode()).hexdigest()[:10]
    configured = get_settings().langid_tables
    if configured:  # the main table there, any other beside it
        if tuple(orders) == ORDERS:
            return configured
        return configured.with_name(f"{configured.stem}-{digest}{configured.suffix}")
    return tables_folder() / f"lingua-{lingua_models.RELEASE}-{digest}.npz"


class TablesMissing(RuntimeError):
    """The tables were not built at install; nothing is downloaded while serving."""


def load_or_build(
    languages: Sequence[str], orders: Sequence[int] = ORDERS, download: bool = False
) -> NgramTables:
    """The tables from disk. Missing tables are an error in a server (building them downloads
    the models' wheel, which only install time may do); ``download=True`` builds and saves them
    (tests, tools)."""
    path = default_path(languages, orders)
    if path.is_file():
        return NgramTables.load(path)
    if not download:
        raise TablesMissing(
            f"language-detection tables {path} are missing: run `make install` "
            "(or `python -m bot.langid.ngram_tables`) before starting or training"
        )
    log.warning("Building language-detection tables (once, ~30 s); `make install` does it ahead.")
    tables = build(languages, orders)
    try:
        tables.save(path)
    except OSError as error:
        log.warning("Could not save the language-detection tables to %s: %s", path, error)
    return tables


# Languages we do not speak but people in Finland often write: detected only to tell the user,
# politely, which languages we do speak. Kept separate from the main detector so that they can
# never lower its accuracy on the supported languages. Two detectors must agree (lingua's
# low-accuracy mode over ~35 languages on a small table of its 1- to 3-grams, and langdetect over
# its 55): one alone sometimes takes a short French question for German. One of them that
# topics.yml adds is simply one of ours (:func:`wide_languages` lists it once, with ours).
OTHER_LANGUAGES = (
    "de", "it", "pt", "nl", "pl", "ro", "hu", "cs", "sk", "hr", "sq", "vi", "id", "tl", "sw",
    "da", "nb", "lv", "lt", "bg", "az", "yo",
)  # fmt: skip


def wide_languages(languages: Sequence[str]) -> tuple[str, ...]:
    """The languages of the "is this another language?" check: ours, then the others."""
    return tuple(languages) + tuple(code for code in OTHER_LANGUAGES if code not in languages)


def wanted_tables() -> list[tuple[tuple[str, ...], tuple[int, ...]]]:
    """(languages, orders) of the tables built at install: the detector's own, the wide check's,
    and the low-accuracy one over our languages (the `lingua-compact-low` backend, which the
    benchmark compares; ~3 MB)."""
    from bot.core.taxonomy import taxonomy

    languages = tuple(taxonomy().languages)
    return [
        (languages, ORDERS),
        (wide_languages(languages), LOW_ACCURACY_ORDERS),
        (languages, LOW_ACCURACY_ORDERS),
    ]


def report_progress(line: str) -> None:
    print(f"  {line}", flush=True)


def _langdetect_table(force: bool) -> None:
    """The "is this another language?" check's second detector (bot/langid/langdetect_table.py):
    built here too, from langdetect's own files (no download)."""
    from bot.langid import langdetect_table

    path = langdetect_table.default_path()
    if path.is_file() and not force:
        print(f"language-detection tables: {path} (up to date)")
        readable_by_everyone(path)
        return
    start = time.perf_counter()
    save_arrays(path, langdetect_table.build())
    print(f"language-detection tables: {path} ({time.perf_counter() - start:.0f} s)")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build the language-detection n-gram tables.")
    parser.add_argument("--force", action="store_true", help="rebuild even if the file exists")
    parser.add_argument(
        "--wheel",
        type=Path,
        default=None,
        help=f"read the models from this {lingua_models.WHEEL_NAME} (default: pip downloads it)",
    )
    args = parser.parse_args(argv)
    _langdetect_table(args.force)
    missing = []
    for languages, orders in wanted_tables():
        path = default_path(languages, orders)
        if path.is_file() and not args.force:
            print(f"language-detection tables: {path} (up to date)")
            readable_by_everyone(path)
        else:
            missing.append((languages, orders, path))
    if not missing:
        return 0
    if args.wheel is None:
        print(
            f"language-detection tables: downloading {lingua_models.REQUIREMENT} (72 MB) for "
            "its model files",
            flush=True,
        )
    try:
        with lingua_models.models_wheel(args.wheel) as wheel:
            for languages, orders, path in missing:
                print(
                    f"language-detection tables: building {path.name} for {len(languages)} "
                    f"languages, 1- to {orders[-1]}-grams (~30 s, once per install)",
                    flush=True,
                )
                start = time.perf_counter()
                tables = build(languages, orders, wheel, report=report_progress)
                tables.save(path)
                seconds = time.perf_counter() - start
                size = tables.nbytes / 1e6
                print(f"language-detection tables: {path} ({size:.0f} MB, {seconds:.0f} s)")
    except lingua_models.ModelsNotFound as error:
        print(f"language-detection tables: ERROR {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
