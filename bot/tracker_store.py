"""Rasa's SQL tracker store with personal data redacted before anything is written.

endpoints.yml selects it (``tracker_store: type: bot.tracker_store.RedactingTrackerStore``)
with an SQLite file under var/, so the assistant keeps its conversations across restarts with
no set-up. Production points it at PostgreSQL through environment variables instead, because
endpoints.yml must work as committed and Rasa refuses a ``${VAR}`` that is not set:

- ``KOTOBOT_DB_URL``: an SQLAlchemy URL, e.g. ``postgresql://kotobot@db:5432/kotobot``
  (or ``sqlite:////data/tracker.sqlite3``); overrides endpoints.yml.
- ``KOTOBOT_DB_PASSWORD``: the password, kept out of the URL (optional).
- ``POSTGRESQL_SCHEMA``: Rasa's own variable for a schema other than ``public`` (optional).

What the store redacts (bot/privacy.py): user texts, parse data (text, entity values), slot
values, channel metadata and bot texts. The conversation being processed keeps the original
text in memory, so understanding is unaffected; the next message restores the redacted one.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import Event
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy.engine.url import make_url
from sqlalchemy.orm import sessionmaker
from sqlalchemy.pool import QueuePool

from bot.logging_filter import install as install_log_redaction
from bot.paths import project_root
from bot.privacy import redact_event

DB_URL_ENV = "KOTOBOT_DB_URL"
DB_PASSWORD_ENV = "KOTOBOT_DB_PASSWORD"
DEFAULT_SQLITE_DB = "var/tracker.sqlite3"


def database_url(
    host: str | None = None, dialect: str = "sqlite", db: str = DEFAULT_SQLITE_DB
) -> str | None:
    """The URL to connect to: ``KOTOBOT_DB_URL`` if set, else ``host`` if it is a URL, else
    ``None`` (Rasa builds the URL from dialect, host, db...). Also used by bot.retention."""
    url = os.environ.get(DB_URL_ENV, "").strip() or (host if host and "://" in host else None)
    if url is None:
        if dialect != "sqlite":
            return None
        url = f"sqlite:///{sqlite_path(db)}"
    password = os.environ.get(DB_PASSWORD_ENV)
    if password:
        url = make_url(url).set(password=password).render_as_string(hide_password=False)
    if url.startswith("sqlite:///"):
        sqlite_path(url.removeprefix("sqlite:///"))  # creates the folder
    return url


def sqlite_path(db: str) -> Path:
    """An SQLite file path, relative to the project root (not the working directory), with its
    folder created: var/ is not in the repository."""
    path = Path(db)
    if not path.is_absolute():
        path = project_root() / path
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def redacted(event: Event) -> Event:
    """A copy of ``event`` with personal data redacted, through Rasa's own (de)serialisation."""
    copy = Event.from_parameters(redact_event(event.as_dict()))
    if copy is None:  # never store an event unredacted because it could not be rebuilt
        raise ValueError(f"cannot redact a {event.type_name!r} event")
    return copy


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


class RedactingTrackerStore(SQLTrackerStore):
    """SQLTrackerStore (SQLite or PostgreSQL) that stores and streams only redacted events."""

    def __init__(
        self,
        domain: Domain | None = None,
        host: str | None = None,
        dialect: str = "sqlite",
        db: str = DEFAULT_SQLITE_DB,
        event_broker: EventBroker | None = None,
        **kwargs: Any,
    ) -> None:
        install_log_redaction()
        url = database_url(host, dialect, db)
        super().__init__(
            domain=domain,
            host=url or host,
            dialect=dialect,
            db=db,
            event_broker=event_broker,
            **kwargs,
        )
        if self.engine.dialect.name == "sqlite":
            self._use_pooled_sqlite()

    def _use_pooled_sqlite(self) -> None:
        """SQLAlchemy 1.4 opens a new SQLite connection per session (NullPool) and SQLite syncs
        the disk on every commit: ~10 % of the server's CPU per message. A small pool of
        connections in WAL mode with ``synchronous=NORMAL`` survives a crash of the server; a
        power cut may lose the last messages (PostgreSQL is the production store)."""
        url = self.engine.url
        self.engine.dispose()
        self.engine = sa.create_engine(
            url, poolclass=QueuePool, pool_size=4, connect_args={"check_same_thread": False}
        )
        sa.event.listen(self.engine, "connect", _sqlite_pragmas)
        self.sessionmaker = sessionmaker(bind=self.engine)

    def _additional_events(self, session: Any, tracker: DialogueStateTracker) -> Iterator[Event]:
        """The events to insert (those not stored yet), redacted: SQLTrackerStore.save writes
        exactly what this yields."""
        for event in super()._additional_events(session, tracker):
            yield redacted(event)

    async def _stream_new_events(
        self, event_broker: EventBroker, new_events: list[Event], sender_id: str
    ) -> None:
        """An event broker (if one is configured) gets the same redacted events."""
        events = [redacted(event) for event in new_events]
        await super()._stream_new_events(event_broker, events, sender_id)
