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
import os
import time
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from bot.paths import data_path
from bot.privacy import redact

log = logging.getLogger(__name__)

FALLBACK = "fallback"
NEGATIVE = "negative"
POSITIVE = "positive"
MAX_TEXT = 500
URL_ENV, PASSWORD_ENV = "KOTOBOT_FEEDBACK_DB_URL", "KOTOBOT_FEEDBACK_DB_PASSWORD"
# The tracker store's (bot/tracker_store.py).
SHARED_URL_ENV, SHARED_PASSWORD_ENV = "KOTOBOT_DB_URL", "KOTOBOT_DB_PASSWORD"
PATH_ENV = "KOTOBOT_FEEDBACK_DB"

_metadata = sa.MetaData()
_feedback = sa.Table(
    "feedback",
    _metadata,
    sa.Column("at", sa.Float, nullable=False, index=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("language", sa.String(8)),
    sa.Column("topic", sa.String(64)),
    sa.Column("question", sa.Text),
)


@dataclass(frozen=True)
class Entry:
    at: float
    kind: str
    language: str | None
    topic: str | None
    question: str | None


def default_path() -> Path:
    return Path(os.environ.get(PATH_ENV) or data_path("var", "feedback.sqlite3"))


def configured_url() -> str:
    """Where the log lives by the environment (see the module docstring); the password, if any,
    comes from its own variable, as for the tracker store, never from a committed file."""
    own_file = os.environ.get(PATH_ENV, "").strip()
    for name, password_name in ((URL_ENV, PASSWORD_ENV), (SHARED_URL_ENV, SHARED_PASSWORD_ENV)):
        url = os.environ.get(name, "").strip()
        if name == SHARED_URL_ENV and own_file:
            break  # a file asked for the feedback log itself wins over the shared database
        if url:
            password = os.environ.get(password_name)
            if password:
                url = sa.engine.make_url(url).set(password=password)
                url = url.render_as_string(hide_password=False)
            return url
    return f"sqlite:///{default_path()}"


@functools.lru_cache(maxsize=8)
def _engine(url: str) -> sa.engine.Engine:
    """One engine (connection pool) per URL for the process: the actions log on every call."""
    return sa.create_engine(url, pool_pre_ping=True, future=True)


_created: set[str] = set()  # URLs whose table exists (created by this process or before)


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
            _metadata.create_all(engine, checkfirst=True)
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
        except (sa.exc.SQLAlchemyError, OSError) as error:
            log.warning("feedback not recorded: %s", type(error).__name__)
            return False

    def entries(self) -> list[Entry]:
        if self._file is not None and not self._file.exists():
            return []
        with self._ready_engine().connect() as connection:
            rows = connection.execute(sa.select(_feedback).order_by(_feedback.c.at)).all()
        return [Entry(*row) for row in rows]
