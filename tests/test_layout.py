"""The package layout keeps its rules (bot/tools/layout.py) and docs/layout.md shows the code."""

from __future__ import annotations

from bot.tools import layout
from tests.support.paths import ROOT


def test_basics_never_import_the_server_or_the_action_side_and_the_server_never_the_actions():
    found = layout.imports(ROOT)
    assert len(found) > 100  # the reader sees the project's imports, not nothing
    assert layout.rule_breaks(found) == []


def test_the_rule_check_catches_a_forbidden_import(tmp_path):
    for folder in ("bot/core", "bot/server", "actions"):
        (tmp_path / folder).mkdir(parents=True)
        (tmp_path / folder / "__init__.py").write_text("")
    (tmp_path / "bot/__init__.py").write_text("")
    (tmp_path / "bot/core/basic.py").write_text("from bot.server import nlg\n")
    (tmp_path / "bot/server/nlg.py").write_text("import actions.topics\n")
    (tmp_path / "actions/topics.py").write_text("from bot.core import basic\n")
    breaks = layout.rule_breaks(layout.imports(tmp_path))
    assert len(breaks) == 2
    assert breaks[0].startswith("bot.core.basic:1 imports bot.server")
    assert breaks[1].startswith("bot.server.nlg:1 imports actions.topics")
    assert layout.cycles(layout.imports(tmp_path))  # core -> server -> actions -> core


def test_no_module_imports_itself_back_through_others():
    assert layout.cycles(layout.imports(ROOT)) == []


def test_every_module_belongs_to_a_part_and_says_what_it_is_for():
    for name, path in layout.module_files(ROOT):
        if name in ("bot", "bot.answers.migrations.versions") or ".migrations." in name:
            continue
        assert layout.part_of(name), f"{name} is in no part of bot/tools/layout.py PARTS"
        if path.name != "__init__.py" or path.stat().st_size:
            assert layout._docstring_line(path), f"{path} has no docstring"


def test_the_layout_document_is_current():
    assert (ROOT / layout.LAYOUT_DOC).read_text("utf-8") == layout.render(ROOT), (
        "run `python -m bot.tools.layout`"
    )
