"""The content editors' log: questions that fell back, and answers rated helpful or not.

Written by the action server, read by ``make report``. Where: ``KOTOBOT_FEEDBACK_DB_URL`` (an
SQLAlchemy URL, password in ``KOTOBOT_FEEDBACK_DB_PASSWORD``); else the SQLite file
``KOTOBOT_FEEDBACK_DB``; else ``KOTOBOT_DB_URL`` (password in ``KOTOBOT_DB_PASSWORD``), the
conversations' database, in its own table, so that every action-server replica writes one shared
log; else ``var/feedback.sqlite3``. Texts are redacted before they are stored; no sender id is kept.
"""

from __future__ import annotations

import functools
import logging
import time
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from bot.answers import migrate
from bot.core.paths import data_path
from bot.core.privacy import redact
from bot.core.settings import get_settings, sql_url

log = logging.getLogger(__name__)

FALLBACK = "fallback"
NEGATIVE = "negative"
POSITIVE = "positive"
MAX_TEXT = 500

# The table as the migrations (bot/answers/migrations/versions) leave it: change both together.
metadata = sa.MetaData()
_feedback = sa.Table(
    "feedback",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("at", sa.Float, nullable=False, index=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("language", sa.String(8)),
    sa.Column("topic", sa.String(64)),
    sa.Column("question", sa.Text),
)
_ENTRY_COLUMNS = [_feedback.c[name] for name in ("at", "kind", "language", "topic", "question")]


@dataclass(frozen=True)
class Entry:
    at: float
    kind: str
    language: str | None
    topic: str | None
    question: str | None


def default_path() -> Path:
    return get_settings().feedback_db or data_path("var", "feedback.sqlite3")


def configured_url() -> str:
    """Where the log lives by the settings (see the module docstring); the password, if any,
    comes from its own variable, as for the tracker store, never from a committed file."""
    settings = get_settings()
    if settings.feedback_db_url:
        return sql_url(settings.feedback_db_url, settings.feedback_db_password)
    if settings.db_url and not settings.feedback_db:  # a file asked for the log itself wins
        return sql_url(settings.db_url, settings.db_password)  # the tracker store's database
    return f"sqlite:///{default_path()}"


@functools.lru_cache(maxsize=8)
def _engine(url: str) -> sa.engine.Engine:
    """One engine (connection pool) per URL for the process: the actions log on every call."""
    return sa.create_engine(url, pool_pre_ping=True, future=True)


_created: set[str] = set()  # URLs this process has brought to the newest migration


class FeedbackLog:
    def __init__(self, where: Path | str | None = None) -> None:
        """``where``: a database URL, an SQLite file, or None for :func:`configured_url`."""
        if where is None:
            where = configured_url()
        self.url = where if isinstance(where, str) and "://" in where else f"sqlite:///{where}"
        self._file = Path(self.url.removeprefix("sqlite:///")) if self._is_file() else None

    @property
    def where(self) -> str:
        """The file, or the URL without its password: safe to print in a report."""
        if self._file is not None:
            return str(self._file)
        return sa.engine.make_url(self.url).render_as_string(hide_password=True)

    def _is_file(self) -> bool:
        return self.url.startswith("sqlite:///") and self.url != "sqlite:///:memory:"

    def _ready_engine(self) -> sa.engine.Engine:
        if self._file is not None:
            self._file.parent.mkdir(parents=True, exist_ok=True)
        engine = _engine(self.url)
        if self.url not in _created or (self._file is not None and not self._file.exists()):
            # The schema is the migrations' (bot/answers/migrate.py): creates the table, adopts one
            # written before migrations existed, adds what newer code needs; rows are kept.
            if engine.dialect.name == "sqlite" and self._file is None:  # in memory: this engine's
                with engine.begin() as connection:
                    migrate.upgrade(self.url, connection=connection)
            else:
                migrate.upgrade(self.url)
            _created.add(self.url)
        return engine

    def record(
        self, kind: str, language: str | None, topic: str | None, question: str | None
    ) -> bool:
        """Stores one entry; a storage failure is logged and never reaches the user."""
        text = redact(question)[:MAX_TEXT] if question else None
        row = {"at": time.time(), "kind": kind, "language": language, "topic": topic}
        try:
            with self._ready_engine().begin() as connection:
                connection.execute(_feedback.insert(), {**row, "question": text})
            return True
        except (sa.exc.SQLAlchemyError, OSError, migrate.MigrationError) as error:
            log.warning("feedback not recorded: %s", type(error).__name__)
            return False

    def entries(self) -> list[Entry]:
        if self._file is not None and not self._file.exists():
            return []
        with self._ready_engine().connect() as connection:
            rows = connection.execute(
                sa.select(*_ENTRY_COLUMNS).order_by(_feedback.c.at, _feedback.c.id)
            ).all()
        return [Entry(*row) for row in rows]

    def delete_older_than(self, cutoff: float, dry_run: bool = False) -> int:
        """Deletes (or, with ``dry_run``, counts) the entries written before ``cutoff`` (a Unix
        time), their texts with them; for bot/tools/retention.py. SQLite files are vacuumed so the
        deleted texts do not linger in free pages."""
        if self._file is not None and not self._file.exists():
            return 0
        engine = self._ready_engine()
        old = _feedback.c.at < cutoff
        with engine.begin() as connection:
            if dry_run:
                count = sa.select(sa.func.count()).select_from(_feedback).where(old)
                return connection.execute(count).scalar_one()
            deleted = connection.execute(_feedback.delete().where(old)).rowcount
        if deleted and engine.dialect.name == "sqlite":
            with engine.connect() as connection:
                autocommit = connection.execution_options(isolation_level="AUTOCOMMIT")
                autocommit.exec_driver_sql("VACUUM")
                autocommit.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        return deleted
