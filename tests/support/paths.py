"""Where the tests find the project, their fixtures and the trained model."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
MODEL = ROOT / "models" / "kotobot.tar.gz"
# Short texts per language for language detection (../shared/langid-dev, Leipzig corpora via
# the Lingua project): beside the project in CI, absent elsewhere (the tests then skip).
LANGID_DEV = ROOT.parent / "shared" / "langid-dev"


def langid_dev_lines(kind: str, code: str, limit: int | None = None) -> list[str]:
    """Lines of ``langid-dev/<kind>/<code>.txt``; none for a language the corpus lacks (e.g. one
    just added to topics.yml), so that the tests measure the languages that have texts."""
    path = LANGID_DEV / kind / f"{code}.txt"
    lines = path.read_text("utf-8").splitlines() if path.exists() else []
    return lines[:limit] if limit is not None else lines
