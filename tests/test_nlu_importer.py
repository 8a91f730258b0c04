"""The training-data importer (bot/server/nlu/importer.py): Rasa's examples, each with its folder's
language, which the language detector takes at training instead of detecting."""

from pathlib import Path

import pytest
from rasa.shared.importers.rasa import RasaFileImporter
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.server.nlu import importer
from bot.server.nlu.language_detector import LANGUAGE_KEY, LanguageDetectorComponent
from bot.tools import check_data
from tests.support.paths import ROOT


def _key(message: Message) -> tuple:
    return tuple(repr(message.get(name)) for name in ("text", "intent", "metadata", "entities"))


@pytest.fixture(scope="module")
def detector_and_tokenizer():
    from bot.server.nlu.tokenizer import MultilingualTokenizer

    detector = LanguageDetectorComponent(LanguageDetectorComponent.get_default_config())
    return detector, MultilingualTokenizer(MultilingualTokenizer.get_default_config())


@pytest.fixture(scope="module")
def both():
    args = (str(ROOT / "config.yml"), str(ROOT / "domain.yml"), [str(ROOT / "data")])
    return RasaFileImporter(*args).get_nlu_data(), importer.NLUFilesImporter(*args).get_nlu_data()


def test_same_examples_as_rasas_reader_in_the_same_order(both):
    rasa, ours = both
    assert len(ours.training_examples) > 30_000
    assert [_key(m) for m in ours.training_examples] == [_key(m) for m in rasa.training_examples]
    assert ours.lookup_tables == rasa.lookup_tables
    assert ours.entity_synonyms == rasa.entity_synonyms
    assert ours.regex_features == rasa.regex_features


def test_every_example_carries_its_folders_language(both):
    _, ours = both
    hints = {m.get(importer.LANGUAGE_HINT) for m in ours.training_examples}
    assert hints == set(check_data.taxonomy().languages)
    arabic = [
        m.get("text") for m in ours.training_examples if m.get(importer.LANGUAGE_HINT) == "ar"
    ]
    in_arabic_script = [t for t in arabic if any("\u0600" <= ch <= "\u06ff" for ch in t)]
    assert len(in_arabic_script) > 0.9 * len(arabic) > 1000


def test_files_outside_a_language_folder_get_no_language(tmp_path):
    assert importer.language_of_file("data/nlu/fi/topics.yml") == "fi"
    assert importer.language_of_file("data/nlu/xx/topics.yml") is None
    assert importer.language_of_file(tmp_path / "nlu.yml") is None


def test_training_takes_the_files_language_and_detects_the_rest():
    component = LanguageDetectorComponent(LanguageDetectorComponent.get_default_config())
    # "kela" alone reads as Finnish; written in the English file it is English.
    hinted = Message(data={"text": "kela", "intent": "social_security"})
    hinted.set(importer.LANGUAGE_HINT, "en")
    plain = Message(data={"text": "miten haen kelan asumistukea", "intent": "housing"})
    component.process_training_data(TrainingData([hinted, plain]))
    assert hinted.get(LANGUAGE_KEY)["language"] == "en"
    assert plain.get(LANGUAGE_KEY)["language"] == "fi"


def test_a_malformed_nlu_file_fails_check_data(tmp_path, monkeypatch):
    folder = tmp_path / "data" / "nlu" / "fi"
    folder.mkdir(parents=True)
    (folder / "ok.yml").write_text('version: "3.1"\nnlu:\n- intent: a\n  examples: |\n    - b\n')
    (folder / "bad.yml").write_text('version: "3.1"\nnlu:\n- intent: a\n  exampels: |\n    - b\n')
    monkeypatch.setattr(check_data, "data_path", lambda *parts: Path(tmp_path, *parts))
    monkeypatch.setattr(check_data, "project_root", lambda: tmp_path)
    problems = check_data.check_nlu_schema()
    assert len(problems) == 1 and problems[0].startswith("data/nlu/fi/bad.yml")


def _example(text: str = "miten haen kelan asumistukea", **extra) -> importer.ImportedMessage:
    return importer.ImportedMessage(data={"text": text, "intent": "housing", **extra})


def test_imported_examples_fingerprint_by_content(detector_and_tokenizer):
    detector, tokenizer = detector_and_tokenizer
    a, b = _example(), _example()
    assert a.fingerprint() == b.fingerprint() and hash(a) == hash(b)
    assert len(TrainingData([a, b]).training_examples) == 1  # duplicates go, as in Rasa
    changed = [
        _example("miten haen kelan asumistukea?"),
        _example(metadata={"intent": {"answer": "housing_allowance"}}),
        importer.ImportedMessage(data={"text": a.get("text"), "intent": "social_security"}),
    ]
    assert len({a.fingerprint(), *(m.fingerprint() for m in changed)}) == 4
    # tokens and language are part of it: processing changes the fingerprint, and only then
    before = a.fingerprint()
    detector.process([a])
    tokenizer.process([a])
    assert a.fingerprint() != before
    detector.process([b])
    tokenizer.process([b])
    assert a.fingerprint() == b.fingerprint()
    b.get("text_tokens")[0].text = "miksi"
    b.set("text_tokens", b.get("text_tokens"))  # Rasa's way of telling a message it changed
    assert a.fingerprint() != b.fingerprint()


def test_the_importer_gives_imported_examples(both):
    _, ours = both
    assert all(type(m) is importer.ImportedMessage for m in ours.training_examples)


def test_deep_copies_are_equal_and_independent():
    import copy

    original = _example(metadata={"intent": {"answer": "housing_allowance"}})
    original.set(importer.LANGUAGE_HINT, "fi")
    clone = copy.deepcopy(original)
    assert type(clone) is importer.ImportedMessage
    assert clone.fingerprint() == original.fingerprint() and clone is not original
    clone.get("metadata")["intent"]["answer"] = "other"
    clone.set("text", "toinen")
    assert original.get("metadata")["intent"]["answer"] == "housing_allowance"
    assert original.get("text") == "miten haen kelan asumistukea"
    merged = TrainingData([original]).merge(TrainingData([_example("toinen")]))
    assert [m.get("text") for m in merged.training_examples] == [
        "miten haen kelan asumistukea",
        "toinen",
    ]
    assert merged.training_examples[0] is not original
