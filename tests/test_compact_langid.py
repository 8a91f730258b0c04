"""lingua-compact: lingua's models read from its library; same answers, a fifth of the memory."""

from pathlib import Path

import numpy as np
import pytest

from bot.langid import lingua_models, ngram_tables
from bot.langid.backends import LinguaBackend, make_backend
from bot.langid.compact import CompactLinguaBackend
from bot.taxonomy import taxonomy

LANGUAGES = taxonomy().languages
LANGID_DEV = Path(__file__).resolve().parents[2] / "shared" / "langid-dev"

# Written for this test (not from the benchmark corpus): short chat-like texts, some ambiguous
# between close languages, so that lingua's confidences are well below 1 and every step counts.
TEXTS = [
    "miten saan oleskeluluvan", "kutse kätte", "tasemel täkuga", "hur gör jag", "hej hej",
    "how do I", "как дела", "як справи", "مرحبا كيف", "سلام چطوری", "iska warran", "kuidas läheb",
    "nasılsın arkadaş", "hola que tal", "salut ça va", "la casa", "le permis", "pas de problème",
    "suomen kielen kurssi", "tere hommikust", "god morgon", "buenos dias amigo", "merci beaucoup",
    "en ymmärrä", "jag förstår inte", "no entiendo nada", "je ne comprends pas", "ei saa",
    "taxi ok", "internet", "asylum seeker", "kotoutuminen", "alla", "tak", "ja",
]  # fmt: skip


@pytest.fixture(scope="module")
def compact():
    return CompactLinguaBackend(LANGUAGES)


@pytest.fixture(scope="module")
def lingua():
    return LinguaBackend(LANGUAGES)


@pytest.mark.parametrize("text", TEXTS)
def test_same_ranking_and_confidences_as_lingua(compact, lingua, text):
    ours, theirs = compact.scores(text), lingua.scores(text)
    assert [code for code, _ in ours[:1]] == [code for code, _ in theirs[:1]]
    if theirs[0][1] > 0.999:
        return  # decided by one of lingua's rules: the same winner is what has to match
    theirs_by_code = dict(theirs)
    for code, confidence in ours:
        if confidence > 0.01:  # lingua rounds tiny values away; compare what decides anything
            assert confidence == pytest.approx(theirs_by_code.get(code, 0.0), abs=0.01), code


def test_script_and_letter_rules(compact):
    assert compact.scores("为财") == [("zh", 1.0)]  # lingua's Chinese models are traditional
    assert compact.scores("yatýrým programý")[0][0] == "tr"  # letter_hints.txt
    assert compact.scores("õppeaasta algus") == [("et", 1.0)]  # õ: Estonian only, of ours
    assert {code for code, _ in compact.scores("їжак і кіт")} == {"uk"}
    assert compact.scores("") == [] and compact.scores("123 !!") == []
    assert compact.scores("ελληνικά γράμματα") == []  # no language of ours writes Greek


@pytest.mark.skipif(not LANGID_DEV.is_dir(), reason="../shared/langid-dev not available")
def test_at_least_as_accurate_as_lingua_on_word_pairs(compact, lingua):
    right = {"compact": 0, "lingua": 0}
    for code in LANGUAGES:
        lines = (LANGID_DEV / "word-pairs" / f"{code}.txt").read_text("utf-8").splitlines()[:80]
        for line in lines:
            for name, backend in (("compact", compact), ("lingua", lingua)):
                scores = backend.scores(line)
                right[name] += bool(scores) and scores[0][0] == code
    assert right["compact"] >= right["lingua"] - 2, right


def test_tables_hold_every_language_and_order_without_collisions(compact):
    tables = compact._tables
    assert tables.languages == tuple(LANGUAGES)
    assert np.all(np.diff(tables.keys.astype(np.float64)) >= 0)  # sorted
    same_entry = (tables.keys[1:] == tables.keys[:-1]) & (
        tables.language_index[1:] == tables.language_index[:-1]
    )
    assert not same_entry.any()  # no two n-grams of one language share a hash
    assert set(np.unique(tables.language_index)) == set(range(len(LANGUAGES)))
    assert 4_000_000 < len(tables.keys) < 6_000_000
    assert tables.nbytes < 80e6  # lingua itself: ~370 MB for the same models
    assert np.all(tables.log_probability <= 0)  # log P(n-gram | its prefix); 0 = only one


def test_models_read_from_the_library_match_lingua(lingua):
    models = lingua_models.read_models(["FINNISH"])["FINNISH"]
    assert set(models) == {1, 2, 3, 4, 5}
    assert abs(sum(models[1].values()) - 1.0) < 0.01  # unigram probabilities of one language
    # The most likely Finnish letter alone: lingua is sure of nothing, but it must exist in both.
    assert max(models[1], key=models[1].get) in "aitn"


def test_not_a_library_is_refused_and_the_backend_falls_back(tmp_path, monkeypatch):
    fake = tmp_path / "lingua.so"
    fake.write_bytes(b"not an ELF file at all")
    with pytest.raises(lingua_models.ModelsNotFound):
        lingua_models.read_models(["FINNISH"], fake)
    monkeypatch.setenv("KOTOBOT_LANGID_TABLES", str(tmp_path / "missing.npz"))
    monkeypatch.setattr(lingua_models, "lingua_library", lambda: fake)
    backend = make_backend("lingua-compact", LANGUAGES)
    assert isinstance(backend, LinguaBackend)
    assert backend.scores("miten saan oleskeluluvan")[0][0] == "fi"


def test_tables_are_built_saved_and_reloaded_where_configured(tmp_path, monkeypatch):
    path = tmp_path / "tables.npz"
    monkeypatch.setenv("KOTOBOT_LANGID_TABLES", str(path))
    languages = ("fi", "et")
    built = ngram_tables.load_or_build(languages)
    assert path.is_file()
    loaded = ngram_tables.load_or_build(languages)
    assert loaded.languages == built.languages == languages
    assert np.array_equal(loaded.keys, built.keys)
    assert np.array_equal(loaded.log_probability, built.log_probability)
    backend = CompactLinguaBackend(languages, loaded)
    assert backend.scores("kuidas läheb")[0][0] == "et"
    assert backend.scores("miten menee")[0][0] == "fi"
    with pytest.raises(ValueError):
        CompactLinguaBackend(("fi", "sv"), loaded)


def test_default_path_follows_lingua_version_and_languages(monkeypatch):
    monkeypatch.delenv("KOTOBOT_LANGID_TABLES", raising=False)
    first = ngram_tables.default_path(("fi", "sv"))
    assert lingua_models.lingua_version() in first.name
    assert first != ngram_tables.default_path(("fi", "et"))
    assert first == ngram_tables.default_path(("fi", "sv"))
