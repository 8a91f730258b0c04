"""Language-detection accuracy and speed per language on ../shared/langid-dev (make bench).

Compares the configured default (lingua-compact: lingua's models and method in compact arrays)
with lingua itself, lingua's low-accuracy mode and langdetect on single
words, word pairs and sentences, exactly as the NLU component sees messages (same clean-up, same
restriction to the 13 languages), and counts how often a supported-language text is wrongly
called unsupported.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

from bot.langid.detector import DetectorSettings, LanguageDetector
from bot.paths import project_root
from bot.taxonomy import taxonomy

KINDS = ("single-words", "word-pairs", "sentences")


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


def evaluate(detector: LanguageDetector, corpus: Path, limit: int | None) -> dict:
    results: dict = {}
    for kind in KINDS:
        for lang in detector.languages:
            lines = read_lines(corpus / kind / f"{lang}.txt", limit)
            start = time.perf_counter()
            detections = [detector.detect(line) for line in lines]
            elapsed = time.perf_counter() - start
            results[(kind, lang)] = {
                "n": len(lines),
                "correct": sum(d.language == lang for d in detections),
                "unsupported": sum(d.unsupported is not None for d in detections),
                "ms": 1000 * elapsed / max(len(lines), 1),
            }
    return results


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
    parser.add_argument("--backends", default="lingua-compact,lingua,lingua-low,langdetect")
    parser.add_argument("--out", type=Path, default=None, help="also write the markdown here")
    args = parser.parse_args(argv)
    if not args.corpus.is_dir():
        print(f"corpus not found: {args.corpus}", file=sys.stderr)
        return 2
    languages = taxonomy().languages
    lines = ["## Language detection (accuracy %, per language)", ""]
    for backend in args.backends.split(","):
        detector = LanguageDetector(languages, DetectorSettings(backend=backend))
        detector.warm_up()
        lines += table(backend, languages, evaluate(detector, args.corpus, args.limit))
    report = "\n".join(lines)
    print(report)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(report + "\n", "utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
