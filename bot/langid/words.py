"""Whole-word evidence for one- and two-word messages, mixed into the n-gram scores.

lingua's n-grams see "attention", "justice" or "blogi" as letter sequences that French, English,
Finnish and Estonian all write; whole words tell more: how often each language uses the word.
Three sources, each measured on its own in bench/langid.py:

- **frequency lists** (``frequency``): wordfreq's lists (Wikipedia, subtitles, news, books, web
  text) for those of our languages (topics.yml) it has, apart from Chinese (Han script decides
  Chinese alone): 10 of the first 13, not Estonian, not Somali; a language added to topics.yml
  gets its list when wordfreq has one (:func:`frequency_lists`), else it is "unlisted" below.
  Words used at least once in 10 million (a shallower list for Persian and Turkish: once in a
  million), as log10 frequencies. Each listed word with accented Latin letters is also kept as
  typed without them (``VARIANT_PENALTY`` decades rarer): "paivakoti", "ecole", "ogrenci".
- **Estonian word forms** (``forms``): simplemma's Estonian dictionary (2.7 million inflected
  forms, no frequencies) as a Bloom filter: a known form counts as a word used once in a million,
  a word it does not hold as one below the frequency lists' depth.
- **our own texts** (``own``): the words of ``data/nlu/<code>/*.yml``, ``locales/<code>.yml`` (not
  its emergency cue lists: stems and transliterations) and
  ``content/<code>.yml``; the texts mix languages (Finnish terms in every language), so a word
  counts only for a language whose texts use it at least twice and at least 3 times as often
  (relative to their length) as any other language's texts; a word that is a whole training
  example in one language only (greetings: "moi", "tere", "hej") counts as a top-100 word.

For each word, each language gets an estimate of log10 P(word | language): the word's frequency,
else a value below the list's depth (unseen there); a language without a list (Estonian,
Somali) gets the median of the listed languages' estimates or the best one minus a margin,
whichever is higher, unless its own sources know the word. The message's evidence is the sum over
its words divided by the number of words; it is added, weighted, to the n-gram log-confidences
(log-linear mix), then the confidences are normalised again. A sentence the n-grams already find
clear (≥ 3 words, ≥ 0.99) keeps their verdict. An optional prior (the UI or conversation
language) adds a fixed amount to one language. Weights tuned on lines 1-125 of each
../shared/langid-dev file; lines 126-250 are held out (bench/langid.py --tune, README).

Built by ``make train`` (``python -m bot.langid.words``) into the environment's ``share/kotobot``
folder (beside the n-gram tables when ``KOTOBOT_LANGID_TABLES`` places them), again when the
languages of topics.yml, our texts or a source package change (the file name follows them); built
on first use when missing (the two packages are read only then). Keys are 32-bit word hashes (a
word outside the table matches one by chance about once in 3,000 lookups).
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import math
import sys
import time
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import numpy as np
import regex

from bot.core.paths import data_path
from bot.core.settings import get_settings
from bot.langid.mapped import load_arrays, save_arrays

log = logging.getLogger(__name__)

FORMAT = 3  # bump when the layout, the hash or what is kept changes (3: no emergency cues)
SOURCES = ("frequency", "forms", "own")
# Chinese: Han script decides alone (bot/langid/compact.py), and its "words" are character pairs.
SKIPPED = frozenset({"zh"})
# wordfreq's lists go down to 10^-8 in steps of 0.01 decade; words used less than once in 10
# million say little and would double the table.
FREQUENCY_DEPTH = 7.0
FORMS_LANGUAGES = ("et",)
FORMS_FALSE_POSITIVES = 0.01
OWN_MIN_COUNT = 2
OWN_RATIO = 3.0
# A word that is a whole training example in one language's data only ("moi", "tere", "hej",
# "salaan"): as telling as a top-100 word of that language.
ONE_WORD_EXAMPLE_LOG10 = -2.0
# Listed Latin-script words with accented letters are also kept as typed without them, this many
# decades rarer: with base letters ("paivakoti", "ecole", "informacion": a keyboard without the
# accents) and with the accented letters left out ("informacin": how the Spanish texts of
# ../shared/langid-dev, Leipzig corpora, lost theirs). A word a list has as such keeps its value.
VARIANT_PENALTY = 1.0
VARIANT_MIN_LENGTH = 3
# Stored values: -log10 frequency in steps of 1/20 decade, 0..255 (down to 10^-12.75).
_STEPS = 20

_WORD = regex.compile(r"[\p{L}\p{M}][\p{L}\p{M}'’-]*")
_LATIN_WORD = regex.compile(r"[\p{Latin}\p{M}'’-]+")
# Arabic short vowels, dagger alif and tatweel: written or not, the same word.
_ARABIC_MARKS = regex.compile(r"[\u064B-\u065F\u0670\u0640]")
_ENTITY_MARKUP = regex.compile(r"\[([^\]]*)\]\([^)]*\)|\[([^\]]*)\]\{[^}]*\}")


@dataclass(frozen=True)
class WordSettings:
    """How much the words count. Tuned on lines 1-125 of ../shared/langid-dev (bench --tune)."""

    # Weight of the word evidence (log10 units) against the n-gram log-confidences.
    one_word_weight: float = 0.7
    weight: float = 1.0
    # A word missing from a language's list: this many decades below the list's last word.
    unseen_depth: float = 1.5
    # Languages without a list: at most this many decades below the best listed estimate.
    unlisted_margin: float = 1.0
    # ... and never above this: a word our Somali or Estonian texts do not mark as theirs is
    # not a top word there ("thx", a whole English example at 10^-2, was Somali at 10^-3 and
    # its letters did the rest). No change on ../shared/langid-dev's single words; -5 cost a pair.
    unlisted_cap: float = -4.5
    # A known Estonian form counts as a word used about three times in a million (tuned: -6.0
    # took "sihid silme" and "lehmi ..." for Turkish and Finnish; word pairs 33 -> 30 wrong).
    form_log10: float = -5.5
    # A word that is not one of the forms language's known forms: there at most as likely as
    # a word below a frequency list's depth ("lmites", "kulul" are not Estonian words).
    unknown_form_log10: float = -8.0
    # A sentence the n-grams are this sure of keeps their verdict.
    clear_confidence: float = 0.99
    clear_min_words: int = 3
    # The prior language (UI or conversation): added to its log-confidence.
    prior_weight: float = 0.5


def normalize(word: str) -> str:
    """The form the tables hold: NFC, lower case, no Arabic vowel marks, one apostrophe."""
    word = unicodedata.normalize("NFC", word).lower().replace("’", "'")
    return _ARABIC_MARKS.sub("", word)


def word_hashes(words: Sequence[str]) -> np.ndarray:
    """64-bit BLAKE2b of the normalised words (low half: table key; both halves: Bloom filter)."""
    return np.array(
        [
            int.from_bytes(hashlib.blake2b(w.encode("utf-8"), digest_size=8).digest(), "little")
            for w in words
        ],
        dtype=np.uint64,
    )


def _keys(hashes: np.ndarray) -> np.ndarray:
    return (hashes & np.uint64(0xFFFFFFFF)).astype(np.uint32)


def _bloom_positions(hashes: np.ndarray, size: int, count: int) -> np.ndarray:
    """(words, count) bit positions by double hashing (Kirsch-Mitzenmacher)."""
    low = (hashes & np.uint64(0xFFFFFFFF)).astype(np.uint64)
    high = (hashes >> np.uint64(32)) | np.uint64(1)
    steps = np.arange(count, dtype=np.uint64)
    return ((low[:, None] + steps[None, :] * high[:, None]) % np.uint64(size)).astype(np.int64)


@dataclass(frozen=True)
class WordTable:
    languages: tuple[str, ...]  # column order, as the detector's
    sources: tuple[str, ...]  # which sources it holds
    keys: np.ndarray  # sorted uint32 word hashes, one entry per (word, language)
    language_index: np.ndarray  # uint8
    value: np.ndarray  # uint8: -log10 frequency * 20
    depth: np.ndarray  # float32 per language: the list's depth in decades, NaN without a list
    form_bits: np.ndarray  # uint8 Bloom filter of the word forms (empty without)
    form_language: int  # index of the forms' language, -1 without
    form_hashes: int  # bits set per form

    @property
    def nbytes(self) -> int:
        arrays = (self.keys, self.language_index, self.value, self.depth, self.form_bits)
        return sum(array.nbytes for array in arrays)

    def save(self, path: Path) -> None:
        save_arrays(
            path,
            {
                "languages": np.array(self.languages),
                "sources": np.array(self.sources),
                "keys": self.keys,
                "language": self.language_index,
                "value": self.value,
                "depth": self.depth,
                "form_bits": self.form_bits,
                "form_meta": np.array([self.form_language, self.form_hashes]),
            },
        )

    @classmethod
    def load(cls, path: Path) -> WordTable:
        data = load_arrays(path)  # mapped, not copied: bot/langid/mapped.py
        form_language, form_hashes = (int(x) for x in data["form_meta"])
        return cls(
            languages=tuple(str(code) for code in data["languages"]),
            sources=tuple(str(source) for source in data["sources"]),
            keys=data["keys"],
            language_index=data["language"],
            value=data["value"],
            depth=data["depth"],
            form_bits=data["form_bits"],
            form_language=form_language,
            form_hashes=form_hashes,
        )

    def known_form(self, hashes: np.ndarray) -> np.ndarray:
        """Per word: in the Bloom filter of word forms (false positives ~1%)."""
        if not len(self.form_bits) or not len(hashes):
            return np.zeros(len(hashes), dtype=bool)
        positions = _bloom_positions(hashes, len(self.form_bits) * 8, self.form_hashes)
        bits = (self.form_bits[positions >> 3] >> (positions & 7).astype(np.uint8)) & 1
        return bits.all(axis=1)


# --- building -----------------------------------------------------------------------------------


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def unaccented_variants(word: str) -> set[str]:
    """A Latin-script word as typed without its accented letters: base letters, or left out."""
    if word.isascii() or not _LATIN_WORD.fullmatch(word):
        return set()
    decomposed = unicodedata.normalize("NFD", word)
    base = "".join(char for char in decomposed if not unicodedata.combining(char))
    dropped = "".join(char for char in word if char.isascii())
    return {
        variant
        for variant in (base, dropped)
        if variant != word and variant.isascii() and len(variant) >= VARIANT_MIN_LENGTH
    }


def frequency_lists(languages: Sequence[str]) -> dict[str, list[list[str]]]:
    """wordfreq's lists (buckets of 0.01 decade) for those of our languages it really has: its
    own lookup would hand out the English list for Somali ("nearest match")."""
    try:
        import wordfreq
    except ImportError:
        log.warning("wordfreq is not installed: no frequency lists for language detection")
        return {}
    lists = {}
    for code in languages:
        if code in SKIPPED:
            continue
        for wordlist in ("large", "small"):
            if code in wordfreq.available_languages(wordlist):
                lists[code] = wordfreq.get_frequency_list(code, wordlist, match_cutoff=False)
                break
    return lists


def word_forms(code: str) -> set[str]:
    """simplemma's inflected forms and lemmas of one language (empty if it has none)."""
    try:
        from simplemma.strategies.dictionaries import DefaultDictionaryFactory
    except ImportError:
        log.warning("simplemma is not installed: no word forms for language detection")
        return set()
    try:
        dictionary = DefaultDictionaryFactory().get_dictionary(code)
    except (ValueError, KeyError, OSError):
        return set()

    def text(item: str | bytes) -> str:
        return item.decode("utf-8") if isinstance(item, bytes) else item

    forms = {normalize(text(key)) for key in dictionary.keys()}
    forms.update(normalize(text(value)) for value in dictionary.values())
    return {form for form in forms if _WORD.fullmatch(form)}


def own_text_files(code: str) -> list[Path]:
    files = sorted(data_path("data", "nlu", code).glob("*.yml"))
    for folder in ("locales", "content"):
        path = data_path(folder, f"{code}.yml")
        if path.is_file():
            files.append(path)
    return files


def _strings(node: object) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from _strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _strings(value)


def own_texts(code: str, examples_only: bool = False) -> Iterator[str]:
    """Training examples (entity mark-up removed), UI texts and topic texts of one language."""
    import yaml

    for path in own_text_files(code):
        is_training_data = path.parent.parent.name == "nlu"
        if examples_only and not is_training_data:
            continue
        document = yaml.safe_load(path.read_text("utf-8")) or {}
        if is_training_data:
            for item in document.get("nlu", []) or []:
                for line in str(item.get("examples") or "").splitlines():
                    line = line.strip()
                    if line.startswith("- "):
                        yield _ENTITY_MARKUP.sub(lambda m: m.group(1) or m.group(2), line[2:])
        else:
            # Not the emergency cue lists: word stems and Arabic, Persian, Russian and Ukrainian
            # typed in Latin letters ("ana", "mano"), which would teach the detector that
            # Latin-letter words are Arabic.
            yield from _strings({k: v for k, v in document.items() if k != "emergency"})


def own_words(languages: Sequence[str]) -> dict[str, dict[str, float]]:
    """word -> {language: log10 relative frequency} for words typical of a language's texts."""
    counts = {}
    for code in languages:
        if code in SKIPPED:
            continue
        counts[code] = Counter(
            normalize(word) for text in own_texts(code) for word in _WORD.findall(text)
        )
    totals = {code: max(sum(counter.values()), 1) for code, counter in counts.items()}
    result: dict[str, dict[str, float]] = {}
    for code, counter in counts.items():
        for word, count in counter.items():
            if count < OWN_MIN_COUNT:
                continue
            share = count / totals[code]
            others = max(
                (counts[other][word] / totals[other] for other in counts if other != code),
                default=0.0,
            )
            if share >= OWN_RATIO * others:
                result.setdefault(word, {})[code] = math.log10(share)
    whole: dict[str, set[str]] = {}
    for code in counts:
        for text in own_texts(code, examples_only=True):
            found = _WORD.findall(text)
            if len(found) == 1:
                whole.setdefault(normalize(found[0]), set()).add(code)
    for word, codes in whole.items():
        if len(codes) == 1:
            (code,) = codes
            shares = result.setdefault(word, {})
            shares[code] = max(shares.get(code, -99.0), ONE_WORD_EXAMPLE_LOG10)
    return result


def build(languages: Sequence[str], sources: Iterable[str] = SOURCES) -> WordTable:
    languages, sources = tuple(languages), tuple(source for source in SOURCES if source in sources)
    column = {code: i for i, code in enumerate(languages)}
    best: dict[tuple[str, int], float] = {}  # (word, language) -> highest log10 frequency

    def add(word: str, code: str, log10: float) -> None:
        key = (word, column[code])
        if best.get(key, -99.0) < log10:
            best[key] = log10

    depth = np.full(len(languages), np.nan, dtype=np.float32)
    if "frequency" in sources:
        for code, buckets in frequency_lists(languages).items():
            last = min(len(buckets) - 1, round(FREQUENCY_DEPTH * 100))
            depth[column[code]] = last / 100
            variants: list[tuple[str, float]] = []
            for bucket, words in enumerate(buckets[: last + 1]):
                for word in words:
                    word = normalize(word)
                    if _WORD.fullmatch(word):
                        add(word, code, -bucket / 100)
                        for variant in unaccented_variants(word):
                            variants.append((variant, -bucket / 100 - VARIANT_PENALTY))
            for variant, log10 in variants:  # after the list, so that its own words keep theirs
                if (variant, column[code]) not in best:
                    add(variant, code, log10)
    if "own" in sources:
        for word, shares in own_words(languages).items():
            for code, log10 in shares.items():
                add(word, code, log10)
    form_bits, form_language, form_hashes = np.zeros(0, dtype=np.uint8), -1, 0
    if "forms" in sources:
        for code in FORMS_LANGUAGES:
            forms = sorted(word_forms(code)) if code in column else []
            if forms:
                form_bits, form_hashes = _bloom(word_hashes(forms), FORMS_FALSE_POSITIVES)
                form_language = column[code]
    words = [word for word, _ in best]
    keys = _keys(word_hashes(words)) if words else np.zeros(0, dtype=np.uint32)
    index = np.fromiter((i for _, i in best), dtype=np.uint8, count=len(best))
    value = np.clip(np.round(-np.fromiter(best.values(), float, len(best)) * _STEPS), 0, 255)
    order = np.lexsort((index, keys))
    return WordTable(
        languages=languages,
        sources=sources,
        keys=keys[order],
        language_index=index[order],
        value=value[order].astype(np.uint8),
        depth=depth,
        form_bits=form_bits,
        form_language=form_language,
        form_hashes=form_hashes,
    )


def _bloom(hashes: np.ndarray, false_positives: float) -> tuple[np.ndarray, int]:
    bits = max(8, int(-len(hashes) * math.log(false_positives) / math.log(2) ** 2))
    count = max(1, round(bits / len(hashes) * math.log(2)))
    size = (bits + 7) // 8
    filled = np.zeros(size * 8, dtype=bool)
    for start in range(0, len(hashes), 200_000):  # bounded temporary arrays
        filled[_bloom_positions(hashes[start : start + 200_000], size * 8, count).ravel()] = True
    return np.packbits(filled, bitorder="little"), count


def source_digest(languages: Sequence[str]) -> str:
    """Changes with the format, the languages, the source packages and our own texts."""
    digest = hashlib.sha1()
    digest.update(f"{FORMAT}:{','.join(languages)}:{FREQUENCY_DEPTH}:{OWN_MIN_COUNT}".encode())
    digest.update(f":{OWN_RATIO}:{ONE_WORD_EXAMPLE_LOG10}:{FORMS_FALSE_POSITIVES}".encode())
    digest.update(f":{VARIANT_PENALTY}:{VARIANT_MIN_LENGTH}".encode())
    digest.update(f":{_version('wordfreq')}:{_version('simplemma')}".encode())
    for code in languages:
        for path in own_text_files(code):
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:10]


def default_path(languages: Sequence[str]) -> Path:
    """In the environment's ``share/kotobot``, or beside the n-gram tables where
    ``KOTOBOT_LANGID_TABLES`` puts them; older builds in the same folder are replaced."""
    name = f"words-{source_digest(languages)}.npz"
    configured = get_settings().langid_tables
    if configured:
        return configured.with_name(name)
    return Path(sys.prefix) / "share" / "kotobot" / name


def load_or_build(languages: Sequence[str], sources: Iterable[str] = SOURCES) -> WordTable:
    """All sources: from disk, built and saved (older builds removed) when missing. A subset of
    the sources (the benchmark's rows): built in memory."""
    sources = tuple(source for source in SOURCES if source in sources)
    if sources != SOURCES:
        return build(languages, sources)
    path = default_path(languages)
    if path.is_file():
        return WordTable.load(path)
    log.warning("Building the word tables of language detection (once, ~45 s).")
    table = build(languages)
    try:
        save_replacing_older(table, path)
    except OSError as error:
        log.warning("Could not save the word tables to %s: %s", path, error)
    return table


def save_replacing_older(table: WordTable, path: Path) -> None:
    """Saves the table; builds for texts or packages that changed since are removed."""
    table.save(path)
    for old in path.parent.glob("words-*.npz"):
        if old != path:
            old.unlink(missing_ok=True)


# --- scoring ------------------------------------------------------------------------------------


class WordEvidence:
    """Mixes whole-word evidence (and an optional prior language) into n-gram confidences."""

    def __init__(
        self,
        languages: Sequence[str],
        table: WordTable | None = None,
        settings: WordSettings | None = None,
        sources: Iterable[str] = SOURCES,
    ) -> None:
        self.languages = tuple(languages)
        self.table = table or load_or_build(self.languages, sources)
        if self.table.languages != self.languages:
            raise ValueError(f"word table is for {self.table.languages}, not {self.languages}")
        self.settings = settings or WordSettings()
        self._column = {code: i for i, code in enumerate(self.languages)}
        self._listed = ~np.isnan(self.table.depth)
        self._unseen = -(self.table.depth + self.settings.unseen_depth)

    def values(self, words: Sequence[str], candidates: Sequence[str] | None = None) -> np.ndarray:
        """(words, languages) estimates of log10 P(word | language); a row of NaN for a word no
        source knows (it says nothing). ``candidates``: the languages the letters allow (the
        n-grams' candidates); only their lists set the estimate of a language without a list, so
        that "privet", a Russian example typed in Latin letters, does not make Somali likely."""
        settings, table = self.settings, self.table
        listed_mask = self._listed
        if candidates is not None:
            allowed = np.zeros(len(self.languages), dtype=bool)
            allowed[[self._column[code] for code in candidates if code in self._column]] = True
            listed_mask = self._listed & allowed
        normalized = [normalize(word) for word in words]
        hashes = word_hashes(normalized) if normalized else np.zeros(0, dtype=np.uint64)
        keys = _keys(hashes)
        starts = np.searchsorted(table.keys, keys, side="left")
        ends = np.searchsorted(table.keys, keys, side="right")
        forms = table.known_form(hashes)
        out = np.full((len(words), len(self.languages)), np.nan)
        for row, (start, end) in enumerate(zip(starts, ends, strict=True)):
            if start == end and not forms[row]:
                continue
            known = np.full(len(self.languages), np.nan)
            known[table.language_index[start:end]] = table.value[start:end] / -_STEPS
            if forms[row]:
                column = table.form_language
                known[column] = np.fmax(known[column], settings.form_log10)
            estimate = np.where(self._listed, np.fmax(known, self._unseen), np.nan)
            if listed_mask.any():
                listed = estimate[listed_mask]
                fallback = max(
                    float(np.median(listed)), float(listed.max()) - settings.unlisted_margin
                )
            else:  # no frequency list at all (the benchmark's rows of one source)
                fallback = -(FREQUENCY_DEPTH + settings.unseen_depth)
            fallbacks = np.full(len(self.languages), min(fallback, settings.unlisted_cap))
            if table.form_language >= 0 and not forms[row]:
                column = table.form_language
                fallbacks[column] = min(fallback, settings.unknown_form_log10)
            out[row] = np.where(self._listed, estimate, np.fmax(known, fallbacks))
        return out

    def combine(
        self, scores: list[tuple[str, float]], words: Sequence[str], prior: str | None = None
    ) -> list[tuple[str, float]]:
        """The n-gram confidences with the words' evidence and the prior mixed in, best first."""
        settings = self.settings
        if len(scores) < 2:
            return scores
        codes = [code for code, _ in scores]
        log_confidence = np.log(np.maximum([p for _, p in scores], 1e-300))
        clear = len(words) >= settings.clear_min_words and scores[0][1] >= settings.clear_confidence
        if words and not clear:
            values = self.values(words, codes)
            known = ~np.isnan(values).all(axis=1)
            if known.any():
                weight = settings.one_word_weight if len(words) == 1 else settings.weight
                columns = [self._column[code] for code in codes]
                evidence = np.nan_to_num(values[known][:, columns]).sum(axis=0) / len(words)
                log_confidence = log_confidence + weight * math.log(10) * evidence
        if prior in codes:
            log_confidence[codes.index(prior)] += settings.prior_weight
        confidence = np.exp(log_confidence - log_confidence.max())
        confidence /= confidence.sum()
        order = np.argsort(-confidence, kind="stable")
        return [(codes[i], float(confidence[i])) for i in order]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build the word tables of language detection.")
    parser.add_argument("--force", action="store_true", help="rebuild even if the file exists")
    args = parser.parse_args(argv)
    from bot.core.taxonomy import taxonomy

    languages = taxonomy().languages
    path = default_path(languages)
    if path.is_file() and not args.force:
        print(f"language-detection word table: {path} (up to date)")
        return 0
    start = time.perf_counter()
    table = build(languages)
    save_replacing_older(table, path)
    seconds = time.perf_counter() - start
    print(
        f"language-detection word table: {path} ({table.nbytes / 1e6:.1f} MB in memory, "
        f"{len(table.keys):,} words, {seconds:.0f} s)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
