"""Deletes stored conversations and feedback older than N days: ``python -m bot.tools.retention``.

Redaction (bot/core/privacy.py) catches the personal data we can recognise; retention bounds how
long everything else a person wrote is kept. Run it daily (cron, a Kubernetes CronJob).

What is deleted: every conversation session that ended before the cutoff, so a conversation
that went quiet is removed whole and an active one loses its old sessions; the session in
progress at the cutoff is kept whole, so a tracker is never left half-restored.
It works on the store that endpoints.yml configures (with ``KOTOBOT_DB_URL`` overriding it, as
for the server): SQLite or PostgreSQL. SQLite files are vacuumed so deleted rows do not linger.

The feedback log (bot/answers/feedback.py: what was asked when the bot fell back or an answer was
rated) loses its entries older than the same cutoff, in the place the action server writes it (its
own database or file, or the conversations' database).
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore, create_engine_kwargs
from rasa.shared.core.events import SessionStarted
from rasa.utils.endpoints import read_endpoint_config
from sqlalchemy.orm import Session

from bot.answers.feedback import FeedbackLog
from bot.core.paths import project_root
from bot.server.tracker_store import DEFAULT_SQLITE_DB, database_url

DEFAULT_DAYS = 30
SECONDS_PER_DAY = 86_400
SQL_TYPES = {"sql", "bot.server.tracker_store.redactingtrackerstore"}
Event = SQLTrackerStore.SQLEvent
SESSION_START_ACTION = "action_session_start"


@dataclass(frozen=True)
class RetentionResult:
    events: int
    conversations: int
    cutoff: float


def engine_from_endpoints(endpoints: Path) -> sa.engine.Engine:
    """An engine on the tracker store's database; fails fast (no retry loop) if it is down."""
    config = read_endpoint_config(str(endpoints), "tracker_store")
    kwargs: dict[str, Any] = dict(config.kwargs) if config else {}
    store_type = (config.type or "").lower() if config else ""
    if config and store_type not in SQL_TYPES:
        raise SystemExit(f"retention supports SQL tracker stores only, not {config.type!r}")
    dialect = kwargs.get("dialect", "sqlite")
    url = database_url(config.url if config else None, dialect, kwargs.get("db", DEFAULT_SQLITE_DB))
    if url is None:
        url = SQLTrackerStore.get_db_url(
            dialect, config.url, kwargs.get("port"), kwargs.get("db", "rasa.db"),
            kwargs.get("username"), kwargs.get("password"), None, kwargs.get("query"),
        )  # fmt: skip
    engine = sa.create_engine(url, **create_engine_kwargs(url))
    SQLTrackerStore.Base.metadata.create_all(engine)
    return engine


def delete_old_conversations(
    engine: sa.engine.Engine, days: float, now: float | None = None, dry_run: bool = False
) -> RetentionResult:
    """Deletes (or, with ``dry_run``, counts) the events of sessions older than ``days``."""
    cutoff = (time.time() if now is None else now) - days * SECONDS_PER_DAY
    events = conversations = 0
    with Session(engine) as session:
        senders = [
            sender
            for (sender,) in session.query(Event.sender_id)
            .filter(Event.timestamp < cutoff)
            .distinct()
        ]
        for sender in senders:
            of_sender = session.query(Event).filter(Event.sender_id == sender)
            boundary = _current_session_start(session, sender, cutoff)
            if boundary is None:
                old = of_sender
                conversations += 1
            elif boundary == 0:
                continue  # one session since the beginning, still in use
            else:
                old = of_sender.filter(Event.id < boundary)
            events += old.count() if dry_run else old.delete(synchronize_session=False)
        if not dry_run:
            session.commit()
    if not dry_run and events and engine.dialect.name == "sqlite":
        with engine.connect() as connection:
            autocommit = connection.execution_options(isolation_level="AUTOCOMMIT")
            autocommit.execute(sa.text("VACUUM"))
            # The tracker store writes in WAL mode: empty the log too, not only the main file.
            autocommit.execute(sa.text("PRAGMA wal_checkpoint(TRUNCATE)"))
    return RetentionResult(events=events, conversations=conversations, cutoff=cutoff)


def delete_old_feedback(
    log: FeedbackLog, days: float, now: float | None = None, dry_run: bool = False
) -> int:
    """Deletes (or, with ``dry_run``, counts) the feedback entries older than ``days``."""
    cutoff = (time.time() if now is None else now) - days * SECONDS_PER_DAY
    return log.delete_older_than(cutoff, dry_run=dry_run)


def _current_session_start(session: Session, sender: str, cutoff: float) -> int | None:
    """The id of the first event of the session in use at ``cutoff`` (0: the conversation has
    no session start before its recent events; ``None``: nothing recent, all of it is old).

    Ids, not timestamps, delimit sessions (Rasa orders events by id): a session begins with
    ``action_session_start`` and, just after it, ``session_started``.
    """
    recent = (
        session.query(sa.func.min(Event.id))
        .filter(
            Event.sender_id == sender,
            Event.timestamp >= cutoff,
            sa.or_(Event.action_name.is_(None), Event.action_name != SESSION_START_ACTION),
        )
        .scalar()
    )
    if recent is None:
        return None
    started = (
        session.query(sa.func.max(Event.id))
        .filter(
            Event.sender_id == sender,
            Event.type_name == SessionStarted.type_name,
            Event.id <= recent,
        )
        .scalar()
    )
    if started is None:
        return 0
    before = (
        session.query(Event.id, Event.action_name)
        .filter(Event.sender_id == sender, Event.id < started)
        .order_by(Event.id.desc())
        .first()
    )
    return before.id if before and before.action_name == SESSION_START_ACTION else started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=float, default=DEFAULT_DAYS, help="keep this many days")
    parser.add_argument(
        "--endpoints", type=Path, default=project_root() / "endpoints.yml",
        help="Rasa endpoints file whose tracker_store to clean (KOTOBOT_DB_URL overrides it)",
    )  # fmt: skip
    parser.add_argument(
        "--feedback-db",
        help="feedback log's database URL or SQLite file (default: where the action server logs)",
    )
    parser.add_argument("--dry-run", action="store_true", help="count, delete nothing")
    args = parser.parse_args(argv)
    if args.days < 0:
        parser.error("--days must be 0 or more")
    engine = engine_from_endpoints(args.endpoints)
    now = time.time()
    try:
        result = delete_old_conversations(engine, args.days, now=now, dry_run=args.dry_run)
    finally:
        engine.dispose()
    feedback_log = FeedbackLog(args.feedback_db)
    feedback = delete_old_feedback(feedback_log, args.days, now=now, dry_run=args.dry_run)
    verb = "would delete" if args.dry_run else "deleted"
    cutoff = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(result.cutoff))
    print(
        f"retention: {verb} {result.events} events older than {args.days:g} days "
        f"(before {cutoff}), {result.conversations} conversations entirely"
    )
    print(
        f"retention: {verb} {feedback} feedback entries older than {args.days:g} days "
        f"({feedback_log.where})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
