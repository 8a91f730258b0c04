"""The package layout: which process runs which code, the import rules, and docs/layout.md.

Kotobot's code runs in three processes and a few command-line tools; the folders say which:

- ``bot/core``, ``bot/langid``, ``bot/content``: basics every process uses;
- ``bot/server``: what the Rasa server loads (NLU components, policies, channels, NLG, stores,
  its start and Rasa patches);
- ``bot/answers`` and ``actions/``: what the action server runs;
- ``bot/tools``: command-line tools and the server harness (they may use everything).

:data:`MAY_IMPORT` is the rule, checked by tests/test_layout.py on every import statement
(also those under ``if TYPE_CHECKING``): basics never import the server or the action side,
the server never imports the action side, and no module imports itself back through others.

    python -m bot.tools.layout           # writes docs/layout.md (tree + picture)
    python -m bot.tools.layout --check   # fails when docs/layout.md is out of date
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bot.core.paths import project_root

# Each part, what it is, and the parts it may import (itself always).
PARTS: dict[str, str] = {
    "bot.core": "basics: taxonomy, locales, settings, paths, privacy, HTTP helper, log redaction",
    "bot.langid": "basics: language identification (tables, detector, the slot's policy logic)",
    "bot.content": "basics: content model, sources (files, HTTP API, PTV), reply texts",
    "bot.server": "Rasa server: NLU components, policies, channels, NLG, stores, start, patches",
    "bot.answers": "action server: local services, dialogue helpers, feedback log",
    "actions": "action server: the custom actions Rasa calls",
    "bot.tools": "command-line tools and the server harness",
}
BASICS = ("bot.core", "bot.langid", "bot.content")
MAY_IMPORT: dict[str, tuple[str, ...]] = {
    "bot.core": ("bot.core",),
    "bot.langid": ("bot.core", "bot.langid"),
    "bot.content": BASICS,
    "bot.server": (*BASICS, "bot.server"),
    "bot.answers": (*BASICS, "bot.answers"),
    "actions": (*BASICS, "bot.answers", "actions"),
    "bot.tools": tuple(PARTS),
}
LAYOUT_DOC = "docs/layout.md"


@dataclass(frozen=True)
class Import:
    module: str  # the importing module, dotted
    imported: str  # the module it imports, dotted
    line: int


def part_of(module: str) -> str | None:
    """The part (key of :data:`PARTS`) a dotted module belongs to, if any."""
    for part in sorted(PARTS, key=len, reverse=True):
        if module == part or module.startswith(part + "."):
            return part
    return None


def module_files(root: Path) -> Iterator[tuple[str, Path]]:
    """(dotted name, file) of every module of bot/ and actions/."""
    for folder in ("bot", "actions"):
        for path in sorted((root / folder).rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            yield name, path


def imports(root: Path) -> list[Import]:
    """Every import of a project module by a project module (relative imports resolved)."""
    found = []
    names = {name for name, _ in module_files(root)}
    for module, path in module_files(root):
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*anchor, base] if base else anchor)
                # `from bot.x import y` imports bot.x.y when y is a module.
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in names else base
                           for a in node.names]  # fmt: skip
            for target in targets:
                if part_of(target):
                    found.append(Import(module, target, node.lineno))
    return found


def rule_breaks(found: list[Import]) -> list[str]:
    """The imports :data:`MAY_IMPORT` forbids, as "module:line imports target"."""
    breaks = []
    for item in found:
        part, target_part = part_of(item.module), part_of(item.imported)
        if part and target_part not in MAY_IMPORT[part]:
            breaks.append(f"{item.module}:{item.line} imports {item.imported} ({part} may not "
                          f"import {target_part})")  # fmt: skip
    return breaks


def cycles(found: list[Import]) -> list[list[str]]:
    """Module import loops (each once, as a path that ends where it starts)."""
    graph: dict[str, set[str]] = {}
    for item in found:
        if item.imported != item.module:
            graph.setdefault(item.module, set()).add(item.imported)
    loops, seen = [], set()

    def walk(node: str, path: list[str]) -> None:
        for nxt in sorted(graph.get(node, ())):
            if nxt in path:
                loop = path[path.index(nxt) :] + [nxt]
                key = frozenset(loop)
                if key not in seen:
                    seen.add(key)
                    loops.append(loop)
            elif len(path) < 12:
                walk(nxt, [*path, nxt])

    for start in sorted(graph):
        walk(start, [start])
    # A package's __init__ re-exporting its own modules is not a loop worth reporting.
    return [loop for loop in loops if not _package_reexport(loop)]


def _package_reexport(loop: list[str]) -> bool:
    return len(set(loop)) == 2 and any(loop[0].startswith(m + ".") or m.startswith(loop[0] + ".")
                                       for m in loop[1:])  # fmt: skip


def _docstring_line(path: Path) -> str:
    """The docstring's first sentence (its first paragraph, if that has no full stop)."""
    doc = ast.get_docstring(ast.parse(path.read_text("utf-8"))) or ""
    paragraph = " ".join(doc.strip().split("\n\n")[0].split())
    return paragraph.split(". ")[0].rstrip(".:") if ". " in paragraph else paragraph


def render(root: Path) -> str:
    """docs/layout.md: every module with the first line of its docstring, and a picture of which
    part imports which."""
    lines = [
        "# Package layout",
        "",
        "GENERATED by `python -m bot.tools.layout` from the code (tests/test_layout.py checks it",
        "is current and that the import rules hold): do not edit.",
        "",
        "## Who imports whom",
        "",
        "An arrow is an import that exists; the rules (bot/tools/layout.py, `MAY_IMPORT`) forbid",
        "any arrow from the basics to the server or the action side, and from the server to the",
        "action side.",
        "",
        "```mermaid",
        "flowchart LR",
    ]
    ids = {part: part.replace(".", "_") for part in PARTS}
    lines += [
        f'  {ids[part]}["{part}<br/><small>{about}</small>"]' for part, about in PARTS.items()
    ]
    edges = sorted(
        {(part_of(i.module), part_of(i.imported)) for i in imports(root)} - {(p, p) for p in PARTS}
    )
    lines += [f"  {ids[a]} --> {ids[b]}" for a, b in edges if a and b]
    lines += ["```", "", "## Modules", ""]
    current = None
    for name, path in module_files(root):
        part = part_of(name)
        if part != current:
            current = part
            lines += ["", f"### {part} — {PARTS[part]}", ""]
        relative = path.relative_to(root).as_posix()
        lines.append(f"- `{relative}` — {_docstring_line(path)}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help=f"fail if {LAYOUT_DOC} is stale")
    options = parser.parse_args(argv)
    root = project_root()
    text, target = render(root), root / LAYOUT_DOC
    if options.check:
        if not target.exists() or target.read_text("utf-8") != text:
            print(f"{LAYOUT_DOC} is out of date: run `python -m bot.tools.layout`", file=sys.stderr)
            return 1
        return 0
    target.write_text(text, "utf-8")
    print(f"wrote {LAYOUT_DOC}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
