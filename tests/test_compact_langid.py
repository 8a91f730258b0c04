"""lingua-compact: lingua's models read from its wheel's data files; same answers as lingua (its
pure-Python release, run here on the same models), a fifth of the memory."""

import importlib.util
import sys
import zipfile

import numpy as np
import pytest

from bot.core.taxonomy import taxonomy
from bot.langid import lingua_models, ngram_tables
from bot.langid.backends import make_backend
from bot.langid.compact import CompactLinguaBackend
from bot.langid.detector import wide_languages
from tests.support.paths import LANGID_DEV, langid_dev_lines

LANGUAGES = taxonomy().languages
WIDE = wide_languages(LANGUAGES)

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


# Sentences in languages we do not speak, for the low-accuracy table over ~35 languages.
FOREIGN = [
    "Ich möchte wissen, wie ich eine Aufenthaltserlaubnis für meine Familie bekomme",
    "Vorrei sapere come posso ottenere il permesso di soggiorno in Finlandia",
    "O meu filho precisa de uma vaga na creche, com quem devo falar",
    "Gdzie mogę zapisać się na kurs języka fińskiego i ile to kosztuje",
    "Ik wil graag weten hoe ik een verblijfsvergunning voor mijn familie kan krijgen",
    "Chtěl bych vědět, jak mohu získat povolení k pobytu pro svou rodinu",
]


class OriginalLingua:
    """lingua's own detector: the pure-Python 1.3.5 in the wheel the tables are built from (the
    same models as lingua 2.1.1, whose answers it gives), loaded from a copy under another name.
    Only the tests run it."""

    def __init__(self, languages, low_accuracy=False):
        module = sys.modules["lingua_original"]
        wanted = [
            module.Language.from_iso_code_639_1(getattr(module.IsoCode639_1, code.upper()))
            for code in languages
        ]
        builder = module.LanguageDetectorBuilder.from_languages(*wanted)
        if low_accuracy:
            builder = builder.with_low_accuracy_mode()
        self._detector = builder.build()

    def scores(self, text):
        values = self._detector.compute_language_confidence_values(text)
        return [(v.language.iso_code_639_1.name.lower(), v.value) for v in values if v.value > 0]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    """lingua's wheel, downloaded as `make install` does; its detector importable."""
    folder = tmp_path_factory.mktemp("lingua")
    path = lingua_models.download_wheel(folder)
    with zipfile.ZipFile(path) as archive:
        models = tuple(f"lingua/language-models/{code}/" for code in WIDE)
        archive.extractall(
            folder,
            [
                name
                for name in archive.namelist()
                if name.endswith(".py") or name.startswith(models)
            ],
        )
    package = folder / "lingua"
    spec = importlib.util.spec_from_file_location(
        "lingua_original", package / "__init__.py", submodule_search_locations=[str(package)]
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    yield path
    for name in [name for name in sys.modules if name.split(".")[0] == "lingua_original"]:
        del sys.modules[name]


@pytest.fixture(scope="module")
def compact():
    return CompactLinguaBackend(LANGUAGES)


@pytest.fixture(scope="module")
def lingua(wheel):
    return OriginalLingua(LANGUAGES)


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
        lines = langid_dev_lines("word-pairs", code, 80)
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


def test_low_accuracy_table_ranks_as_lingua_low_accuracy_mode(wheel):
    ours, theirs = CompactLinguaBackend(WIDE, low_accuracy=True), OriginalLingua(WIDE, True)
    assert ours.name == "lingua-compact-low" and ours._tables.orders == (1, 2, 3)
    assert ours._tables.nbytes < 15e6
    for text in FOREIGN + [text for text in TEXTS if len(text.split()) > 1]:
        mine, original = ours.scores(text), theirs.scores(text)
        assert mine[0][0] == original[0][0], (text, mine[:2], original[:2])
        if original[0][1] > 0.9:
            assert mine[0][1] > 0.9, (text, mine[:2], original[:2])


def test_models_read_from_the_wheel(wheel):
    models = lingua_models.read_models(["fi", "zh"], wheel)
    assert set(models["fi"]) == {1, 2, 3, 4, 5} and set(models["zh"]) == {1}
    assert abs(sum(models["fi"][1].values()) - 1.0) < 0.01  # unigram probabilities of one language
    assert max(models["fi"][1], key=models["fi"][1].get) in "aitn"
    assert set(lingua_models.read_models(["fi"], wheel, orders=(3,))["fi"]) == {1, 3}


def test_no_lingua_code_runs_in_the_detector(compact):
    compact.scores("miten saan oleskeluluvan")
    assert not any(name.split(".")[0] == "lingua" for name in sys.modules)


def test_a_missing_or_wrong_wheel_is_an_error_not_a_fallback(tmp_path, monkeypatch):
    fake = tmp_path / lingua_models.WHEEL_NAME
    fake.write_bytes(b"not a wheel at all")
    with pytest.raises(lingua_models.ModelsNotFound, match="sha256"):
        lingua_models.read_models(["fi"], fake)
    # The registry's file is not the one pinned (or there is no network): pip refuses, we too.
    monkeypatch.setattr(lingua_models, "WHEEL_SHA256", "0" * 64)
    with pytest.raises(lingua_models.ModelsNotFound, match="could not download"):
        lingua_models.download_wheel(tmp_path)
    monkeypatch.setenv("KOTOBOT_LANGID_TABLES", str(tmp_path / "missing.npz"))
    with pytest.raises(ngram_tables.TablesMissing):  # no download while serving
        make_backend("lingua-compact", LANGUAGES)
    assert ngram_tables.main(["--wheel", str(fake)]) == 1
    assert not (tmp_path / "missing.npz").exists()


@pytest.mark.parametrize("name", ["lingua", "lingua-low"])
def test_backends_running_lingua_itself_are_gone(name):
    with pytest.raises(ValueError, match="lingua-compact"):
        make_backend(name, LANGUAGES)


def test_tables_are_built_saved_and_reloaded_where_configured(tmp_path, monkeypatch, wheel):
    path = tmp_path / "tables.npz"
    monkeypatch.setenv("KOTOBOT_LANGID_TABLES", str(path))
    monkeypatch.setattr(lingua_models, "download_wheel", lambda folder: wheel)  # no 2nd download
    languages = ("fi", "et")
    with pytest.raises(ngram_tables.TablesMissing, match="make install"):
        ngram_tables.load_or_build(languages)  # a server never downloads the models
    built = ngram_tables.load_or_build(languages, download=True)
    assert path.is_file()
    loaded = ngram_tables.load_or_build(languages)
    assert loaded.languages == built.languages == languages
    assert loaded.orders == built.orders == (1, 2, 3, 4, 5)
    assert np.array_equal(loaded.keys, built.keys)
    assert np.array_equal(loaded.log_probability, built.log_probability)
    backend = CompactLinguaBackend(languages, loaded)
    assert backend.scores("kuidas läheb")[0][0] == "et"
    assert backend.scores("miten menee")[0][0] == "fi"
    with pytest.raises(ValueError):
        CompactLinguaBackend(("fi", "sv"), loaded)
    with pytest.raises(ValueError):  # a 1- to 5-gram table is not the low-accuracy one
        CompactLinguaBackend(languages, loaded, low_accuracy=True)
    low = ngram_tables.load_or_build(languages, ngram_tables.LOW_ACCURACY_ORDERS, download=True)
    assert low.orders == (1, 2, 3) and len(low.keys) < len(loaded.keys) / 5
    beside = ngram_tables.default_path(languages, ngram_tables.LOW_ACCURACY_ORDERS)
    assert beside.parent == path.parent and beside.is_file() and beside != path


def test_default_path_follows_models_release_languages_and_orders(monkeypatch):
    monkeypatch.delenv("KOTOBOT_LANGID_TABLES", raising=False)
    first = ngram_tables.default_path(("fi", "sv"))
    assert f"lingua-{lingua_models.RELEASE}-" in first.name
    assert first != ngram_tables.default_path(("fi", "et"))
    assert first == ngram_tables.default_path(("fi", "sv"))
    assert first != ngram_tables.default_path(("fi", "sv"), ngram_tables.LOW_ACCURACY_ORDERS)
