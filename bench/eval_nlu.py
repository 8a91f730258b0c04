"""NLU accuracy on the held-out sets, per language and per topic.

    python -m bench.eval_nlu [--model models/kotobot.tar.gz] [--out reports/nlu]

- tests/nlu_eval/: the team's written test set. Topic accuracy: a topic question must get its
  topic intent (a fallback counts as wrong). Off-topic rejection: an off-topic line must not be
  answered as a topic (out_of_scope or nlu_fallback both count as rejected).
- tests/real_questions/eval.yml: real questions from public pages whose source pages are not
  used for training (tests/real_questions/README.md). Topic accuracy, and for questions labelled
  with a specific answer, whether the parse chose that answer.
- tests/emergency_eval/: crisis messages must get `emergency`; look-alike ordinary questions
  must not.
- tests/emergency_probes/<round>/: crisis messages and look-alikes written apart from all the
  data, one row per round.
Writes a markdown report and a confusion-matrix PNG.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import re
import statistics
from collections import Counter, defaultdict
from pathlib import Path

from bot.core.paths import data_path
from bot.core.taxonomy import taxonomy
from bot.core.yamlio import load_yaml
from bot.tools.check_data import nlu_examples, normalise

OUT_OF_SCOPE = "out_of_scope"
EMERGENCY = "emergency"
REJECTED = {OUT_OF_SCOPE, "nlu_fallback"}


def load_test_set(directory: Path) -> list[tuple[str, str, str]]:
    """(language, gold intent, text) for every held-out example."""
    rows = []
    for path in sorted(directory.glob("*.yml")):
        for intent, texts in nlu_examples(path).items():
            rows.extend((path.stem, intent, text) for text in texts)
    return rows


def load_real_questions(path: Path) -> list[dict]:
    """The evaluation part of the real-question set (a YAML list of labelled questions)."""
    if not path.exists():
        return []
    return [row for row in load_yaml(path) or [] if row.get("text") and row.get("topic")]


async def parse_all(model: Path, texts: list[str]) -> list[dict]:
    from rasa.core.agent import Agent

    agent = Agent.load(str(model))
    return [await agent.parse_message(text) for text in texts]


async def predict(model: Path, texts: list[str]) -> list[str]:
    return [parsed["intent"]["name"] for parsed in await parse_all(model, texts)]


def chosen_answer(parsed: dict) -> str | None:
    selection = parsed.get("answer") or {}
    if selection.get("topic") != parsed["intent"]["name"]:
        return None
    return selection.get("id") or None


def score_real(rows: list[dict], parsed: list[dict]) -> dict[str, Counter]:
    """Per language: topic right, and answer right among questions labelled with an answer."""
    per_language: dict[str, Counter] = defaultdict(Counter)
    for row, parse in zip(rows, parsed, strict=True):
        counts = per_language[row["language"]]
        guess = parse["intent"]["name"]
        if row["topic"] == OUT_OF_SCOPE:
            counts["oos"] += 1
            counts["oos_ok"] += guess in REJECTED
            continue
        counts["topic"] += 1
        counts["topic_ok"] += guess == row["topic"]
        # steered: quoted (paraphrased) in a prompt that wrote training data; counted apart too.
        counts["unsteered"] += not row.get("steered")
        counts["unsteered_ok"] += not row.get("steered") and guess == row["topic"]
        if row.get("answer"):
            counts["answer"] += 1
            counts["answer_ok"] += guess == row["topic"] and chosen_answer(parse) == row["answer"]
    return per_language


def load_canonical_questions() -> list[dict]:
    """Every specific answer's own question (content/<code>.yml), in every language: a factual
    question set in every language (the team's phrasing; questions that are also training
    examples are left out)."""
    training = {
        normalise(text)
        for examples in nlu_examples(data_path("data", "nlu")).values()
        for text in examples
    }
    rows = []
    for language in taxonomy().languages:
        path = data_path("content", f"{language}.yml")
        answers = (load_yaml(path) or {}).get("answers") or {}
        for topic, items in answers.items():
            for answer_id, text in items.items():
                if normalise(text["question"]) in training:
                    continue
                rows.append({"text": text["question"], "language": language, "topic": topic,
                             "answer": answer_id})  # fmt: skip
    return rows


def score_emergency(rows: list[tuple[str, str, str]], predicted: list[str]) -> dict[str, Counter]:
    per_language: dict[str, Counter] = defaultdict(Counter)
    for (language, gold, _), guess in zip(rows, predicted, strict=True):
        counts = per_language[language]
        if gold == EMERGENCY:
            counts["crisis"] += 1
            counts["crisis_ok"] += guess == EMERGENCY
        else:
            counts["ordinary"] += 1
            counts["false_alarm"] += guess == EMERGENCY
    return per_language


def load_probes(directory: Path) -> list[tuple[str, str, str]]:
    """(round, kind, text) of tests/emergency_probes/<round>/<code>.yml: crisis messages and
    look-alikes written apart from everything (tests/emergency_probes/README.md)."""
    rows = []
    for path in sorted(directory.glob("*/*.yml")):
        for kind, texts in (load_yaml(path) or {}).items():
            rows += [(path.parent.name, kind, str(text)) for text in texts or ()]
    return rows


def load_everyday_probes(directory: Path) -> list[tuple[str, str, str]]:
    """(language, gold topic, text) of tests/everyday_probes/<round>/<code>.yml: everyday
    questions written apart from the training data (tests/everyday_probes/README.md)."""
    rows = []
    for round_directory in sorted(path for path in directory.glob("*") if path.is_dir()):
        rows += load_test_set(round_directory)
    return rows


def score_topics(rows: list[tuple[str, str, str]], predicted: list[str]) -> dict[str, Counter]:
    per_language: dict[str, Counter] = defaultdict(Counter)
    for (language, gold, _), guess in zip(rows, predicted, strict=True):
        per_language[language]["topic"] += 1
        per_language[language]["topic_ok"] += guess == gold
    return per_language


def _natural(name: str) -> tuple:
    """round2 before round10."""
    return tuple(int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name))


def probe_report(rows: list[tuple[str, str, str]], predicted: list[str]) -> str:
    counts: dict[str, Counter] = defaultdict(Counter)
    for (round_name, kind, _), guess in zip(rows, predicted, strict=True):
        counts[round_name][kind] += 1
        counts[round_name][kind + "_emergency"] += guess == EMERGENCY
    lines = [
        "",
        "Crisis probes (tests/emergency_probes/: 104 + 104 a round, written apart; each round "
        "was held out once, see its README):",
        "",
        "| round | crisis → emergency (112 first) | look-alikes taken for emergencies |",
        "|---|---|---|",
    ]
    for round_name, c in sorted(counts.items(), key=lambda item: _natural(item[0])):
        lines.append(
            f"| {round_name} | {c['crisis_emergency']}/{c['crisis']} = "
            f"{100 * c['crisis_emergency'] / max(c['crisis'], 1):.1f}% | "
            f"{c['lookalike_emergency']}/{c['lookalike']} = "
            f"{100 * c['lookalike_emergency'] / max(c['lookalike'], 1):.1f}% |"
        )
    return "\n".join(lines) + "\n"


def percent_row(name: str, per_language: dict[str, Counter], ok: str, n: str) -> str | None:
    langs = [lang for lang in taxonomy().languages if per_language[lang][n]]
    if not langs:
        return None
    values = [100 * per_language[lang][ok] / per_language[lang][n] for lang in langs]
    cells = " | ".join(
        f"{100 * per_language[lang][ok] / per_language[lang][n]:.0f}" if per_language[lang][n]
        else "–" for lang in taxonomy().languages
    )  # fmt: skip
    total = sum(per_language[lang][ok] for lang in langs) / sum(
        per_language[lang][n] for lang in langs
    )
    return (
        f"| {name} | {cells} | **{100 * total:.1f}** | {min(values):.0f} | "
        f"{sum(per_language[lang][n] for lang in langs)} |"
    )


def extra_report(
    real: dict[str, Counter],
    emergency: dict[str, Counter],
    canonical: dict[str, Counter],
    everyday: dict[str, Counter],
) -> str:
    langs = taxonomy().languages
    head = ["| | " + " | ".join(langs) + " | all | worst | n |", "|---" * (len(langs) + 4) + "|"]
    lines = ["## Real questions (tests/real_questions/eval.yml) and crisis messages", "", *head]
    rows = [
        percent_row("real questions: topic %", real, "topic_ok", "topic"),
        percent_row(
            "real questions, steered ones left out: topic %", real, "unsteered_ok", "unsteered"
        ),
        percent_row("real questions: specific answer %", real, "answer_ok", "answer"),
        percent_row("real off-topic rejected %", real, "oos_ok", "oos"),
        percent_row("factual questions: topic %", canonical, "topic_ok", "topic"),
        percent_row("factual questions: the fact's answer %", canonical, "answer_ok", "answer"),
        percent_row("everyday questions written apart: topic %", everyday, "topic_ok", "topic"),
        percent_row("crisis → emergency %", emergency, "crisis_ok", "crisis"),
        percent_row("look-alikes taken for emergencies %", emergency, "false_alarm", "ordinary"),
    ]
    lines += [row for row in rows if row]
    return "\n".join(lines) + "\n"


def score(rows: list[tuple[str, str, str]], predicted: list[str]) -> dict:
    per_language: dict[str, Counter] = defaultdict(Counter)
    per_topic: dict[str, Counter] = defaultdict(Counter)
    for (language, gold, _), guess in zip(rows, predicted, strict=True):
        if gold == OUT_OF_SCOPE:
            per_language[language]["oos"] += 1
            per_language[language]["oos_ok"] += guess in REJECTED
        else:
            ok = guess == gold
            per_language[language]["topic"] += 1
            per_language[language]["topic_ok"] += ok
            per_topic[gold]["n"] += 1
            per_topic[gold]["ok"] += ok
    return {"language": per_language, "topic": per_topic}


def confusion_png(rows, predicted, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    labels = list(taxonomy().topic_ids) + [OUT_OF_SCOPE, EMERGENCY, "nlu_fallback", "other"]
    index = {label: i for i, label in enumerate(labels)}
    matrix = np.zeros((len(labels), len(labels)), dtype=int)
    for (_, gold, _), guess in zip(rows, predicted, strict=True):
        matrix[index[gold], index.get(guess, index["other"])] += 1
    fig, ax = plt.subplots(figsize=(0.5 * len(labels), 0.42 * len(labels)))
    ax.imshow(matrix, cmap="Blues")
    ax.set_xticks(range(len(labels)), labels, rotation=90, fontsize=7)
    ax.set_yticks(range(len(labels)), labels, fontsize=7)
    for i, j in zip(*matrix.nonzero(), strict=True):
        ax.text(j, i, matrix[i, j], ha="center", va="center", fontsize=6,
                color="white" if matrix[i, j] > matrix.max() / 2 else "black")  # fmt: skip
    ax.set_xlabel("predicted")
    ax.set_ylabel("expected")
    ax.set_title(f"Held-out test set, all {len(taxonomy().languages)} languages")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)


def report(scores: dict, png_name: str) -> str:
    langs = taxonomy().languages
    per_language = scores["language"]
    lines = ["## Held-out NLU evaluation (tests/nlu_eval/)", ""]
    lines += ["| | " + " | ".join(langs) + " | mean | worst |", "|---" * (len(langs) + 3) + "|"]
    topic = [100 * per_language[lang]["topic_ok"] / per_language[lang]["topic"] for lang in langs]
    oos = [100 * per_language[lang]["oos_ok"] / per_language[lang]["oos"] for lang in langs]
    for name, values in (("topic accuracy %", topic), ("off-topic rejected %", oos)):
        cells = " | ".join(f"{v:.0f}" for v in values)
        lines.append(
            f"| {name} | {cells} | **{statistics.mean(values):.1f}** | {min(values):.0f} |"
        )
    lines += ["", "| topic | accuracy % (all languages) |", "|---|---|"]
    for topic_id, counts in sorted(
        scores["topic"].items(), key=lambda kv: kv[1]["ok"] / kv[1]["n"]
    ):
        lines.append(f"| {topic_id} | {100 * counts['ok'] / counts['n']:.0f} |")
    lines += ["", f"Confusion matrix: `{png_name}`", ""]
    return "\n".join(lines)


FALLBACK_GRID = ((0.1, 0.15, 0.2, 0.25, 0.3), (0.0, 0.02, 0.05))


def fallback_settings() -> tuple[float, float]:
    """The fallback classifier's threshold and ambiguity threshold in config.yml."""
    for component in load_yaml(data_path("config.yml"))["pipeline"]:
        if component["name"].endswith("FallbackClassifier"):
            return float(component["threshold"]), float(component["ambiguity_threshold"])
    raise LookupError("no fallback classifier in config.yml")


def fallback_decision(parse: dict, threshold: float, ambiguity: float, current: tuple) -> str:
    """The intent the parse would have had with other fallback settings, from its ranking.
    A fallback the current settings do not explain (a language we don't speak, a municipality
    follow-up) stays a fallback; an emergency is never one."""
    intent = parse["intent"]["name"]
    ranking = [r for r in parse.get("intent_ranking") or [] if r["name"] != "nlu_fallback"]
    if intent == EMERGENCY or not ranking:
        return intent
    first = ranking[0]["confidence"]
    margin = first - (ranking[1]["confidence"] if len(ranking) > 1 else 0.0)
    if intent == "nlu_fallback" and first >= current[0] and margin >= current[1]:
        return intent
    if first < threshold or margin < ambiguity:
        return "nlu_fallback"
    return ranking[0]["name"]


def fallback_sweep(
    rows: list, parsed: list[dict], canonical: list[dict], canonical_parsed: list[dict]
) -> str:
    """Topic accuracy (written set, factual questions) and off-topic rejection under other
    fallback settings, recomputed from one model's rankings (no retraining)."""
    current = fallback_settings()
    lines = [
        "## Fallback settings (recomputed from the rankings)",
        "",
        "| threshold | ambiguity | written topic % | off-topic rejected % | factual topic % |",
        "|---|---|---|---|---|",
    ]

    def percent(hits: list[bool]) -> str:
        return f"{100 * sum(hits) / max(len(hits), 1):.1f}"

    for threshold, ambiguity in itertools.product(*FALLBACK_GRID):
        topical, off = [], []
        for (_, gold, _), parse in zip(rows, parsed, strict=True):
            decided = fallback_decision(parse, threshold, ambiguity, current)
            if gold == OUT_OF_SCOPE:
                off.append(decided in REJECTED)
            else:
                topical.append(decided == gold)
        factual = [
            fallback_decision(parse, threshold, ambiguity, current) == row["topic"]
            for row, parse in zip(canonical, canonical_parsed, strict=True)
        ]
        mark = " (config.yml)" if (threshold, ambiguity) == current else ""
        lines.append(
            f"| {threshold}{mark} | {ambiguity} | {percent(topical)} | {percent(off)} | "
            f"{percent(factual)} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", type=Path, default=data_path("models", "kotobot.tar.gz"))
    parser.add_argument("--tests", type=Path, default=data_path("tests", "nlu_eval"))
    parser.add_argument("--out", type=Path, default=data_path("reports", "nlu"))
    parser.add_argument("--errors", action="store_true", help="print every wrong prediction")
    parser.add_argument(
        "--real", type=Path, default=data_path("tests", "real_questions", "eval.yml")
    )
    parser.add_argument("--emergency", type=Path, default=data_path("tests", "emergency_eval"))
    parser.add_argument("--probes", type=Path, default=data_path("tests", "emergency_probes"))
    parser.add_argument("--everyday", type=Path, default=data_path("tests", "everyday_probes"))
    parser.add_argument(
        "--fallback-sweep", action="store_true",
        help="also report other fallback thresholds, recomputed from the rankings",
    )  # fmt: skip
    args = parser.parse_args(argv)
    rows = load_test_set(args.tests)
    real_rows = load_real_questions(args.real)
    crisis_rows = load_test_set(args.emergency) if args.emergency.is_dir() else []
    canonical_rows = load_canonical_questions()
    probe_rows = load_probes(args.probes) if args.probes.is_dir() else []
    everyday_rows = load_everyday_probes(args.everyday) if args.everyday.is_dir() else []
    texts = [text for _, _, text in rows + crisis_rows] + [
        row["text"] for row in real_rows + canonical_rows
    ]
    texts += [text for _, _, text in probe_rows]
    texts += [text for _, _, text in everyday_rows]
    parsed = asyncio.run(parse_all(args.model, texts))
    predicted = [p["intent"]["name"] for p in parsed[: len(rows)]]
    crisis_predicted = [
        p["intent"]["name"] for p in parsed[len(rows) : len(rows) + len(crisis_rows)]
    ]
    real_parsed = parsed[len(rows) + len(crisis_rows) :][: len(real_rows)]
    canonical_parsed = parsed[len(rows) + len(crisis_rows) + len(real_rows) :][
        : len(canonical_rows)
    ]
    tail = parsed[len(parsed) - len(probe_rows) - len(everyday_rows) :]
    probe_predicted = [p["intent"]["name"] for p in tail[: len(probe_rows)]]
    everyday_predicted = [p["intent"]["name"] for p in tail[len(probe_rows) :]]
    if args.errors:
        for (lang, gold, text), guess in zip(rows, predicted, strict=True):
            wrong = guess not in REJECTED if gold == OUT_OF_SCOPE else guess != gold
            if wrong:
                print(f"{lang}\t{gold}\t{guess}\t{text}")
        for (lang, gold, text), guess in zip(crisis_rows, crisis_predicted, strict=True):
            if (gold == EMERGENCY) != (guess == EMERGENCY):
                print(f"crisis {lang}\t{gold}\t{guess}\t{text}")
        for row, parse in zip(real_rows, real_parsed, strict=True):
            answer = chosen_answer(parse)
            if parse["intent"]["name"] != row["topic"] or (
                row.get("answer") and answer != row["answer"]
            ):
                print(
                    f"real {row['language']}\t{row['topic']}/{row.get('answer')}\t"
                    f"{parse['intent']['name']}/{answer}\t{row['text']}"
                )
        for (round_name, kind, text), guess in zip(probe_rows, probe_predicted, strict=True):
            if (kind == "crisis") != (guess == EMERGENCY):
                print(f"probe {round_name}\t{kind}\t{guess}\t{text}")
        for (lang, gold, text), guess in zip(everyday_rows, everyday_predicted, strict=True):
            if guess != gold:
                print(f"everyday {lang}\t{gold}\t{guess}\t{text}")
    png = args.out / "confusion_matrix.png"
    confusion_png(rows, predicted, png)
    text = report(score(rows, predicted), png.name)
    text += "\n" + extra_report(
        score_real(real_rows, real_parsed),
        score_emergency(crisis_rows, crisis_predicted),
        score_real(canonical_rows, canonical_parsed),
        score_topics(everyday_rows, everyday_predicted),
    )
    if probe_rows:
        text += probe_report(probe_rows, probe_predicted)
    if args.fallback_sweep:
        text += "\n" + fallback_sweep(rows, parsed[: len(rows)], canonical_rows, canonical_parsed)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "eval.md").write_text(text, "utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
