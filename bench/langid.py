"""Language-detection accuracy and speed per language on ../shared/langid-dev (make bench).

Compares the configured default (lingua-compact: lingua's models and method in compact arrays)
with lingua's low-accuracy mode on its small table (lingua-compact-low) and langdetect on single
words, word pairs and sentences, exactly as the NLU component sees messages (same clean-up, same
restriction to the languages of topics.yml), and counts how often a supported-language text is
wrongly called unsupported (the check every backend shares: lingua-compact-low over ~35 languages
and langdetect must both name another language).

Then the whole-word evidence mixed into the default backend's scores (bot/langid/words.py), one
source at a time, on the tuning split (lines 1-125 of each file, the only lines the weights were
tuned on) and the held-out split (lines 126-250); ``--tune`` reruns the weights' grid search on
the tuning split.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import statistics
import sys
import time
from pathlib import Path

from bot.core.paths import project_root
from bot.core.taxonomy import taxonomy
from bot.langid.backends import BACKENDS
from bot.langid.detector import DetectorSettings, LanguageDetector
from bot.langid.text import language_words
from bot.langid.words import SOURCES, WordEvidence, WordSettings, load_or_build

KINDS = ("single-words", "word-pairs", "sentences")
# The word evidence's weights were tuned on the first lines of each file only; the rest is held out.
TUNING_LINES = 125
SPLITS = {"tuning 1-125": slice(0, TUNING_LINES), "held-out 126-250": slice(TUNING_LINES, None)}
# (row, word sources, prior): the prior is the text's own language ("right") or Finnish.
WORD_ROWS = (
    ("n-grams only (letters and diacritics included)", (), None),
    ("+ frequency lists (wordfreq)", ("frequency",), None),
    ("+ Estonian word forms (simplemma)", ("forms",), None),
    ("+ own texts (data/nlu, locales, content)", ("own",), None),
    ("all three (default)", SOURCES, None),
    ("all + the right UI language as prior", SOURCES, "right"),
    ("all + Finnish as prior (wrong for all but Finnish)", SOURCES, "fi"),
)


def default_corpus() -> Path:
    return project_root().parent / "shared" / "langid-dev"


def configured_backend() -> str:
    """The backend config.yml gives the language detector (what the assistant really uses)."""
    import yaml

    config = yaml.safe_load((project_root() / "config.yml").read_text("utf-8"))
    for component in config["pipeline"]:
        if component["name"].endswith("LanguageDetectorComponent"):
            return component.get("backend", DetectorSettings().backend)
    return DetectorSettings().backend


def read_lines(path: Path, limit: int | None) -> list[str]:
    lines = [line.strip() for line in path.read_text("utf-8").splitlines() if line.strip()]
    return lines[:limit] if limit else lines


def evaluate(
    detector: LanguageDetector, corpus: Path, limit: int | None, prior: str | None = None
) -> dict:
    """``prior``: a language code, or "right" for each text's own language."""
    results: dict = {}
    for kind in KINDS:
        for lang in detector.languages:
            lines = read_lines(corpus / kind / f"{lang}.txt", limit)
            given = lang if prior == "right" else prior
            start = time.perf_counter()
            detections = [detector.detect(line, prior=given) for line in lines]
            elapsed = time.perf_counter() - start
            results[(kind, lang)] = {
                "n": len(lines),
                "correct": sum(d.language == lang for d in detections),
                "right": [d.language == lang for d in detections],
                "unsupported": sum(d.unsupported is not None for d in detections),
                "ms": 1000 * elapsed / max(len(lines), 1),
            }
    return results


def split_accuracy(results: dict, languages: tuple[str, ...], kind: str, part: slice) -> list:
    """Accuracy % per language on one split of the lines."""
    accs = []
    for lang in languages:
        right = results[(kind, lang)]["right"][part]
        accs.append(100 * sum(right) / max(len(right), 1))
    return accs


def word_rows(languages: tuple[str, ...], corpus: Path, limit: int | None) -> list[str]:
    """Each source of word evidence on its own, then all, on the two splits."""
    out = [
        "## Word evidence per source (lingua-compact, accuracy %: mean / worst language)",
        "",
        f"Weights tuned on lines 1-{TUNING_LINES} of each file only; lines {TUNING_LINES + 1}-250"
        " are held out.",
        "",
        "| texts | evidence | " + " | ".join(SPLITS) + " | all lines | unsupported |",
        "|---|---|" + "---|" * (len(SPLITS) + 2),
    ]
    rows = []
    for name, sources, prior in WORD_ROWS:
        detector = LanguageDetector(languages, DetectorSettings(word_sources=sources))
        results = evaluate(detector, corpus, limit, prior=prior)
        rows.append((name, results))
    for kind in KINDS:
        for name, results in rows:
            cells = []
            for part in [*SPLITS.values(), slice(None)]:
                accs = split_accuracy(results, languages, kind, part)
                worst = languages[accs.index(min(accs))]
                cells.append(f"{statistics.mean(accs):.1f} / {min(accs):.0f} ({worst})")
            flagged = sum(results[(kind, lang)]["unsupported"] for lang in languages)
            out.append(f"| {kind} | {name} | " + " | ".join(cells) + f" | {flagged} |")
    return [*out, ""]


def tune(languages: tuple[str, ...], corpus: Path) -> list[str]:
    """Grid search of the word evidence's weights on the tuning split (n-gram scores cached)."""
    plain = LanguageDetector(languages, DetectorSettings(word_sources=()))
    texts = []
    for kind in KINDS:
        for lang in languages:
            for line in read_lines(corpus / kind / f"{lang}.txt", None):
                words = language_words(line)
                scores = plain.detect(line).scores
                texts.append((kind, lang, len(texts), words, scores))
    table = load_or_build(languages)
    grid = {
        "one_word_weight": (0.5, 0.7, 1.0),
        "weight": (0.3, 0.5, 0.7, 1.0),
        "unseen_depth": (1.0, 1.5, 2.0),
        "unlisted_margin": (1.0, 2.0, 3.0),
    }
    found = []
    for values in itertools.product(*grid.values()):
        settings = dataclasses.replace(WordSettings(), **dict(zip(grid, values, strict=True)))
        evidence = WordEvidence(languages, table=table, settings=settings)
        accs: dict = {}
        for kind, lang, _, words, scores in _split(texts, SPLITS["tuning 1-125"]):
            best = evidence.combine(scores, words)[0][0] if scores else None
            accs.setdefault((kind, lang), []).append(best == lang)
        means = {
            kind: statistics.mean(100 * statistics.mean(accs[(kind, lang)]) for lang in languages)
            for kind in KINDS
        }
        found.append((means["single-words"] + means["word-pairs"], values, means))
    found.sort(key=lambda row: -row[0])
    out = ["## Grid search on the tuning split (single words + word pairs, best 10)", ""]
    out += ["| " + " | ".join(grid) + " | single words | word pairs | sentences |"]
    out += ["|---" * (len(grid) + 3) + "|"]
    for _, values, means in found[:10]:
        cells = " | ".join(str(v) for v in values)
        out.append(f"| {cells} | " + " | ".join(f"{means[k]:.1f}" for k in KINDS) + " |")
    return [*out, ""]


def _split(texts: list, part: slice) -> list:
    """The texts whose line number (per language and kind) falls in ``part``."""
    counters: dict = {}
    chosen = []
    for text in texts:
        number = counters.get(text[:2], 0)
        counters[text[:2]] = number + 1
        if number in range(*part.indices(10**9)):
            chosen.append(text)
    return chosen


def table(name: str, languages: tuple[str, ...], results: dict) -> list[str]:
    out = [f"### {name}", "", "| texts | " + " | ".join(languages) + " | mean | worst | ms/msg |"]
    out.append("|---" * (len(languages) + 4) + "|")
    for kind in KINDS:
        accs = [
            100 * results[(kind, lang)]["correct"] / results[(kind, lang)]["n"]
            for lang in languages
        ]
        ms = statistics.mean(results[(kind, lang)]["ms"] for lang in languages)
        cells = " | ".join(f"{acc:.0f}" for acc in accs)
        out.append(
            f"| {kind} | {cells} | **{statistics.mean(accs):.1f}** | {min(accs):.0f} | {ms:.2f} |"
        )
    flagged = sum(r["unsupported"] for r in results.values())
    total = sum(r["n"] for r in results.values())
    out += ["", f"Supported-language texts wrongly called unsupported: {flagged} of {total}.", ""]
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpus", type=Path, default=default_corpus())
    parser.add_argument("--limit", type=int, default=None, help="texts per language and kind")
    parser.add_argument("--backends", default=",".join(BACKENDS))
    parser.add_argument("--out", type=Path, default=None, help="also write the markdown here")
    parser.add_argument(
        "--tune", action="store_true", help="also grid-search the word weights (tuning split)"
    )
    args = parser.parse_args(argv)
    if not args.corpus.is_dir():
        print(f"corpus not found: {args.corpus}", file=sys.stderr)
        return 2
    languages = taxonomy().languages
    lines = ["## Language detection (accuracy %, per language)", ""]
    default = LanguageDetector(languages, DetectorSettings(backend=configured_backend()))
    default.warm_up()
    name = f"{configured_backend()} + word evidence (default)"
    lines += table(name, languages, evaluate(default, args.corpus, args.limit))
    for backend in args.backends.split(","):
        detector = LanguageDetector(languages, DetectorSettings(backend=backend, word_sources=()))
        detector.warm_up()
        lines += table(backend, languages, evaluate(detector, args.corpus, args.limit))
    lines += word_rows(languages, args.corpus, args.limit)
    if args.tune:
        lines += tune(languages, args.corpus)
    report = "\n".join(lines)
    print(report)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(report + "\n", "utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
