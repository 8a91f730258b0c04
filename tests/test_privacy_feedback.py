"""Redaction of personal data, the feedback log and the content editors' report."""

import pytest

from bot.answers import feedback
from bot.answers.feedback import FALLBACK, NEGATIVE, POSITIVE, FeedbackLog
from bot.core.privacy import redact
from bot.tools.report import build_report
from tests.support.stores import database_url, empty_feedback_log


@pytest.mark.parametrize(
    "text, secret",
    [
        ("hetu 131052-308T kiitos", "131052-308T"),
        ("syntynyt 2010: 010110A123D", "010110A123D"),
        ("uusi merkki 2023: 010594Y9032", "010594Y9032"),
        ("my number is +358 40 123 4567", "+358 40 123 4567"),
        ("soita 040-1234567", "040-1234567"),
        ("mail me: ahmed.ali@example.com", "ahmed.ali@example.com"),
        ("IBAN FI21 1234 5600 0007 85 please", "FI21 1234 5600 0007 85"),
        ("passport P1234567A", "P1234567A"),
    ],
)
def test_personal_data_is_redacted(text, secret):
    assert secret not in redact(text)


def test_ordinary_questions_are_left_alone():
    text = "miten saan oleskeluluvan 2 vuodeksi? olen 35 vuotta"
    assert redact(text) == text


def test_feedback_is_stored_redacted_and_reported_per_language(tmp_path):
    log = FeedbackLog(tmp_path / "feedback.sqlite3")
    assert log.record(FALLBACK, "fi", None, "mikä on hetu 131052-308T")
    assert log.record(NEGATIVE, "ar", "asylum", "كيف أطلب اللجوء")
    assert log.record(POSITIVE, "ar", "asylum", "شكرا")
    entries = log.entries()
    assert [e.kind for e in entries] == [FALLBACK, NEGATIVE, POSITIVE]
    assert "131052-308T" not in entries[0].question
    report = build_report(log)
    assert "## fi: 1 not understood, 0 not helpful, 0 helpful" in report
    assert "## ar: 0 not understood, 1 not helpful, 1 helpful" in report
    assert "كيف أطلب اللجوء" in report and "`asylum`" in report
    assert "131052-308T" not in report


def test_unwritable_log_never_raises(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    assert FeedbackLog(blocker / "feedback.sqlite3").record(FALLBACK, "fi", None, "x") is False


def test_action_server_replicas_share_one_log_in_the_conversations_database(tmp_path, monkeypatch):
    """With KOTOBOT_DB_URL (PostgreSQL, as in production) every replica writes the same table."""
    url = database_url("postgresql", tmp_path)
    empty_feedback_log(url)
    monkeypatch.setattr(feedback, "_created", set())  # the table was just dropped
    monkeypatch.delenv("KOTOBOT_FEEDBACK_DB_URL", raising=False)
    monkeypatch.setenv("KOTOBOT_DB_URL", url)
    monkeypatch.delenv("KOTOBOT_FEEDBACK_DB", raising=False)
    replica_a, replica_b = FeedbackLog(), FeedbackLog()
    assert replica_a.record(FALLBACK, "fi", None, "soita 040 123 4567")
    assert replica_b.record(NEGATIVE, "so", "asylum", "magaalada")
    entries = FeedbackLog(url).entries()
    assert [(e.kind, e.language) for e in entries] == [(FALLBACK, "fi"), (NEGATIVE, "so")]
    assert "040 123 4567" not in entries[0].question
    monkeypatch.setenv("KOTOBOT_FEEDBACK_DB", str(tmp_path / "own.sqlite3"))  # asked for: wins
    assert FeedbackLog().where == str(tmp_path / "own.sqlite3")
    # Its own URL wins; a password never reaches the report.
    monkeypatch.setenv("KOTOBOT_FEEDBACK_DB_URL", f"sqlite:///{tmp_path / 'other.sqlite3'}")
    assert FeedbackLog().entries() == []
    assert "fake-pw" not in FeedbackLog("postgresql://kotobot:fake-pw@db/kotobot").where
    monkeypatch.setenv("KOTOBOT_FEEDBACK_DB_URL", "postgresql://kotobot@db/kotobot")
    monkeypatch.setenv("KOTOBOT_FEEDBACK_DB_PASSWORD", "fake-pw")
    assert FeedbackLog().url == "postgresql://kotobot:fake-pw@db/kotobot"
