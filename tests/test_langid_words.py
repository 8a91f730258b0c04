"""Whole-word evidence of language detection (bot/langid/words.py): the table, known words, the
mix with the n-gram scores (never against a clear sentence), the prior, determinism."""

import importlib.util
import stat

import numpy as np
import pytest

from bot.core.taxonomy import taxonomy
from bot.langid import words
from bot.langid.detector import DetectorSettings, LanguageDetector
from bot.langid.text import language_words
from tests.support.paths import LANGID_DEV, langid_dev_lines

LANGUAGES = taxonomy().languages
HAS_SOURCES = all(importlib.util.find_spec(name) for name in ("wordfreq", "simplemma"))
needs_sources = pytest.mark.skipif(
    not HAS_SOURCES, reason="wordfreq and simplemma (pyproject.toml) are not installed"
)

# Clear sentences, one per language (written for this test).
SENTENCES = [
    ("miten voin hakea oleskelulupaa puolisolle", "fi"),
    ("hur ansöker jag om uppehållstillstånd för min familj", "sv"),
    ("how can I apply for a residence permit for my wife", "en"),
    ("как продлить вид на жительство в Финляндии", "ru"),
    ("як продовжити тимчасовий захист для моєї родини", "uk"),
    ("كيف أجدد تصريح الإقامة في فنلندا", "ar"),
    ("sidee baan u codsadaa sharciga deganaanshaha", "so"),
    ("چطور اقامت خانواده ام را تمدید کنم", "fa"),
    ("kuidas taotleda elamisluba oma perele", "et"),
    ("ailem için oturma iznini nasıl uzatırım", "tr"),
    ("我想为我的家人申请居留许可", "zh"),
    ("cómo renuevo el permiso de residencia de mi familia", "es"),
    ("comment renouveler le titre de séjour de ma famille", "fr"),
]


@pytest.fixture(scope="module")
def detector():
    return LanguageDetector(LANGUAGES)


@pytest.fixture(scope="module")
def ngrams_only():
    return LanguageDetector(LANGUAGES, DetectorSettings(word_sources=()))


def test_own_texts_table_builds_saves_and_loads(tmp_path):
    table = words.build(LANGUAGES, sources=("own",))
    assert table.sources == ("own",)
    assert len(table.keys) > 10_000
    assert np.all(np.diff(table.keys.astype(np.int64)) >= 0)  # sorted: lookups bisect
    path = tmp_path / "share" / "kotobot" / "words-test.npz"
    table.save(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o755
    loaded = words.WordTable.load(path)
    assert loaded.languages == table.languages
    assert np.array_equal(loaded.keys, table.keys)
    assert np.array_equal(loaded.value, table.value)
    # Built twice, the same table.
    again = words.build(LANGUAGES, sources=("own",))
    assert np.array_equal(again.keys, table.keys)
    assert np.array_equal(again.language_index, table.language_index)


def test_own_texts_keep_words_typical_of_one_language_only():
    own = words.own_words(LANGUAGES)
    # A whole Finnish training example: more telling than French texts' "aidez-moi".
    assert own["moi"]["fi"] == words.ONE_WORD_EXAMPLE_LOG10
    assert own["moi"].get("fr", -99.0) < own["moi"]["fi"]
    assert "et" in own.get("tere", {})
    # Finnish terms used in every language's examples count for Finnish only.
    assert set(own.get("oleskelulupa", {"fi": 0})) <= {"fi"}


@pytest.mark.parametrize("code", ["ar", "fa", "ru", "uk"])
def test_emergency_cues_typed_in_latin_letters_are_not_own_texts(code):
    """Arabizi and transliterated cues ("ana", "mano") must not make Latin words Arabic."""
    from bot.core.paths import data_path
    from bot.core.yamlio import load_yaml

    emergency = (load_yaml(data_path("locales", f"{code}.yml")) or {})["emergency"]
    latin = {c for cues in emergency["cues"].values() for c in cues if str(c).isascii()}
    assert len(latin) > 50  # the lists hold such cues, so the check below means something
    assert not latin & set(words.own_texts(code))


@needs_sources
def test_installed_table_holds_every_source(detector):
    table = detector._words.table
    assert table.sources == words.SOURCES
    listed = {code for code, depth in zip(LANGUAGES, table.depth, strict=True) if depth == depth}
    import wordfreq

    has_list = {*wordfreq.available_languages("large"), *wordfreq.available_languages("small")}
    assert listed == {code for code in LANGUAGES if code in has_list} - words.SKIPPED
    assert "fi" in listed and "so" not in listed  # never wordfreq's "nearest match" for Somali
    assert table.nbytes < 16e6
    known = table.known_form(words.word_hashes(["aitäh", "elamisluba", "kuidas"]))
    assert known.all()
    noise = table.known_form(words.word_hashes([f"zq{i}xw" for i in range(2000)]))
    assert noise.mean() < 0.03  # a Bloom filter at ~1% false positives


@needs_sources
@pytest.mark.parametrize(
    "word, language",
    [
        ("kiitos", "fi"),
        ("hello", "en"),
        ("hola", "es"),
        ("tere", "et"),
        ("salaan", "so"),
        ("merhaba", "tr"),
        ("moi", "fi"),
        ("hej", "sv"),
        ("aitäh", "et"),
        ("gracias", "es"),
        ("спасибо", "ru"),
        ("дякую", "uk"),
    ],
)
def test_known_words_score_their_language(detector, word, language):
    assert detector.detect(word).language == language


@needs_sources
def test_word_frequencies_settle_what_the_letters_leave_open(detector, ngrams_only):
    # lingua's n-grams alone take these for Spanish and English.
    for word, language in [("hello", "en"), ("tere", "et")]:
        assert ngrams_only.detect(word).language != language
        assert detector.detect(word).language == language


@pytest.mark.parametrize("text, language", SENTENCES)
def test_clear_sentences_keep_the_ngram_verdict(detector, ngrams_only, text, language):
    assert ngrams_only.detect(text).language == language
    assert detector.detect(text).language == language
    assert detector.detect(text, prior="fi" if language != "fi" else "en").language == language


def test_combination_never_overrides_a_clear_sentence(detector):
    evidence = detector._words
    # Four English words against n-grams that are sure of Finnish: the n-grams stand.
    scores = [("fi", 0.995), ("en", 0.005)]
    combined = evidence.combine(scores, ["the", "and", "you", "what"])
    assert combined[0][0] == "fi"
    assert combined[0][1] == pytest.approx(0.995)
    # The same words in a short, unsure message do count.
    assert evidence.combine([("fi", 0.6), ("en", 0.4)], ["the", "what"])[0][0] == "en"


@pytest.mark.skipif(not LANGID_DEV.is_dir(), reason="../shared/langid-dev not available")
def test_no_clear_corpus_sentence_changes_language(detector, ngrams_only):
    changed = []
    for code in LANGUAGES:
        lines = langid_dev_lines("sentences", code, 250)
        for line in lines:
            plain = ngrams_only.detect(line)
            if plain.confidence >= 0.99 and len(language_words(line)) >= 3:
                if detector.detect(line).language != plain.language:
                    changed.append((code, line))
    assert changed == []


@needs_sources
def test_prior_tips_only_near_ties(detector):
    # "justice": French and English alike; the UI language decides.
    assert {detector.detect("justice", prior=code).language for code in ("en", "fr")} == {
        "en",
        "fr",
    }
    assert detector.detect("kiitos", prior="en").language == "fi"
    assert detector.detect("kiitos", prior="xx").language == "fi"  # unknown prior: ignored


def test_without_word_sources_the_detector_is_the_ngram_backend(ngrams_only):
    detection = ngrams_only.detect("hola que tal")
    assert detection.scores == ngrams_only._backend.scores("hola que tal")


def test_detection_with_words_is_deterministic(detector):
    texts = ["hola que tal", "hej hej", "moi moi", "attention", "blogi mingi", "tere", "ok"]
    first = [detector.detect(text).as_dict() for text in texts]
    other = LanguageDetector(LANGUAGES)
    assert [other.detect(text).as_dict() for text in texts] == first
    assert [detector.detect(text).as_dict() for text in texts] == first


def test_unaccented_variants_are_base_letters_and_dropped_letters():
    assert words.unaccented_variants("päiväkoti") == {"paivakoti", "pivkoti"}
    assert words.unaccented_variants("información") == {"informacion", "informacin"}
    assert words.unaccented_variants("école") == {"ecole", "cole"}
    assert words.unaccented_variants("kela") == set()  # nothing to leave out
    assert words.unaccented_variants("привет") == set()  # not Latin script
    assert words.unaccented_variants("år") == set()  # too short to tell anything


@needs_sources
@pytest.mark.parametrize(
    "word, language",
    [
        ("paivakoti", "fi"),
        ("hammaslaakari", "fi"),
        ("forskola", "sv"),
        ("ogrenci", "tr"),
        ("ecole", "fr"),
        ("informacion", "es"),
        ("informacin", "es"),  # how the Spanish texts of ../shared/langid-dev lost their accents
    ],
)
def test_words_typed_without_their_accents_keep_their_language(detector, word, language):
    detection = detector.detect(word)
    assert detection.language == language
    assert detection.confidence >= 0.7  # clear enough to answer a first message in it


@needs_sources
def test_a_word_estonian_does_not_have_gets_no_estonian_benefit(detector):
    table = detector._words.table
    assert not table.known_form(words.word_hashes(["lmites"])).any()
    values = dict(zip(LANGUAGES, detector._words.values(["lmites"])[0], strict=True))
    assert values["et"] <= detector._words.settings.unknown_form_log10
    assert values["es"] > values["et"]
