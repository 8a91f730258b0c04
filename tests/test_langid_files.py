"""The language tables are mapped from their files (bot/langid/mapped.py), and langdetect's
profiles in a table give langdetect's own answers (bot/langid/langdetect_table.py)."""

from __future__ import annotations

import numpy as np
import pytest
from langdetect import DetectorFactory, detect_langs
from langdetect.lang_detect_exception import LangDetectException

from bot.core.taxonomy import taxonomy
from bot.langid import langdetect_table
from bot.langid.mapped import load_arrays, save_arrays
from tests.support.paths import LANGID_DEV, langid_dev_lines


def test_arrays_come_back_equal_read_only_and_mapped(tmp_path):
    arrays = {
        "keys": np.arange(1000, dtype=np.uint64) * 7,
        "matrix": np.asfortranarray(np.random.default_rng(1).random((30, 55), dtype=np.float32)),
        "codes": np.array(["fi", "sv", "ar"]),
        "empty": np.zeros(0, dtype=np.int32),
    }
    path = tmp_path / "folder" / "table.npz"
    save_arrays(path, arrays)
    assert path.stat().st_mode & 0o777 == 0o644 and path.parent.stat().st_mode & 0o777 == 0o755
    mapped = load_arrays(path)
    assert set(mapped) == set(arrays)
    for name, array in arrays.items():
        assert mapped[name].dtype == array.dtype and np.array_equal(mapped[name], array), name
        assert not mapped[name].flags.writeable  # one process cannot change another's tables
    assert mapped["matrix"].flags.f_contiguous
    assert not mapped["keys"].flags.owndata  # a view of the mapped file, not a copy


def test_a_compressed_table_is_refused_rather_than_copied(tmp_path):
    path = tmp_path / "compressed.npz"
    np.savez_compressed(path, keys=np.arange(10))
    with pytest.raises(ValueError, match="compressed"):
        load_arrays(path)


def langdetect_answer(answer_of, text: str) -> list[tuple[str, float]] | str:
    try:
        return [(found.lang, round(found.prob, 9)) for found in answer_of(text)]
    except LangDetectException as error:
        return f"error {error.code}"


@pytest.mark.skipif(not LANGID_DEV.is_dir(), reason="../shared/langid-dev not available")
def test_the_table_gives_langdetects_own_answers(tmp_path):
    DetectorFactory.seed = langdetect_table.SEED
    table = langdetect_table.LangdetectTable(langdetect_table.build())
    texts = ["", "1234", "Ich möchte wissen, wie ich eine Aufenthaltserlaubnis bekomme"]
    for kind in ("single-words", "word-pairs", "sentences"):
        for code in taxonomy().languages:
            texts += langid_dev_lines(kind, code, 12)
    assert len(texts) > 400
    for text in texts:
        assert langdetect_answer(table.probabilities, text) == langdetect_answer(
            detect_langs, text
        ), text


def test_a_missing_table_is_built_from_langdetects_files_and_saved(tmp_path):
    path = tmp_path / "langdetect.npz"
    table = langdetect_table.load_or_build.__wrapped__(path)
    assert path.is_file()
    assert len(table.langlist) == 55 and "fi" in table.langlist
    assert table.probabilities("Hyvää huomenta, miten voin auttaa sinua tänään?")[0].lang == "fi"
