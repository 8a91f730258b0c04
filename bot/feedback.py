"""The content editors' log: questions that fell back, and answers rated helpful or not.

SQLite (``KOTOBOT_FEEDBACK_DB``, default ``var/feedback.sqlite3``), written by the action server.
Texts are redacted before they are stored; no sender id is kept.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from bot.paths import data_path
from bot.privacy import redact

log = logging.getLogger(__name__)

FALLBACK = "fallback"
NEGATIVE = "negative"
POSITIVE = "positive"
MAX_TEXT = 500

_SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    at REAL NOT NULL,
    kind TEXT NOT NULL,
    language TEXT,
    topic TEXT,
    question TEXT
)
"""


@dataclass(frozen=True)
class Entry:
    at: float
    kind: str
    language: str | None
    topic: str | None
    question: str | None


def default_path() -> Path:
    return Path(os.environ.get("KOTOBOT_FEEDBACK_DB") or data_path("var", "feedback.sqlite3"))


class FeedbackLog:
    def __init__(self, path: Path | None = None) -> None:
        self.path = path or default_path()
        self._lock = threading.Lock()

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(self.path, timeout=5)
        connection.execute(_SCHEMA)
        return connection

    def record(
        self, kind: str, language: str | None, topic: str | None, question: str | None
    ) -> bool:
        """Stores one entry; a storage failure is logged and never reaches the user."""
        text = redact(question)[:MAX_TEXT] if question else None
        try:
            with self._lock, self._connect() as connection:
                connection.execute(
                    "INSERT INTO feedback VALUES (?, ?, ?, ?, ?)",
                    (time.time(), kind, language, topic, text),
                )
            return True
        except (sqlite3.Error, OSError) as error:
            log.warning("feedback not recorded: %s", error)
            return False

    def entries(self) -> list[Entry]:
        if not self.path.exists():
            return []
        with self._lock, self._connect() as connection:
            rows = connection.execute("SELECT * FROM feedback ORDER BY at").fetchall()
        return [Entry(*row) for row in rows]
