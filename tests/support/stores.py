"""The databases the tracker-store tests run on: SQLite always, PostgreSQL when CI provides one;
and the Redis the lock-store tests run on.

``KOTOBOT_TEST_POSTGRES_URL`` (e.g. ``postgresql://kotobot@127.0.0.1:5432/kotobot_test``) points
at a database the tests may empty; without it the PostgreSQL variants are skipped.
``KOTOBOT_TEST_REDIS_URL`` (e.g. ``redis://127.0.0.1:56379/0``, scripts/start-redis.sh) points at a
throw-away Redis; without it the Redis tests are skipped.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import sqlalchemy as sa

POSTGRES_ENV = "KOTOBOT_TEST_POSTGRES_URL"
REDIS_ENV = "KOTOBOT_TEST_REDIS_URL"
BACKENDS = ["sqlite", "postgresql"]
FEEDBACK_TABLES = ["feedback", "alembic_version"]


def database_url(backend: str, folder: Path) -> str:
    """A fresh, empty database of ``backend`` (the PostgreSQL one is emptied, not recreated)."""
    if backend == "sqlite":
        return f"sqlite:///{folder / 'tracker.sqlite3'}"
    url = os.environ.get(POSTGRES_ENV)
    if not url:
        pytest.skip(f"{POSTGRES_ENV} not set")
    engine = sa.create_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(sa.text("DROP TABLE IF EXISTS events"))
    finally:
        engine.dispose()
    return url


def empty_feedback_log(url: str) -> None:
    """Drops the feedback log's table and its migration version (bot/answers/migrate.py), so that
    the
    next FeedbackLog on ``url`` starts from an empty database."""
    engine = sa.create_engine(url)
    try:
        with engine.begin() as connection:
            for table in FEEDBACK_TABLES:
                connection.execute(sa.text(f"DROP TABLE IF EXISTS {table}"))
    finally:
        engine.dispose()


def stored_rows(url: str, sender: str | None = None) -> list[str]:
    """The raw ``data`` column, read with SQL rather than through Rasa."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            query = "SELECT data FROM events"
            if sender is not None:
                query += " WHERE sender_id = :sender"
            rows = connection.execute(sa.text(query + " ORDER BY id"), {"sender": sender})
            return [data for (data,) in rows]
    finally:
        engine.dispose()


def redis_url() -> str:
    """The throw-away Redis, or a skip."""
    url = os.environ.get(REDIS_ENV)
    if not url:
        pytest.skip(f"{REDIS_ENV} not set")
    return url


def shared_store_env(folder: Path) -> dict[str, str]:
    """What several Rasa servers need to share conversations: an emptied PostgreSQL tracker store
    and the Redis lock store (skips unless CI provides both)."""
    redis = redis_url()
    return {"KOTOBOT_DB_URL": database_url("postgresql", folder), "KOTOBOT_REDIS_URL": redis}
