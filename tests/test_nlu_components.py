"""The custom Rasa NLU components on real Message objects."""

import pytest
from rasa.shared.nlu.training_data.message import Message

from bot.server.nlu.gazetteer import GazetteerEntityExtractor
from bot.server.nlu.language_detector import LanguageDetectorComponent
from bot.server.nlu.tokenizer import MultilingualTokenizer, spacy_language


@pytest.fixture(scope="module")
def detector():
    return LanguageDetectorComponent(LanguageDetectorComponent.get_default_config())


@pytest.fixture(scope="module")
def tokenizer():
    return MultilingualTokenizer(MultilingualTokenizer.get_default_config())


@pytest.fixture(scope="module")
def gazetteer():
    return GazetteerEntityExtractor({})


def parsed(detector, tokenizer, text, metadata=None):
    message = Message(data={"text": text, "metadata": metadata})
    detector.process([message])
    tokenizer.process([message])
    return message


def test_parse_result_shows_language_confidence_and_ui_language(detector):
    message = Message(
        data={"text": "hur ansöker jag om medborgarskap", "metadata": {"language": "fi"}}
    )
    detector.process([message])
    info = message.as_dict(only_output_properties=True)["language"]
    assert info["language"] == "sv"
    assert info["confidence"] > 0.5
    assert info["ui_language"] == "fi"


def test_button_payloads_are_not_detected(detector):
    info = detector.describe("/change_language", {"language": "ar"})
    assert info["language"] is None and info["ui_language"] == "ar"


def test_chinese_characters_are_kept_as_tokens(detector, tokenizer):
    message = parsed(detector, tokenizer, "我想申请 oleskelulupa 怎么办")
    tokens = [t.text for t in message.get("text_tokens")]
    assert "我" in tokens and "申" in tokens and "办" in tokens
    assert "oleskelulupa" in tokens  # the Finnish term stays one token


def test_latin_text_of_a_chinese_example_keeps_its_words(tokenizer):
    # Training examples carry their language (data/nlu/zh/): Latin-only ones ("ni hao",
    # "tutkinnon tunnustaminen OPH") were split into letters, unlike the same text typed later.
    message = Message(data={"text": "tutkinnon tunnustaminen OPH"})
    message.set("language", {"language": "zh", "reliable": True})
    tokenizer.process([message])
    assert [t.text for t in message.get("text_tokens")] == ["tutkinnon", "tunnustaminen", "OPH"]


def test_arabic_and_cyrillic_tokens(detector, tokenizer):
    arabic = parsed(detector, tokenizer, "كيف أحصل على kotoutumissuunnitelma")
    assert [t.text for t in arabic.get("text_tokens")] == [
        "كيف",
        "أحصل",
        "على",
        "kotoutumissuunnitelma",
    ]
    russian = parsed(detector, tokenizer, "как продлить внж?")
    assert [t.text for t in russian.get("text_tokens")][:3] == ["как", "продлить", "внж"]


def test_somali_uses_the_multilingual_tokenizer():
    assert spacy_language("so") == "xx"
    assert spacy_language("fi") == "fi"


@pytest.mark.parametrize(
    "text, value",
    [
        ("in English please", "en"),
        ("voitko vastata englanniksi", "en"),
        ("kan du svara på svenska", "sv"),
        ("можно по-русски", "ru"),
        ("ARABIC", "ar"),
    ],
)
def test_language_names_become_iso_codes(gazetteer, text, value):
    entities = [e for e in gazetteer.extract(text) if e["entity"] == "language"]
    assert [e["value"] for e in entities] == [value]


@pytest.mark.parametrize(
    "text, municipality",
    [
        ("asun Tampereella", "Tampere"),
        ("palvelut Helsingissä", "Helsinki"),
        ("jag bor i Helsingfors", "Helsinki"),
        ("Turussa kotoutumispalvelut", "Turku"),
        ("Lahdessa", "Lahti"),
        ("and in Espoo?", "Espoo"),
        ("Honkajoki", "Kankaanpää"),
    ],
)
def test_municipalities_with_inflections(gazetteer, text, municipality):
    entities = [e for e in gazetteer.extract(text) if e["entity"] == "municipality"]
    assert [e["value"] for e in entities] == [municipality]


def test_ordinary_words_are_not_municipalities(gazetteer):
    assert gazetteer.extract("miten saan oleskeluluvan ja kotoutumissuunnitelman") == []


def test_sentence_features_match_rasas_featurizer_in_one_batch(tmp_path, detector, tokenizer):
    """Kotobot's featurizer transforms a batch at once: the rows are Rasa's, message by message."""
    from rasa.engine.graph import ExecutionContext, GraphSchema
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource
    from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import (
        CountVectorsFeaturizer,
    )
    from rasa.shared.nlu.training_data.training_data import TrainingData

    from bot.server.nlu.featurizer import SentenceCountVectorsFeaturizer

    texts = [
        "miten haen oleskelulupaa",
        "how do i apply for a residence permit",
        "kela",
        "我想申请 oleskelulupa",
        "hur ansöker jag om uppehållstillstånd",
        "kela kela kela",
    ]

    def featurized(cls, name):
        messages = [Message(data={"text": t, "intent": "x"}) for t in texts]
        messages.insert(2, Message(data={"intent": "y"}))  # no text: no features
        data = TrainingData(messages)
        for message in messages:
            if message.get("text"):
                detector.process([message])
                tokenizer.process([message])
        config = {**cls.get_default_config(), "analyzer": "char_wb", "max_ngram": 4}
        context = ExecutionContext(GraphSchema({}), "test")
        (tmp_path / name).mkdir()
        storage = LocalModelStorage(tmp_path / name)
        component = cls.create(config, storage, Resource(name), context)
        component.train(data)
        component.process_training_data(data)
        return [m.get_sparse_features("text")[1] for m in messages]

    ours = featurized(SentenceCountVectorsFeaturizer, "ours")
    rasa = featurized(CountVectorsFeaturizer, "rasa")
    assert ours[2] is None and rasa[2] is None
    for mine, theirs in zip(ours, rasa, strict=True):
        if theirs is not None:
            assert mine.features.shape == theirs.features.shape
            assert (mine.features.toarray() == theirs.features.toarray()).all()
            assert mine.features.nnz > 0


def test_sentence_matrix_is_rasas_combined_features_stacked(tmp_path, detector, tokenizer):
    """The classifiers' training matrix, built at once, equals Rasa's per-message combination
    of both featurizers (words, then character n-grams), row by row; no features: empty row."""
    import scipy.sparse
    from rasa.engine.graph import ExecutionContext, GraphSchema
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource
    from rasa.shared.nlu.training_data.training_data import TrainingData

    from bot.server.nlu.featurizer import SentenceCountVectorsFeaturizer, sentence_matrix

    texts = ["miten haen oleskelulupaa", "kela kela", "我想申请 oleskelulupa", "how do i apply"]
    messages = [Message(data={"text": t, "intent": "x"}) for t in texts]
    messages.insert(1, Message(data={"intent": "y"}))  # no text: no features
    for message in messages:
        if message.get("text"):
            detector.process([message])
            tokenizer.process([message])
    data = TrainingData(messages)
    context = ExecutionContext(GraphSchema({}), "test")
    storage = LocalModelStorage(tmp_path)
    for name, config in (("words", {}), ("chars", {"analyzer": "char_wb", "max_ngram": 3})):
        config = {**SentenceCountVectorsFeaturizer.get_default_config(), **config}
        featurizer = SentenceCountVectorsFeaturizer.create(config, storage, Resource(name), context)
        featurizer.train(data)
        featurizer.process_training_data(data)

    matrix = sentence_matrix(messages)
    rasa_rows = [m.get_sparse_features("text")[1] for m in messages]
    width = rasa_rows[0].features.shape[1]
    expected = scipy.sparse.vstack(
        [
            scipy.sparse.csr_matrix(row.features) if row else scipy.sparse.csr_matrix((1, width))
            for row in rasa_rows
        ],
        format="csr",
    )
    words = len(set(" ".join(texts).split()))  # the character n-grams' columns come after these
    assert matrix.shape == expected.shape == (5, width) and width > words
    assert (matrix != expected).nnz == 0
    assert matrix[1].nnz == 0 and all(matrix[i].nnz > 0 for i in (0, 2, 3, 4))


def test_count_features_fingerprint_follows_the_content():
    """rasa train caches by fingerprint: equal features hash equal, any change hashes apart."""
    import numpy as np
    from scipy.sparse import coo_matrix

    from bot.server.nlu.featurizer import CountFeatures

    def features(values, columns, origin="words", width=9):
        rows = np.zeros(len(values), dtype=np.int32)
        matrix = coo_matrix((np.array(values), (rows, np.array(columns))), shape=(1, width))
        return CountFeatures(matrix, "sentence", "text", origin)

    base = features([1, 2], [3, 5]).fingerprint()
    assert features([1, 2], [3, 5]).fingerprint() == base
    changed = [
        features([1, 3], [3, 5]),
        features([1, 2], [3, 6]),
        features([1, 2], [3, 5], origin="chars"),
        features([1, 2], [3, 5], width=10),
    ]
    assert len({f.fingerprint() for f in changed} | {base}) == 5
    combined = features([1, 2], [3, 5])
    combined.combine_with_features(features([4], [0]))  # Rasa resets the cached fingerprint
    assert combined.fingerprint() != base


def _trained_featurizer(tmp_path, detector, tokenizer, texts, config):
    from rasa.engine.graph import ExecutionContext, GraphSchema
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource
    from rasa.shared.nlu.training_data.training_data import TrainingData

    from bot.server.nlu.featurizer import SentenceCountVectorsFeaturizer

    messages = [parsed(detector, tokenizer, t) for t in texts]
    for message in messages:
        message.set("intent", "x")
    config = {**SentenceCountVectorsFeaturizer.get_default_config(), **config}
    context = ExecutionContext(GraphSchema({}), "test")
    tmp_path.mkdir(parents=True, exist_ok=True)
    storage = LocalModelStorage(tmp_path)
    featurizer = SentenceCountVectorsFeaturizer.create(config, storage, Resource("f"), context)
    featurizer.train(TrainingData(messages))
    return featurizer


TRAIN_TEXTS = [
    "how do i book a doctor",
    "my husband hit me",
    "housing allowance from kela",
    "kela kela kela housing",
]


def test_sentence_norm_scales_each_row_to_the_same_length(tmp_path, detector, tokenizer):
    """A long message and a short one weigh the same; the words they have stay the same."""
    import numpy as np

    raw = _trained_featurizer(tmp_path / "raw", detector, tokenizer, TRAIN_TEXTS, {})
    scaled = _trained_featurizer(
        tmp_path / "scaled", detector, tokenizer, TRAIN_TEXTS, {"sentence_norm": 3}
    )
    texts = ["kela", "kela kela kela housing allowance from kela"]
    rows = {}
    for name, featurizer in (("raw", raw), ("scaled", scaled)):
        messages = [parsed(detector, tokenizer, t) for t in texts]
        featurizer.process(messages)
        rows[name] = [m.get_sparse_features("text")[1].features.tocsr() for m in messages]
    for raw_row, scaled_row in zip(rows["raw"], rows["scaled"], strict=True):
        assert np.isclose(np.linalg.norm(scaled_row.data), 3.0)
        assert (raw_row.indices == scaled_row.indices).all()
        assert np.allclose(
            scaled_row.data / scaled_row.data.max(), raw_row.data / raw_row.data.max()
        )
    assert np.linalg.norm(rows["raw"][1].data) > 3 * np.linalg.norm(rows["raw"][0].data)


def test_a_message_of_several_clauses_gets_a_feature_row_per_clause(tmp_path, detector, tokenizer):
    """At prediction time only; each clause's row is what the clause alone would get."""
    from bot.server.nlu.clauses import CLAUSE_FEATURES_KEY, CLAUSES_KEY

    featurizer = _trained_featurizer(
        tmp_path, detector, tokenizer, TRAIN_TEXTS, {"sentence_norm": 3}
    )
    text = "housing allowance from kela, but my husband hit me"
    whole = parsed(detector, tokenizer, text)
    single = parsed(detector, tokenizer, "how do i book a doctor")
    featurizer.process([whole, single])
    spans = whole.get(CLAUSES_KEY)
    assert [text[a:b] for a, b in spans] == ["housing allowance from kela", "but my husband hit me"]
    (rows,) = whole.get(CLAUSE_FEATURES_KEY)
    assert rows.shape[0] == 2
    alone = parsed(detector, tokenizer, "but my husband hit me")
    featurizer.process([alone])
    expected = alone.get_sparse_features("text")[1].features.tocsr()
    assert (rows[1] != expected).nnz == 0
    assert single.get(CLAUSES_KEY) == [] and single.get(CLAUSE_FEATURES_KEY) is None
