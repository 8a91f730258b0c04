"""Adding real questions (bot/tools/real_questions.py): whole pages to one side, nothing twice."""

from pathlib import Path

import yaml

from bot.tools import real_questions as tool
from bot.tools.check_data import nlu_examples


def _project(tmp_path: Path) -> Path:
    folder = tmp_path / "tests" / "real_questions"
    folder.mkdir(parents=True)
    (folder / "eval.yml").write_text(
        "- text: Kuinka kauan käsittely kestää?\n  language: fi\n  topic: citizenship\n"
        "  answer: processing_time\n  source: https://migri.fi/ukk\n  source_kind: official_faq\n",
        "utf-8",
    )
    (folder / "train_pages.yml").write_text("en:\n- https://example.org/faq\n", "utf-8")
    nlu = tmp_path / "data" / "nlu" / "en"
    nlu.mkdir(parents=True)
    (nlu / "real_questions.yml").write_text(
        'version: "3.1"\nnlu:\n- intent: housing\n  examples: |\n    - Where do I find a flat?\n',
        "utf-8",
    )
    return tmp_path


def _row(text: str, source: str, language: str = "en") -> dict:
    return {"text": text, "language": language, "topic": "housing", "answer": None,
            "source": source, "source_kind": "forum"}  # fmt: skip


def test_page_key_ignores_scheme_www_query_and_slash():
    assert tool.page_key("http://www.Migri.fi/ukk/?x=1#a") == tool.page_key("https://migri.fi/ukk")


def test_known_pages_and_repeated_texts_are_refused(tmp_path):
    root = _project(tmp_path)
    rows = [
        _row("Anything about rent?", "http://www.migri.fi/ukk?page=2"),  # page in eval.yml
        _row("And deposits?", "https://example.org/faq/"),  # page in train_pages.yml
        _row("where do i find a  flat?", "https://new.example/one"),  # text already trained on
    ]
    train, evaluation, refused = tool.split(rows, root)
    assert (train, evaluation) == ([], [])
    assert len(refused) == 3


def test_each_new_page_goes_whole_to_one_side_and_is_then_known(tmp_path):
    root = _project(tmp_path)
    pages = [f"https://forum.example/thread/{n}" for n in range(40)]
    rows = [
        _row(f"Question {n} {k} about rent?", page) for n, page in enumerate(pages) for k in (1, 2)
    ]
    train, evaluation, refused = tool.split(rows, root)
    assert not refused
    train_pages = {row["source"] for row in train}
    eval_pages = {row["source"] for row in evaluation}
    assert train_pages and eval_pages and not train_pages & eval_pages
    assert all(tool.goes_to_training(tool.page_key(page)) for page in train_pages)
    assert 0.2 < len(train_pages) / len(pages) < 0.6  # about TRAIN_SHARE of the pages

    tool.append_training(train, root)
    tool.append_evaluation(evaluation, root)
    trained = nlu_examples(root / "data" / "nlu" / "en" / "real_questions.yml")["housing"]
    assert {row["text"] for row in train} <= set(trained)
    evaluated = yaml.safe_load((root / "tests" / "real_questions" / "eval.yml").read_text("utf-8"))
    assert len(evaluated) == 1 + len(evaluation)
    listed = yaml.safe_load((root / "tests" / "real_questions" / "train_pages.yml").read_text())
    assert train_pages <= set(listed["en"])
    # a second run of the same file adds nothing: every page is known now
    assert tool.split(rows, root)[2] == [f"page already in the set: {page}" for page in
                                          [row["source"] for row in rows]]  # fmt: skip
