"""`python -m bot.tools.retention --days N`: old conversations leave the tracker store and old
entries the feedback log, recent ones stay."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from unittest import mock

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.answers import feedback
from bot.answers.feedback import FALLBACK, NEGATIVE, FeedbackLog
from bot.server.tracker_store import RedactingTrackerStore
from bot.tools.retention import (
    delete_old_conversations,
    delete_old_feedback,
    engine_from_endpoints,
    main,
)
from tests.support.paths import ROOT
from tests.support.stores import BACKENDS, empty_feedback_log
from tests.support.stores import database_url as backend_url

DAY = 86_400.0
NOW = time.time()


def session(start_days_ago: float, text: str, minutes: float = 5) -> list:
    """One conversation session: started ``start_days_ago`` days ago, lasting ``minutes``."""
    start = NOW - start_days_ago * DAY
    step = minutes * 60 / 4
    return [
        ActionExecuted("action_session_start", timestamp=start - 0.001),
        SessionStarted(timestamp=start),
        SlotSet("language", "fi", timestamp=start + step),
        UserUttered(text, {"name": "greet", "confidence": 1.0}, timestamp=start + 2 * step),
        ActionExecuted("action_listen", timestamp=start + 4 * step),
    ]


def feedback_at(log: FeedbackLog, days_ago: float, question: str) -> None:
    with mock.patch.object(feedback.time, "time", return_value=NOW - days_ago * DAY):
        assert log.record(NEGATIVE, "fi", "asylum", question)


@pytest.fixture(params=BACKENDS)
def store(request, tmp_path, monkeypatch) -> RedactingTrackerStore:
    url = backend_url(request.param, tmp_path)
    monkeypatch.setenv("KOTOBOT_DB_URL", url)
    # The feedback log shares the conversations' database (as in production), emptied.
    for name in ("KOTOBOT_FEEDBACK_DB_URL", "KOTOBOT_FEEDBACK_DB"):
        monkeypatch.delenv(name, raising=False)
    empty_feedback_log(url)
    monkeypatch.setattr(feedback, "_created", set())
    store = RedactingTrackerStore(domain=Domain.load(str(ROOT / "domain.yml")))
    conversations = {
        "quiet-for-40-days": session(40, "vanha keskustelu oldwordalpha"),
        "today": session(0.01, "tämän päivän kysymys"),
        "old-and-new-sessions": session(45, "vanha istunto oldwordbeta") + session(2, "uusi"),
        # Started 31 days ago and still going 29 days ago: in progress at the cutoff, kept whole.
        "session-across-cutoff": session(31, "rajalla", minutes=2 * 24 * 60),
    }
    for sender, events in conversations.items():
        tracker = DialogueStateTracker.from_events(sender, events, store.domain.slots)
        asyncio.run(store.save(tracker))
    yield store
    store.engine.dispose()


def user_texts(store: RedactingTrackerStore, sender: str) -> list[str]:
    tracker = asyncio.run(store.retrieve_full_tracker(sender))
    if tracker is None:
        return []
    return [e.text for e in tracker.events if isinstance(e, UserUttered)]


def test_old_sessions_are_deleted_recent_ones_kept(store, tmp_path):
    before = asyncio.run(store.keys())
    dry = delete_old_conversations(store.engine, days=30, now=NOW, dry_run=True)
    assert asyncio.run(store.keys()) == before, "a dry run deletes nothing"

    result = delete_old_conversations(store.engine, days=30, now=NOW)
    assert (result.events, result.conversations) == (dry.events, dry.conversations) == (10, 1)
    assert set(asyncio.run(store.keys())) == {
        "today", "old-and-new-sessions", "session-across-cutoff",
    }  # fmt: skip
    assert user_texts(store, "today") == ["tämän päivän kysymys"]
    assert user_texts(store, "old-and-new-sessions") == ["uusi"]
    assert user_texts(store, "session-across-cutoff") == ["rajalla"]
    # What remains is still a working conversation: its language slot is restored.
    assert asyncio.run(store.retrieve("old-and-new-sessions")).get_slot("language") == "fi"
    if store.engine.dialect.name == "sqlite":
        # SQLite is vacuumed: the deleted texts are not left in the file's free pages.
        raw = (tmp_path / "tracker.sqlite3").read_bytes()
        wal = tmp_path / "tracker.sqlite3-wal"
        raw += wal.read_bytes() if wal.exists() else b""
        assert b"oldwordalpha" not in raw and b"oldwordbeta" not in raw
        assert b"rajalla" in raw


def test_zero_days_deletes_everything_finished(store):
    delete_old_conversations(store.engine, days=0, now=NOW + 1)
    assert asyncio.run(store.keys()) == []


def test_command_line_uses_the_servers_configuration(store, tmp_path, capsys):
    """``KOTOBOT_DB_URL`` (set by the fixture) overrides endpoints.yml, as for the server; the
    feedback log in the same database is cleaned too."""
    shared_log = FeedbackLog()
    feedback_at(shared_log, 40, "vanha palaute")
    feedback_at(shared_log, 1, "uusi palaute")
    assert main(["--days", "30", "--endpoints", str(ROOT / "endpoints.yml")]) == 0
    out = capsys.readouterr().out
    assert "deleted 10 events older than 30 days" in out
    assert "deleted 1 feedback entries older than 30 days" in out
    assert "quiet-for-40-days" not in asyncio.run(store.keys())
    assert [entry.question for entry in shared_log.entries()] == ["uusi palaute"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_old_feedback_is_deleted_recent_kept(backend, tmp_path, monkeypatch):
    url = backend_url(backend, tmp_path)
    empty_feedback_log(url)
    monkeypatch.setattr(feedback, "_created", set())
    log = FeedbackLog(url)
    feedback_at(log, 45, "oldfeedbackgamma hetu 131052-308T")
    feedback_at(log, 30.01, "oldfeedbackdelta")
    feedback_at(log, 29.99, "juuri ja juuri")
    feedback_at(log, 0, "tänään")
    assert delete_old_feedback(log, days=30, now=NOW, dry_run=True) == 2
    assert len(log.entries()) == 4, "a dry run deletes nothing"

    assert delete_old_feedback(log, days=30, now=NOW) == 2
    assert [entry.question for entry in log.entries()] == ["juuri ja juuri", "tänään"]
    assert delete_old_feedback(log, days=30, now=NOW) == 0
    if backend == "sqlite":  # vacuumed: the deleted texts are not left in free pages
        raw = b"".join(p.read_bytes() for p in tmp_path.glob("tracker.sqlite3*"))
        assert b"oldfeedbackgamma" not in raw and b"oldfeedbackdelta" not in raw
        assert "tänään".encode() in raw
    assert log.record(FALLBACK, "fi", None, "kirjoitetaan yhä"), "the log still takes entries"


def test_missing_feedback_file_is_not_created(tmp_path):
    log = FeedbackLog(tmp_path / "none.sqlite3")
    assert delete_old_feedback(log, days=30) == 0
    assert not (tmp_path / "none.sqlite3").exists()


def test_command_line_defaults_to_30_days_and_endpoints_sqlite_file(tmp_path, monkeypatch):
    monkeypatch.delenv("KOTOBOT_DB_URL", raising=False)
    monkeypatch.delenv("KOTOBOT_FEEDBACK_DB_URL", raising=False)
    monkeypatch.setenv("KOTOBOT_FEEDBACK_DB", str(tmp_path / "feedback.sqlite3"))  # not var/
    feedback_at(FeedbackLog(), 31, "vanha")
    endpoints = tmp_path / "endpoints.yml"
    endpoints.write_text(
        "tracker_store:\n  type: bot.server.tracker_store.RedactingTrackerStore\n"
        f"  db: {tmp_path / 'other.sqlite3'}\n",
        "utf-8",
    )
    engine = engine_from_endpoints(endpoints)
    assert engine.url.database == str(tmp_path / "other.sqlite3")
    result = subprocess.run(
        [sys.executable, "-m", "bot.tools.retention", "--endpoints", str(endpoints)],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    assert "deleted 0 events older than 30 days" in result.stdout
    feedback_line = (
        f"deleted 1 feedback entries older than 30 days ({tmp_path / 'feedback.sqlite3'})"
    )
    assert feedback_line in result.stdout


def test_other_tracker_store_types_are_refused(tmp_path):
    endpoints = tmp_path / "endpoints.yml"
    endpoints.write_text("tracker_store:\n  type: redis\n  url: localhost\n", "utf-8")
    with pytest.raises(SystemExit, match="SQL tracker stores only"):
        engine_from_endpoints(endpoints)
