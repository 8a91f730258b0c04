"""Schema migrations, with Alembic, of Kotobot's own tables (the feedback log: feedback.py).

``python -m bot.tools.migrate`` brings the feedback log's database (the same place the action
server uses, or ``--db URL or file``) to the newest revision and prints it; ``current`` only prints
it; ``downgrade REV`` goes back. The action server does the upgrade itself when it first writes, so
running this is only needed to upgrade ahead of a deployment or to check.

The migrations are in bot/answers/migrations/versions. A database written before they existed (the
``feedback`` table, no version table) is adopted: stamped at the initial revision, then
upgraded, its rows kept. In a database shared with the tracker store, only the ``feedback``
table and the ``alembic_version`` table are touched: Rasa creates and owns ``events``.

Several replicas may start at once: on PostgreSQL the upgrade holds an advisory lock, on SQLite
a write lock (``BEGIN IMMEDIATE``), so one upgrades and the others then find the head.
A new migration: ``alembic -c bot/answers/migrations/alembic.ini revision --rev-id 0003 -m "..."``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.environment import EnvironmentContext
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy.pool import NullPool

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
VERSION_TABLE = "alembic_version"
INITIAL = "0001"  # the feedback table as it was before migrations existed
OWNED_TABLES = frozenset({"feedback"})  # all the migrations may touch (and the version table)
# What bot/answers/feedback.py created before migrations: a table with these columns is revision
# 0001.
UNVERSIONED_COLUMNS = frozenset({"at", "kind", "language", "topic", "question"})
PG_LOCK_KEY = 0x6B6F746F  # pg_advisory_xact_lock key ("koto"), held while migrating
# Alembic's ``context`` and ``op`` are module globals: one migration at a time in a process.
_IN_PROCESS = threading.Lock()


class MigrationError(RuntimeError):
    """The database could not be brought to the wanted revision."""


def alembic_config(
    url: str | None = None, connection: sa.engine.Connection | None = None
) -> Config:
    """The package's Alembic configuration, without an ini file (so the caller's logging set-up
    is left alone). ``url``, or an open ``connection`` (used as is, inside its transaction)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["url"] = url
    config.attributes["connection"] = connection
    return config


def migration_engine(url: str) -> sa.engine.Engine:
    """An engine for one migration run. On SQLite, transactions are real and take the write lock
    at once (pysqlite otherwise runs DDL outside any transaction and locks late), so the whole
    upgrade is atomic and a second process waits for it instead of creating the table twice."""
    engine = sa.create_engine(url, poolclass=NullPool, future=True)
    if engine.dialect.name == "sqlite":

        @sa.event.listens_for(engine, "connect")
        def _no_implicit_transactions(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None

        @sa.event.listens_for(engine, "begin")
        def _write_lock(connection: sa.engine.Connection) -> None:
            connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def run_online(
    context: EnvironmentContext, target_metadata: sa.MetaData, default_url: Callable[[], str]
) -> None:
    """What bot/answers/migrations/env.py does with a database: lock, adopt an unversioned table,
    migrate, in one transaction."""
    config = context.config
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(context, connection, target_metadata)
        return
    url = config.attributes.get("url") or _url_option(context, default_url)
    engine = migration_engine(url)
    try:
        with engine.connect() as connection, connection.begin():
            _run(context, connection, target_metadata)
    finally:
        engine.dispose()


def run_offline(
    context: EnvironmentContext, target_metadata: sa.MetaData, default_url: Callable[[], str]
) -> None:
    """``alembic ... upgrade --sql``: the SQL, for a database administrator to review and run.
    An unversioned database must be stamped first (``stamp 0001 --sql``)."""
    context.configure(
        url=context.config.attributes.get("url") or _url_option(context, default_url),
        target_metadata=target_metadata,
        version_table=VERSION_TABLE,
        literal_binds=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _url_option(context: EnvironmentContext, default_url: Callable[[], str]) -> str:
    """``-x db=URL`` on alembic's command line, else ``sqlalchemy.url`` of the ini file, else
    where the feedback log is (bot/answers/feedback.py: ``KOTOBOT_FEEDBACK_DB_URL``...)."""
    url = context.get_x_argument(as_dictionary=True).get("db")
    url = url or context.config.get_main_option("sqlalchemy.url")
    url = url or default_url()
    return url if "://" in url else f"sqlite:///{url}"


def _run(
    context: EnvironmentContext, connection: sa.engine.Connection, target_metadata: sa.MetaData
) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": PG_LOCK_KEY})
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        version_table=VERSION_TABLE,
        # autogenerate looks at our tables only: never proposes dropping Rasa's ``events``
        include_name=_owned,
        compare_type=True,
        render_as_batch=True,  # SQLite alters a table by copying it
    )
    _adopt_unversioned(context, connection)
    context.run_migrations()


def _owned(name: str | None, type_: str, _parents: dict[str, Any]) -> bool:
    return type_ != "table" or name in OWNED_TABLES


def _adopt_unversioned(context: EnvironmentContext, connection: sa.engine.Connection) -> None:
    """Stamps a feedback table that predates the migrations at :data:`INITIAL`."""
    migration = context.get_context()
    if migration.get_current_heads():
        return
    inspector = sa.inspect(connection)
    if not inspector.has_table("feedback"):
        return  # a new database: 0001 creates the table
    columns = {column["name"] for column in inspector.get_columns("feedback")}
    if columns != UNVERSIONED_COLUMNS:
        raise MigrationError(
            f"a table 'feedback' with columns {sorted(columns)} exists and has no migration "
            "version: it is not the feedback log Kotobot created; not touching it"
        )
    migration.stamp(context.script, INITIAL)


def upgrade(
    url: str, revision: str = "head", connection: sa.engine.Connection | None = None
) -> None:
    """Brings the database at ``url`` (or the open ``connection``) to ``revision``."""
    _command(command.upgrade, url, connection, revision)


def downgrade(url: str, revision: str) -> None:
    _command(command.downgrade, url, None, revision)


def _command(run: Any, url: str, connection: sa.engine.Connection | None, revision: str) -> None:
    try:
        with _IN_PROCESS:
            run(alembic_config(url, connection), revision)
    except CommandError as error:
        raise MigrationError(str(error)) from error


def current(url: str) -> str | None:
    """The database's revision (None: no version table, or an empty one). Read only."""
    engine = sa.create_engine(url, poolclass=NullPool, future=True)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
            return context.get_current_revision()
    finally:
        engine.dispose()


def head() -> str:
    """The newest revision in bot/answers/migrations/versions."""
    script = ScriptDirectory.from_config(alembic_config())
    return script.get_current_head() or ""
