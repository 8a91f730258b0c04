"""Writes ``web/i18n.json``: the web chat page's texts in every language the assistant speaks.

    python -m bot.web_i18n          # (re)write web/i18n.json
    python -m bot.web_i18n --check  # fail if it is out of date

What the assistant says comes from ``locales/<code>.yml`` (language name = autonym, direction,
privacy notice, the topic label used as the page's subtitle); the few texts that are about the page
itself (language picker label, input hint, connection status, send button) from ``web/texts.yml``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from bot.locales import all_locales
from bot.paths import data_path
from bot.yamlio import load_yaml

BOT_NAME = "Kotobot"
SUBTITLE_TOPIC = "integration_basics"
WEB_TEXT_KEYS = ("language_label", "input_hint", "connecting", "send")


def web_texts() -> dict[str, dict[str, str]]:
    return load_yaml(data_path("web", "texts.yml"))


def build() -> dict[str, Any]:
    page = web_texts()
    languages: dict[str, Any] = {}
    problems = []
    for locale in all_locales():
        subtitle = locale.topic_labels.get(SUBTITLE_TOPIC)
        privacy = locale.texts.get("privacy_notice")
        if not subtitle or not privacy:
            problems.append(f"locales/{locale.code}.yml lacks topics.{SUBTITLE_TOPIC} or privacy")
        entry = {
            "name": locale.name,
            "dir": locale.direction,
            "title": f"{BOT_NAME} – {subtitle}",
            "heading": BOT_NAME,
            "subtitle": subtitle,
            "privacy": privacy,
        }
        for key in WEB_TEXT_KEYS:
            value = (page.get(key) or {}).get(locale.code)
            if not value:
                problems.append(f"web/texts.yml lacks {key} for {locale.code}")
            entry[key] = value
        languages[locale.code] = entry
    if problems:
        raise ValueError("; ".join(problems))
    return {"order": list(languages), "languages": languages}


def render(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, indent=1) + "\n"


def output_path() -> Path:
    return data_path("web", "i18n.json")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check, write nothing")
    args = parser.parse_args(argv)
    path, text = output_path(), render(build())
    current = path.read_text("utf-8") if path.exists() else None
    if current == text:
        return 0
    if args.check:
        print(f"out of date: {path} (run: python -m bot.web_i18n)", file=sys.stderr)
        return 1
    path.write_text(text, "utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
