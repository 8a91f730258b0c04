"""lingua's high-accuracy detection over its own models, held in compact arrays (~60 MB, not ~370).

Same evidence and the same sums as lingua: every distinct 1- to 5-gram inside a word is looked up
per language, falling back to its shorter prefixes when unseen; the log-probabilities are added,
divided by the number of the text's letters the language knows, and turned into confidences with
a softmax. With ``low_accuracy=True``, lingua's low-accuracy mode over a small 1- to 3-gram table
(the "is this another language?" check over ~35 languages): only trigrams count (an unseen one
backing off to its prefixes), not divided by letters. Before that, two rules narrow the
candidates as lingua's rule engine does, but derived from the models rather than from hand-made
tables: the writing system (a script only one of the languages uses decides alone: Han ->
Chinese), and letters that only some languages use (ä, õ, ї, پ ...; a letter belongs to a
language whose models give it at least 1% of the highest probability any of the languages gives
it; a-z never count, as loanwords carry them everywhere: taxi, wifi).
Agreement with lingua (its pure-Python release, on the same models): tests/test_compact_langid.py;
accuracy: bench/langid.py, README.
"""

from __future__ import annotations

import functools
import unicodedata
from collections import Counter
from collections.abc import Sequence

import numpy as np
import regex

from bot.core.paths import data_path
from bot.langid.ngram_tables import (
    LOW_ACCURACY_ORDERS,
    ORDERS,
    NgramTables,
    hash_ngrams,
    load_or_build,
)

# A letter "belongs" to the languages that use it at least this much relative to its main user.
LETTER_SHARE = 0.01
# Letters no language uses this often are noise in the corpora, not evidence.
LETTER_MIN_PROBABILITY = 1e-5
# A script belongs to a language when it carries this share of the language's letters.
SCRIPT_SHARE = 0.5
# Entries per bucket of the hash-prefix index: 2**20 buckets (4 MB) for the main table.
_BUCKET_SIZE = 4.5
_NOT_LETTERS = regex.compile(r"[^\p{L}\p{M}\s]+")


@functools.lru_cache(maxsize=4096)
def script_of(char: str) -> str:
    """ "LATIN", "CYRILLIC", "ARABIC", "CJK" ... from the character's Unicode name."""
    return unicodedata.name(char, "UNKNOWN").split(" ", 1)[0]


@functools.lru_cache(maxsize=1)
def letter_hints() -> dict[str, list[str]]:
    """letters -> languages, from ``letter_hints.txt``."""
    hints = {}
    for line in data_path("bot", "langid", "letter_hints.txt").read_text("utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            chars, codes = line.rsplit(":", 1)
            hints[chars.strip()] = codes.split()
    return hints


class CompactLinguaBackend:
    def __init__(
        self,
        languages: Sequence[str],
        tables: NgramTables | None = None,
        low_accuracy: bool = False,
    ) -> None:
        orders = LOW_ACCURACY_ORDERS if low_accuracy else ORDERS
        tables = tables or load_or_build(tuple(languages), orders)
        if tuple(languages) != tables.languages:
            raise ValueError(f"tables are for {tables.languages}, not {tuple(languages)}")
        if tables.orders != orders:
            raise ValueError(f"tables hold {tables.orders}-grams, this mode needs {orders}")
        self.name = "lingua-compact-low" if low_accuracy else "lingua-compact"
        self._low_accuracy = low_accuracy
        self._tables = tables
        self._codes = tables.languages
        self._letters, self._scripts = self._letter_rules(tables, hints_decide=not low_accuracy)
        # Hash prefix -> first entry with it: a lookup reads one short run instead of searching.
        bits = int(np.clip(np.round(np.log2(max(len(tables.keys), 1) / _BUCKET_SIZE)), 8, 20))
        self._shift = np.uint64(64 - bits)
        prefixes = np.arange(2**bits + 1, dtype=np.uint64) << self._shift
        prefixes[-1] = np.iinfo(np.uint64).max
        self._bucket_start = np.searchsorted(tables.keys, prefixes).astype(np.int32)
        self._bucket_start[-1] = len(tables.keys)
        self._window = np.arange(int(np.diff(self._bucket_start).max()))

    @staticmethod
    def _letter_rules(
        tables: NgramTables, hints_decide: bool = True
    ) -> tuple[dict[str, int], dict[str, int]]:
        """Which languages use each letter and each script, as bit sets (bit i: languages[i]).
        ``hints_decide=False`` (the wide table, where Czech or Icelandic do write ý ð þ): a hint
        adds its languages to those whose models use the letter instead of replacing them."""
        probability = tables.character_probability
        highest = probability.max(axis=1, keepdims=True)
        owners = probability >= LETTER_SHARE * highest
        letters = {
            char: _bits(owners[i])
            for i, char in enumerate(tables.characters)
            if highest[i, 0] >= LETTER_MIN_PROBABILITY and not char.isascii()
        }
        for chars, codes in letter_hints().items():
            hinted = _bits(np.isin(np.array(tables.languages), codes))
            if hinted:
                for char in chars:
                    letters[char] = hinted if hints_decide else hinted | letters.get(char, 0)
        mass: dict[str, np.ndarray] = {}
        for i, char in enumerate(tables.characters):
            script = script_of(char)
            mass[script] = mass.get(script, 0) + probability[i]
        total = probability.sum(axis=0)
        scripts = {script: _bits(share >= SCRIPT_SHARE * total) for script, share in mass.items()}
        return letters, scripts

    def scores(self, text: str) -> list[tuple[str, float]]:
        words = _NOT_LETTERS.sub("", text.lower()).split()
        if not words:
            return []
        candidates = self._candidates(words)
        if candidates.bit_count() <= 1:
            return [(self._codes[candidates.bit_length() - 1], 1.0)] if candidates else []
        alive = np.array([bool(candidates >> i & 1) for i in range(len(self._codes))])
        totals, alive = self._ngram_sums(words, alive)
        alive &= totals != 0
        if not alive.any():
            return []
        values = totals[alive]
        confidences = np.exp(values - values.max())
        confidences /= confidences.sum()
        codes = [code for code, keep in zip(self._codes, alive, strict=True) if keep]
        order = np.argsort(-confidences, kind="stable")
        return [(codes[i], float(confidences[i])) for i in order]

    def _candidates(self, words: list[str]) -> int:
        """Languages written in the text's main script, narrowed by telling letters."""
        scripts = Counter(script_of(char) for word in words for char in word)
        script = scripts.most_common(1)[0][0]
        candidates = self._scripts.get(script, 0)
        votes = [0] * len(self._codes)
        for word in words:
            allowed = candidates
            for char in set(word):
                if script_of(char) == script:
                    allowed &= self._letters.get(char, allowed)
            if allowed and allowed != candidates:
                for i in range(len(votes)):
                    votes[i] += allowed >> i & 1
        telling = sum(1 << i for i, count in enumerate(votes) if count >= len(words) / 2)
        return candidates & telling or candidates

    def _ngram_sums(self, words: list[str], alive: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        by_order = []
        for order in self._tables.orders:
            ngrams = sorted({w[i : i + order] for w in words for i in range(len(w) - order + 1)})
            if not ngrams:
                break
            by_order.append(ngrams)
        found = self._lookup([ngram for ngrams in by_order for ngram in ngrams])
        totals = np.zeros(len(alive))
        found_letters = np.maximum((~np.isnan(found[: len(by_order[0])])).sum(axis=0), 1)
        start, previous, previous_values = 0, {}, found[:0]
        for order, ngrams in enumerate(by_order, start=1):
            values = found[start : start + len(ngrams)]
            start += len(ngrams)
            if previous:  # unseen n-gram: its (n-1)-letter prefix counts instead, and so on down
                prefixes = previous_values[[previous[ngram[:-1]] for ngram in ngrams]]
                values = np.where(np.isnan(values), prefixes, values)
            previous = {ngram: i for i, ngram in enumerate(ngrams)}
            previous_values = values
            if self._low_accuracy and order != LOW_ACCURACY_ORDERS[-1]:
                continue  # low-accuracy mode: shorter n-grams only stand in for unseen trigrams
            seen = (~np.isnan(values)).any(axis=0) & alive
            if seen.any():  # lingua drops languages that know none of an order's n-grams
                alive = seen
            totals += np.where(alive, np.nansum(values, axis=0), 0.0)
        if self._low_accuracy:
            return totals, alive
        return totals / found_letters, alive

    def _lookup(self, ngrams: list[str]) -> np.ndarray:
        """(n-grams, languages) log-probabilities, NaN where a language never saw the n-gram."""
        tables = self._tables
        wanted = hash_ngrams(ngrams)
        # Every entry whose hash starts with the same bits lies in one short run of the table.
        window = self._bucket_start[wanted >> self._shift][:, None] + self._window
        np.minimum(window, len(tables.keys) - 1, out=window)
        rows, columns = np.nonzero(tables.keys[window] == wanted[:, None])
        positions = window[rows, columns]
        values = np.full((len(ngrams), len(self._codes)), np.nan)
        values[rows, tables.language_index[positions]] = tables.log_probability[positions]
        return values


def _bits(mask: np.ndarray) -> int:
    return sum(1 << i for i, flag in enumerate(mask) if flag)
