"""Schema migrations of the feedback log (bot/answers/migrate.py, bot/answers/migrations): a
database written before migrations existed is adopted with its rows, a new one gets the newest
revision, every revision goes down and up again, and a database shared with the tracker store keeps
its conversations. SQLite always; PostgreSQL when ``KOTOBOT_TEST_POSTGRES_URL`` is set
(tests/support/stores.py, scripts/start-postgres.sh), skipped otherwise.

tests/fixtures/feedback_v0.sql and shared_v0.sql were dumped from databases that the code of
main before migrations (b4d4f53) wrote: they stand for the databases deployed today.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from bot.answers import feedback, migrate
from bot.answers.feedback import NEGATIVE, FeedbackLog
from bot.tools import migrate as migrate_tool
from tests.support.paths import ROOT
from tests.support.stores import BACKENDS, database_url, empty_feedback_log

FIXTURES = Path(__file__).resolve().parent / "fixtures"
V0_ROWS = [
    (1_600_000_000.0, "fallback", "fi", None, "mikä on hetu [identity code]"),
    (1_600_000_100.5, "negative", "ar", "asylum", "كيف أطلب اللجوء"),
    (1_700_000_000.25, "positive", "so", "asylum", "mahadsanid"),
]
DATA_COLUMNS = "at, kind, language, topic, question"


def sql_statements(path: Path) -> list[str]:
    """The statements of an sqlite3 dump, without its comments and transaction lines."""
    statements, buffer = [], ""
    for line in path.read_text("utf-8").splitlines(keepends=True):
        if not buffer and line.startswith("--"):
            continue
        buffer += line
        if sqlite3.complete_statement(buffer):
            statement, buffer = buffer.strip().removesuffix(";"), ""
            if statement not in ("BEGIN TRANSACTION", "COMMIT"):
                statements.append(statement)
    return statements


def load(url: str, fixture: str) -> None:
    engine = sa.create_engine(url)
    try:
        with engine.begin() as connection:
            for statement in sql_statements(FIXTURES / fixture):
                connection.exec_driver_sql(statement)
    finally:
        engine.dispose()


def query(url: str, sql: str) -> list[tuple]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(sa.text(sql))]
    finally:
        engine.dispose()


def schema(url: str) -> dict[str, Any]:
    """The feedback table as the database describes it ({} when there is none)."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            inspector = sa.inspect(connection)
            if not inspector.has_table("feedback"):
                return {}
            return {
                "columns": [
                    (column["name"], str(column["type"]), column["nullable"])
                    for column in inspector.get_columns("feedback")
                ],
                "indexes": sorted(
                    (index["name"], tuple(index["column_names"]), bool(index["unique"]))
                    for index in inspector.get_indexes("feedback")
                ),
                "primary key": inspector.get_pk_constraint("feedback")["constrained_columns"],
            }
    finally:
        engine.dispose()


def model_differences(url: str) -> list:
    """What ``alembic revision --autogenerate`` would find between bot/answers/feedback.py's table
    and
    the database: nothing, if the migrations make the table the code uses."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"include_name": migrate._owned, "compare_type": True}
            )
            return compare_metadata(context, feedback.metadata)
    finally:
        engine.dispose()


def revisions() -> list[Any]:
    """The revisions, oldest first."""
    script = ScriptDirectory.from_config(migrate.alembic_config())
    return list(reversed(list(script.walk_revisions())))


@pytest.fixture(params=BACKENDS)
def db_url(request, tmp_path, monkeypatch) -> str:
    """An empty database with no feedback table and no migration version."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'feedback.sqlite3'}"
    else:
        url = database_url("postgresql", tmp_path)  # skips without KOTOBOT_TEST_POSTGRES_URL
        empty_feedback_log(url)
    monkeypatch.setattr(feedback, "_created", set())  # this process has migrated nothing yet
    return url


def test_revisions_are_numbered_in_one_line():
    chain = [(revision.revision, revision.down_revision) for revision in revisions()]
    assert chain == [("0001", None), ("0002", "0001")]
    assert migrate.head() == "0002"


def test_initial_revision_is_the_table_the_code_made_before_migrations(db_url):
    load(db_url, "feedback_v0.sql")
    before_migrations = schema(db_url)
    empty_feedback_log(db_url)
    migrate.upgrade(db_url, migrate.INITIAL)
    assert schema(db_url) == before_migrations
    assert {name for name, _, _ in before_migrations["columns"]} == migrate.UNVERSIONED_COLUMNS


def test_database_from_before_migrations_keeps_its_rows(db_url):
    load(db_url, "feedback_v0.sql")
    assert migrate.current(db_url) is None
    log = FeedbackLog(db_url)
    assert [tuple(vars(entry).values()) for entry in log.entries()] == V0_ROWS
    assert migrate.current(db_url) == migrate.head()
    assert model_differences(db_url) == []
    # The rows got ids in their stored order, and new entries follow them.
    assert query(db_url, "SELECT id, at FROM feedback ORDER BY id") == [
        (1, V0_ROWS[0][0]), (2, V0_ROWS[1][0]), (3, V0_ROWS[2][0]),
    ]  # fmt: skip
    assert log.record(NEGATIVE, "fi", "asylum", "soita 040-1234567")
    assert query(db_url, "SELECT id, question FROM feedback WHERE id > 3") == [(4, "soita [phone]")]
    assert migrate.current(db_url) == migrate.head()


def test_new_database_gets_the_newest_revision(db_url):
    log = FeedbackLog(db_url)
    assert log.record(NEGATIVE, "so", "asylum", "magaalada")
    assert [(entry.kind, entry.question) for entry in log.entries()] == [(NEGATIVE, "magaalada")]
    assert query(db_url, "SELECT version_num FROM alembic_version") == [(migrate.head(),)]
    assert model_differences(db_url) == []


def test_each_revision_goes_down_and_up_again(db_url):
    steps = revisions()
    shapes: dict[str | None, dict] = {None: schema(db_url)}
    for step in steps:
        migrate.upgrade(db_url, step.revision)
        shapes[step.revision] = schema(db_url)
        if step.revision == migrate.INITIAL:
            rows = [dict(zip(DATA_COLUMNS.split(", "), row, strict=True)) for row in V0_ROWS]
            engine = sa.create_engine(db_url)
            with engine.begin() as connection:
                connection.execute(sa.table("feedback", *map(sa.column, rows[0])).insert(), rows)
            engine.dispose()
    assert len({str(shape) for shape in shapes.values()}) == len(shapes), "each changes the table"

    def check(revision: str | None) -> None:
        assert migrate.current(db_url) == revision
        assert schema(db_url) == shapes[revision]
        if revision is not None:  # the rows live through every change but dropping the table
            data = query(db_url, f"SELECT {DATA_COLUMNS} FROM feedback ORDER BY at")
            assert data == (V0_ROWS if rows_kept else [])

    rows_kept = True
    for step in reversed(steps):  # newest first: down, up, down again
        migrate.downgrade(db_url, step.down_revision or "base")
        rows_kept = step.down_revision is not None and rows_kept
        check(step.down_revision)
        migrate.upgrade(db_url, step.revision)
        check(step.revision)
        migrate.downgrade(db_url, step.down_revision or "base")
        check(step.down_revision)
    assert schema(db_url) == {}


def _start_replica(url: str, barrier: Any) -> None:
    barrier.wait()
    migrate.upgrade(url)


def test_replicas_starting_together_migrate_once(db_url):
    """Every action-server replica upgrades at start: they wait for each other (PostgreSQL
    advisory lock, SQLite write lock) instead of creating the table twice."""
    processes = multiprocessing.get_context("fork")
    barrier = processes.Barrier(4)
    replicas = [processes.Process(target=_start_replica, args=(db_url, barrier)) for _ in range(4)]
    for replica in replicas:
        replica.start()
    for replica in replicas:
        replica.join(timeout=120)
    assert [replica.exitcode for replica in replicas] == [0, 0, 0, 0]
    assert query(db_url, "SELECT version_num FROM alembic_version") == [(migrate.head(),)]
    assert model_differences(db_url) == []


def test_a_feedback_table_kotobot_did_not_make_is_left_alone(tmp_path):
    url = f"sqlite:///{tmp_path / 'other.sqlite3'}"
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE feedback (ticket INTEGER, body TEXT)")
        connection.exec_driver_sql("INSERT INTO feedback VALUES (1, 'kept')")
    engine.dispose()
    with pytest.raises(migrate.MigrationError, match="not the feedback log Kotobot created"):
        migrate.upgrade(url)
    assert FeedbackLog(url).record(NEGATIVE, "fi", None, "x") is False  # logged, never raised
    assert query(url, "SELECT * FROM feedback") == [(1, "kept")]
    assert migrate.current(url) is None


def test_a_database_newer_than_the_code_is_not_written(tmp_path):
    """Code rolled back below a migration: it reports the unknown revision and the action
    server goes on answering (the entry is not recorded), rather than writing a table it does
    not know."""
    url = f"sqlite:///{tmp_path / 'feedback.sqlite3'}"
    migrate.upgrade(url)
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.exec_driver_sql("UPDATE alembic_version SET version_num = '0099'")
    engine.dispose()
    with pytest.raises(migrate.MigrationError, match="0099"):
        migrate.upgrade(url)
    assert FeedbackLog(url).record(NEGATIVE, "fi", None, "x") is False
    assert query(url, "SELECT count(*) FROM feedback") == [(0,)]
    assert migrate_tool.main(["--db", str(tmp_path / "feedback.sqlite3")]) == 1


def test_command_line_upgrades_and_prints_the_revision(tmp_path, capsys):
    path = tmp_path / "feedback.sqlite3"
    load(f"sqlite:///{path}", "feedback_v0.sql")
    result = subprocess.run(
        [sys.executable, "-m", "bot.tools.migrate", "--db", str(path)],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    assert result.stdout == f"feedback log {path}: revision 0002 (head)\n"
    assert migrate_tool.main(["downgrade", "0001", "--db", str(path)]) == 0
    assert capsys.readouterr().out == f"feedback log {path}: revision 0001 (head is 0002)\n"
    assert migrate_tool.main(["current", "--db", str(path)]) == 0
    assert "revision 0001 (head is 0002)" in capsys.readouterr().out
    assert query(f"sqlite:///{path}", f"SELECT {DATA_COLUMNS} FROM feedback") == V0_ROWS


def test_alembic_command_line_writes_new_revisions_from_the_package_config(tmp_path):
    """``alembic -c bot/answers/migrations/alembic.ini revision``, on a copy of the package's
    migrations; autogenerate on a database shared with the tracker store finds nothing to do
    (it never proposes dropping Rasa's ``events``)."""
    copy = tmp_path / "migrations"
    shutil.copytree(
        ROOT / "bot" / "answers" / "migrations", copy, ignore=shutil.ignore_patterns("__pycache__")
    )
    shared = f"sqlite:///{tmp_path / 'shared.sqlite3'}"
    load(shared, "shared_v0.sql")
    migrate.upgrade(shared)

    config = Config(str(copy / "alembic.ini"), cmd_opts=_x_db(shared))
    config.attributes["configure_logger"] = False
    assert Path(config.get_main_option("script_location")) == copy
    script = command.revision(config, message="feedback: nothing", rev_id="0003", autogenerate=True)
    written = Path(script.path)
    assert written.name == "0003_feedback_nothing.py"
    source = written.read_text("utf-8")
    assert "down_revision = '0002'" in source
    assert "def upgrade() -> None:\n    # ### commands auto generated by Alembic" in source
    assert "drop_table" not in source and "events" not in source
    body = source.split("def upgrade() -> None:")[1].split("def downgrade")[0]
    assert "    pass\n" in body  # no operation: the database is the model


def _x_db(url: str) -> Any:
    class Options:
        x = [f"db={url}"]

    return Options()


def test_tracker_store_database_from_before_migrations_still_loads(tmp_path, monkeypatch):
    """One SQLite file with the conversations (Rasa's ``events``) and the feedback log, as
    ``KOTOBOT_DB_URL`` makes it: migrating the feedback log leaves the conversations alone, and
    Rasa's store (which creates missing tables only) reads and extends them."""
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import UserUttered

    from bot.server.tracker_store import RedactingTrackerStore

    url = f"sqlite:///{tmp_path / 'shared.sqlite3'}"
    load(url, "shared_v0.sql")
    events_table = "SELECT sql FROM sqlite_master WHERE tbl_name = 'events' ORDER BY name"
    events_before = query(url, events_table), query(url, "SELECT * FROM events ORDER BY id")
    for name in ("KOTOBOT_FEEDBACK_DB_URL", "KOTOBOT_FEEDBACK_DB", "KOTOBOT_DB_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("KOTOBOT_DB_URL", url)
    monkeypatch.setattr(feedback, "_created", set())

    log = FeedbackLog()  # the shared database, as on the action server
    assert log.url == url
    assert [(e.kind, e.question) for e in log.entries()] == [
        (NEGATIVE, "ei auttanut, soita [phone]")
    ]
    assert migrate.current(url) == migrate.head()
    assert (query(url, events_table), query(url, "SELECT * FROM events ORDER BY id")) == (
        events_before
    )

    store = RedactingTrackerStore(domain=Domain.load(str(ROOT / "domain.yml")))
    try:
        tracker = asyncio.run(store.retrieve("conversation-v0"))
        assert tracker is not None and tracker.get_slot("language") == "fi"
        texts = [event.text for event in tracker.events if isinstance(event, UserUttered)]
        assert texts == ["Miten haen oleskelulupaa? hetu [identity code]"]
        tracker.update(UserUttered("entä perheeni?", {"name": "family", "confidence": 1.0}))
        asyncio.run(store.save(tracker))
        again = asyncio.run(store.retrieve_full_tracker("conversation-v0"))
        texts = [event.text for event in again.events if isinstance(event, UserUttered)]
        assert texts == ["Miten haen oleskelulupaa? hetu [identity code]", "entä perheeni?"]
    finally:
        store.engine.dispose()
    assert query(url, events_table) == events_before[0]
