"""Intent accuracy on the held-out test set (tests/nlu_eval/), per language and per topic.

    python -m bench.eval_nlu [--model models/kotobot.tar.gz] [--out reports/nlu]

Topic accuracy: a topic question must get its topic intent (a fallback counts as wrong).
Off-topic rejection: an off-topic line must not be answered as a topic (out_of_scope or
nlu_fallback both count as rejected). Writes a markdown report and a confusion-matrix PNG.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
from collections import Counter, defaultdict
from pathlib import Path

from bot.check_data import nlu_examples
from bot.paths import data_path
from bot.taxonomy import taxonomy

OUT_OF_SCOPE = "out_of_scope"
REJECTED = {OUT_OF_SCOPE, "nlu_fallback"}


def load_test_set(directory: Path) -> list[tuple[str, str, str]]:
    """(language, gold intent, text) for every held-out example."""
    rows = []
    for path in sorted(directory.glob("*.yml")):
        for intent, texts in nlu_examples(path).items():
            rows.extend((path.stem, intent, text) for text in texts)
    return rows


async def predict(model: Path, texts: list[str]) -> list[str]:
    from rasa.core.agent import Agent

    agent = Agent.load(str(model))
    predictions = []
    for text in texts:
        parsed = await agent.parse_message(text)
        predictions.append(parsed["intent"]["name"])
    return predictions


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

    labels = list(taxonomy().topic_ids) + [OUT_OF_SCOPE, "nlu_fallback", "other"]
    index = {label: i for i, label in enumerate(labels)}
    matrix = np.zeros((len(labels), len(labels)), dtype=int)
    for (_, gold, _), guess in zip(rows, predicted, strict=True):
        matrix[index[gold], index.get(guess, index["other"])] += 1
    fig, ax = plt.subplots(figsize=(13, 11))
    ax.imshow(matrix, cmap="Blues")
    ax.set_xticks(range(len(labels)), labels, rotation=90, fontsize=7)
    ax.set_yticks(range(len(labels)), labels, fontsize=7)
    for i, j in zip(*matrix.nonzero(), strict=True):
        ax.text(j, i, matrix[i, j], ha="center", va="center", fontsize=6,
                color="white" if matrix[i, j] > matrix.max() / 2 else "black")  # fmt: skip
    ax.set_xlabel("predicted")
    ax.set_ylabel("expected")
    ax.set_title("Held-out test set, all 13 languages")
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", type=Path, default=data_path("models", "kotobot.tar.gz"))
    parser.add_argument("--tests", type=Path, default=data_path("tests", "nlu_eval"))
    parser.add_argument("--out", type=Path, default=data_path("reports", "nlu"))
    parser.add_argument("--errors", action="store_true", help="print every wrong prediction")
    args = parser.parse_args(argv)
    rows = load_test_set(args.tests)
    predicted = asyncio.run(predict(args.model, [text for _, _, text in rows]))
    if args.errors:
        for (lang, gold, text), guess in zip(rows, predicted, strict=True):
            wrong = guess not in REJECTED if gold == OUT_OF_SCOPE else guess != gold
            if wrong:
                print(f"{lang}\t{gold}\t{guess}\t{text}")
    png = args.out / "confusion_matrix.png"
    confusion_png(rows, predicted, png)
    text = report(score(rows, predicted), png.name)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "eval.md").write_text(text, "utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
