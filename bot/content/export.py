"""Writes the bundled content as the static JSON content API (``--out DIR``).

The output (``DIR/v1/index.json`` and ``DIR/v1/topics/<language>/<topic>.json``) can be served by
any web server or CDN and read by ``HttpContentSource``; see docs/content-api.md. Every document is
checked with the same validation the client applies, and nothing is written unless all of them
pass: a half-published or invalid tree would only send users to the bundled fallback.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bot.content.files import FilesContentSource
from bot.content.http import API_VERSION, InvalidDocument, document_path, topic_to_document
from bot.content.http import document_to_topic as parse_document
from bot.core.taxonomy import Taxonomy, taxonomy


def build_documents(
    source: FilesContentSource, topics: Taxonomy
) -> tuple[dict[str, Any], list[str]]:
    """All documents by path below the output folder, and the problems that block publishing."""
    documents: dict[str, Any] = {}
    problems: list[str] = []
    for language in topics.languages:
        for topic in topics.topic_ids:
            content = source.topic(topic, language)
            if content is None:
                problems.append(f"{language}/{topic}: no content")
                continue
            document = topic_to_document(content)
            try:
                if parse_document(document, topic, language) != content:
                    problems.append(f"{language}/{topic}: does not survive a JSON round trip")
            except InvalidDocument as exc:
                problems.append(f"{language}/{topic}: {exc}")
            documents[document_path(topic, language)] = document
    documents[f"{API_VERSION}/index.json"] = {
        "version": API_VERSION,
        "languages": list(topics.languages),
        "topics": list(topics.topic_ids),
    }
    return documents, problems


def write_documents(documents: dict[str, Any], out: Path) -> None:
    for relative, document in documents.items():
        path = out / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(document, ensure_ascii=False, indent=2) + "\n"
        path.write_text(text, encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="output folder (the API root)")
    parser.add_argument(
        "--content", type=Path, default=None, help="content folder (default: content/)"
    )
    args = parser.parse_args(argv)
    documents, problems = build_documents(FilesContentSource(args.content), taxonomy())
    if problems:
        print("not exported; fix these first:", *problems, sep="\n  ", file=sys.stderr)
        return 1
    write_documents(documents, args.out)
    print(f"wrote {len(documents)} files to {args.out / API_VERSION}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
