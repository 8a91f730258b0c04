"""Rasa's SQL tracker store with personal data redacted before anything is written.

endpoints.yml selects it (``tracker_store: type: bot.server.tracker_store.RedactingTrackerStore``)
with an SQLite file under var/, so the assistant keeps its conversations across restarts with
no set-up. Production points it at PostgreSQL through environment variables (bot/core/settings.py)
instead, because endpoints.yml must work as committed and Rasa refuses an unset ``${VAR}``:

- ``KOTOBOT_DB_URL``: an SQLAlchemy URL, e.g. ``postgresql://kotobot@db:5432/kotobot``
  (or ``sqlite:////data/tracker.sqlite3``); overrides endpoints.yml.
- ``KOTOBOT_DB_PASSWORD``: the password, kept out of the URL (optional).
- ``POSTGRESQL_SCHEMA``: Rasa's own variable for a schema other than ``public`` (optional).

What the store redacts (bot/core/privacy.py): user texts, parse data (text, entity values), slot
values, channel metadata and bot texts. The conversation being processed keeps the original
text in memory, so understanding is unaffected; the next message restores the redacted one.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import Event
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy.orm import sessionmaker
from sqlalchemy.pool import QueuePool

from bot.core.paths import project_root
from bot.core.privacy import redact_event
from bot.core.settings import get_settings, sql_url
from bot.server import rasa_patches

DEFAULT_SQLITE_DB = "var/tracker.sqlite3"


def database_url(
    host: str | None = None, dialect: str = "sqlite", db: str = DEFAULT_SQLITE_DB
) -> str | None:
    """The URL to connect to: ``KOTOBOT_DB_URL`` if set, else ``host`` if it is a URL, else
    ``None`` (Rasa builds the URL from dialect, host, db...). Also used by bot.tools.retention."""
    settings = get_settings()
    url = settings.db_url or (host if host and "://" in host else None)
    if url is None:
        if dialect != "sqlite":
            return None
        url = f"sqlite:///{sqlite_path(db)}"
    url = sql_url(url, settings.db_password)
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


# The events of a conversation's latest session (as SQLTrackerStore._event_query selects them).
_LATEST_SESSION = """
    FROM events WHERE sender_id = :sender AND (
        timestamp >= (SELECT max(timestamp) FROM events
                      WHERE sender_id = :sender AND type_name = 'session_started')
        OR NOT EXISTS (SELECT 1 FROM events
                       WHERE sender_id = :sender AND type_name = 'session_started'))"""
_SESSION_EVENTS = sa.text(f"SELECT data {_LATEST_SESSION} ORDER BY id")
_SESSION_COUNT = sa.text(f"SELECT count(*) {_LATEST_SESSION}")
_ALL_EVENTS = sa.text("SELECT data FROM events WHERE sender_id = :sender ORDER BY id")
_STORED = "_kotobot_stored_events"  # on a tracker: how many of its events are in the database


def _row(sender_id: str, event: Event) -> dict[str, Any]:
    data = event.as_dict()
    return {
        "sender_id": sender_id,
        "type_name": event.type_name,
        "timestamp": data.get("timestamp"),
        "intent_name": ((data.get("parse_data") or {}).get("intent") or {}).get("name"),
        "action_name": data.get("name"),
        "data": json.dumps(data),
    }


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
        rasa_patches.warn_if_missing(type(self).__name__)
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

    async def _retrieve(
        self, sender_id: str, fetch_events_from_all_sessions: bool
    ) -> DialogueStateTracker | None:
        """SQLTrackerStore._retrieve in plain SQL (the ORM query cost more than the rest of
        the read). The tracker remembers how many of its events are stored, so that ``save``
        needs no count query."""
        query = _ALL_EVENTS if fetch_events_from_all_sessions else _SESSION_EVENTS
        with self.engine.connect() as connection:
            rows = connection.execute(query, {"sender": sender_id}).scalars().all()
        if not self.domain or not rows:
            return None
        tracker = DialogueStateTracker.from_dict(
            sender_id, [json.loads(row) for row in rows], self.domain.slots
        )
        if not fetch_events_from_all_sessions:
            setattr(tracker, _STORED, len(rows))
        return tracker

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Inserts the events not stored yet, redacted, in one transaction (SQLTrackerStore.save
        with a Core executemany instead of ORM objects)."""
        await self.stream_events(tracker)
        with self.engine.begin() as connection:
            stored = getattr(tracker, _STORED, None)
            if stored is None:  # not read through this store: count what the database has
                stored = connection.execute(_SESSION_COUNT, {"sender": tracker.sender_id}).scalar()
            new_events = itertools.islice(tracker.events, stored, None)
            rows = [_row(tracker.sender_id, redacted(event)) for event in new_events]
            if rows:
                connection.execute(self.SQLEvent.__table__.insert(), rows)
        setattr(tracker, _STORED, len(tracker.events))

    async def _stream_new_events(
        self, event_broker: EventBroker, new_events: list[Event], sender_id: str
    ) -> None:
        """An event broker (if one is configured) gets the same redacted events."""
        events = [redacted(event) for event in new_events]
        await super()._stream_new_events(event_broker, events, sender_id)
