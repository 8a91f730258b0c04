"""The everyday questions written apart (tests/everyday_probes/) as `make eval-nlu` reads and
scores them: every round, every language, topic right or not."""

from pathlib import Path

from bench.eval_nlu import load_everyday_probes, percent_row, score_topics

ROUND = """version: "3.1"
nlu:
- intent: housing
  examples: |
    - {first}
    - {second}
- intent: taxation
  examples: |
    - {third}
"""


def _write(directory: Path, name: str, code: str, *texts: str) -> None:
    (directory / name).mkdir(parents=True, exist_ok=True)
    first, second, third = texts
    (directory / name / f"{code}.yml").write_text(
        ROUND.format(first=first, second=second, third=third), "utf-8"
    )


def test_rounds_are_read_per_language_and_scored_on_the_topic(tmp_path):
    _write(tmp_path, "round1", "fi", "vuokra-asunto espoo", "asumistuki sambo", "verokortti")
    _write(tmp_path, "round2", "en", "flat in turku", "rent deposit", "tax card")
    (tmp_path / "README.md").write_text("not a round", "utf-8")
    rows = load_everyday_probes(tmp_path)
    assert ("fi", "housing", "asumistuki sambo") in rows
    assert ("en", "taxation", "tax card") in rows
    assert len(rows) == 6
    guesses = ["housing", "social_security", "taxation", "housing", "housing", "out_of_scope"]
    scores = score_topics(rows, guesses)
    assert (scores["fi"]["topic_ok"], scores["fi"]["topic"]) == (2, 3)
    assert (scores["en"]["topic_ok"], scores["en"]["topic"]) == (2, 3)
    row = percent_row("everyday", scores, "topic_ok", "topic")
    assert row is not None and "**66.7**" in row and row.endswith("| 6 |")


def test_no_rounds_no_row(tmp_path):
    assert load_everyday_probes(tmp_path) == []
    assert percent_row("everyday", score_topics([], []), "topic_ok", "topic") is None


def test_a_probe_that_is_also_a_training_example_is_reported(tmp_path, monkeypatch):
    from bot.tools.check_data import check_eval_is_held_out

    (tmp_path / "data" / "nlu" / "en").mkdir(parents=True)
    (tmp_path / "data" / "nlu" / "en" / "everyday.yml").write_text(
        ROUND.format(first="flat in turku", second="studio near campus", third="tax card"), "utf-8"
    )
    _write(tmp_path / "tests" / "everyday_probes", "round1", "en", "Flat in Turku", "x y", "z")
    monkeypatch.setenv("KOTOBOT_HOME", str(tmp_path))
    assert check_eval_is_held_out() == [
        "everyday_probes/round1/en: 1 test sentences also in training data"
    ]
