"""Text clean-up before language detection: keep the words that say something about the language."""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Iterable

import regex

from bot.core.paths import data_path

_URL_OR_HANDLE = regex.compile(r"(https?://\S+|www\.\S+|\S+@\S+|[@#]\w+)", regex.IGNORECASE)
_WORD = regex.compile(r"[\p{L}\p{M}][\p{L}\p{M}'’-]*")
_LATIN = regex.compile(r"^[\p{Latin}\p{M}'’-]+$")
_CJK = regex.compile(r"[\p{Han}\p{Hiragana}\p{Katakana}\p{Hangul}]")

# Scripts none of the first 13 supported languages is written in: a message mostly in one of
# these is certainly in a language we do not speak (Tigrinya and Amharic: Ethiopic; Hindi:
# Devanagari ...).
# A script whose language is supported (topics.yml adds "el" or "hi") is no longer foreign:
# :func:`foreign_script` is given the supported languages.
FOREIGN_SCRIPTS = {
    "Ethiopic": "ti",
    "Devanagari": "hi",
    "Bengali": "bn",
    "Gurmukhi": "pa",
    "Tamil": "ta",
    "Telugu": "te",
    "Thai": "th",
    "Hangul": "ko",
    "Hiragana": "ja",
    "Katakana": "ja",
    "Hebrew": "he",
    "Greek": "el",
    "Georgian": "ka",
    "Armenian": "hy",
    "Khmer": "km",
    "Myanmar": "my",
    "Sinhala": "si",
    "Tibetan": "bo",
}


@functools.lru_cache(maxsize=8)
def _foreign_scripts(supported: frozenset[str]) -> tuple[regex.Pattern, dict[str, str]]:
    scripts = {script: code for script, code in FOREIGN_SCRIPTS.items() if code not in supported}
    alternation = "|".join(rf"\p{{{script}}}" for script in scripts) or r"(?!)"
    return regex.compile(alternation), scripts


_LONE_SURROGATE = regex.compile(r"[\ud800-\udfff]")

# Cyrillic letters drawn like Latin ones, and back. Web pages that hide their text from copying,
# and people typing Ukrainian with a Latin "i", mix them inside one word ("Finlаndiyа" with
# Cyrillic "а", "дiти" with Latin "i"): to the n-grams and the language detector such a word is
# nobody's.
_CYRILLIC_TO_LATIN = dict(
    zip("аеорсухіјѕԁԛԝАВЕКМНОРСТХІЈЅ", "aeopcyxijsdqwABEKMHOPCTXIJS", strict=True)
)
_LATIN_TO_CYRILLIC = dict(zip("aeopcyxiABEKMHOPCTXI", "аеорсухіАВЕКМНОРСТХІ", strict=True))
_WORD_RUN = regex.compile(r"\w+")
_LATIN_LETTER = regex.compile(r"\p{Latin}")
_CYRILLIC_LETTER = regex.compile(r"\p{Cyrillic}")


def _unmix(match: regex.Match) -> str:
    """A word in two scripts, written in its main one when every stray letter has a look-alike."""
    word = match.group()
    latin = len(_LATIN_LETTER.findall(word))
    cyrillic = len(_CYRILLIC_LETTER.findall(word))
    if not latin or not cyrillic or latin == cyrillic:
        return word
    table = _CYRILLIC_TO_LATIN if latin > cyrillic else _LATIN_TO_CYRILLIC
    stray = _CYRILLIC_LETTER if latin > cyrillic else _LATIN_LETTER
    if not all(ch in table for ch in word if stray.match(ch)):
        return word
    return "".join(table.get(ch, ch) if stray.match(ch) else ch for ch in word)


def scrub(text: str) -> str:
    """Replaces lone surrogates (not encodable; they crash lingua and spaCy) with U+FFFD, and
    writes words that mix Latin and Cyrillic look-alikes in their main script.

    One character for one, so offsets into the text stay valid.
    """
    text = _LONE_SURROGATE.sub("\ufffd", text)
    if _CYRILLIC_LETTER.search(text) and _LATIN_LETTER.search(text):
        text = _WORD_RUN.sub(_unmix, text)
    return text


@functools.lru_cache(maxsize=1)
def neutral_words() -> frozenset[str]:
    """Words that say nothing about the writer's language (see ``neutral_words.txt``)."""
    path = data_path("bot", "langid", "neutral_words.txt")
    words = (line.split("#", 1)[0].strip().lower() for line in path.read_text("utf-8").splitlines())
    return frozenset(word for word in words if word)


def _is_neutral(word: str, neutral: frozenset[str]) -> bool:
    """Neutral words match whole, or as a prefix of an inflected form (kotoutumissuunnitelman)."""
    if word in neutral:
        return True
    return any(len(stem) >= 5 and word.startswith(stem) for stem in neutral)


def language_words(text: str) -> list[str]:
    """The words that count as evidence of a language: no links, numbers, emoji or loan terms."""
    text = unicodedata.normalize("NFC", _URL_OR_HANDLE.sub(" ", text)).lower()
    neutral = neutral_words()
    for phrase in (entry for entry in neutral if " " in entry):
        text = text.replace(phrase, " ")
    if _CJK.search(text):
        # Chinese has no spaces: every run of Han characters is evidence, counted as one word per
        # two characters so that a four-character question weighs like a two-word one.
        words = []
        for match in _WORD.finditer(text):
            word = match.group()
            if _CJK.search(word):
                words.extend(word[i : i + 2] for i in range(0, len(word), 2))
            else:
                words.append(word)
    else:
        words = _WORD.findall(text)
    words = [word for word in words if not _is_neutral(word, neutral)]
    non_latin = [word for word in words if not _LATIN.match(word)]
    # Mixed scripts: the Latin words are Finnish terms or names inside an Arabic, Cyrillic,
    # Persian or Chinese message ("как записаться на suomen kielen kurssi").
    return non_latin if non_latin else words


def foreign_script(text: str, supported: Iterable[str] = ()) -> str | None:
    """ISO code of an unsupported script's language when most letters are in such a script; the
    scripts of the ``supported`` languages are not foreign."""
    letters = [ch for ch in text if ch.isalpha()]
    if not letters:
        return None
    pattern, scripts = _foreign_scripts(frozenset(supported))
    foreign = [ch for ch in letters if pattern.match(ch)]
    if len(foreign) * 2 <= len(letters):
        return None
    counts: dict[str, int] = {}
    for ch in foreign:
        for script, code in scripts.items():
            if regex.match(rf"\p{{{script}}}", ch):
                counts[code] = counts.get(code, 0) + 1
                break
    return max(counts, key=counts.__getitem__)
