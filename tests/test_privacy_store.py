"""Personal data typed over REST never reaches the tracker store or the logs; conversations
survive a restart. The real Rasa and action servers, configured as committed (endpoints.yml:
the redacting SQL store), on a throw-away SQLite file or on ``KOTOBOT_DB_URL`` when CI sets it.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.core.locales import get_locale
from bot.tools.harness import Bot, running_bot
from tests.support.paths import MODEL

pytestmark = pytest.mark.e2e

SECRETS = {
    "identity code": "131052-308T",
    "identity code (2023 sign)": "010594Y9032",
    "phone": "+358 40 123 4567",
    "local phone": "040-7654321",
    "e-mail": "amina.hassan@example.com",
    "IBAN": "FI21 1234 5600 0007 85",
    "passport": "XP1234567",
}
MESSAGES = [
    f"Miten haen oleskelulupaa? Henkilötunnukseni on {SECRETS['identity code']}",
    f"lapseni hetu on {SECRETS['identity code (2023 sign)']}, soita {SECRETS['phone']}",
    f"tai numeroon {SECRETS['local phone']} tai sähköposti {SECRETS['e-mail']}",
    f"tilinumero {SECRETS['IBAN']} ja passi {SECRETS['passport']}",
]


class Servers:
    """The two servers on one database, restartable (what a deployment does on an upgrade)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.db_url = f"sqlite:///{folder / 'tracker.sqlite3'}"
        self.stack = contextlib.ExitStack()
        self.runs = 0
        self.bot: Bot = self._start(LOG_LEVEL="DEBUG")  # Rasa then logs every user message

    def _start(self, **env: str) -> Bot:
        self.runs += 1
        with_db = {"KOTOBOT_DB_URL": self.db_url, **env}
        logs = self.folder / f"run{self.runs}"
        return self.stack.enter_context(running_bot(MODEL, logs, env=with_db))

    def restart(self) -> Bot:
        self.stack.close()
        self.stack = contextlib.ExitStack()
        self.bot = self._start()
        return self.bot

    def logs(self) -> str:
        return "\n".join(
            path.read_text("utf-8", errors="replace") for path in self.folder.glob("run*/*.log")
        )


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: run `make train` first")
    running = Servers(tmp_path_factory.mktemp("privacy"))
    try:
        yield running
    finally:
        running.stack.close()


def stored_events(db_url: str, sender: str) -> list[str]:
    """The raw ``data`` column of the tracker store, read with SQL, not through Rasa."""
    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                sa.text("SELECT data FROM events WHERE sender_id = :sender ORDER BY id"),
                {"sender": sender},
            )
            return [data for (data,) in rows]
    finally:
        engine.dispose()


def test_personal_data_typed_over_rest_is_not_stored(servers):
    bot, sender = servers.bot, f"privacy-{uuid.uuid4().hex[:10]}"
    notice = get_locale("fi").text("privacy_notice")
    for message in MESSAGES:
        replies = bot.say(sender, message)
        assert len(replies) >= 2, "the conversation goes on as usual"
        assert replies[-1]["text"] == notice, "and the user is told not to share such data"
    assert bot.slot(sender, "language") == "fi"
    assert bot.say(sender, "kiitos")[-1]["text"] != notice

    rows = stored_events(servers.db_url, sender)
    users = [json.loads(row) for row in rows if json.loads(row)["event"] == "user"]
    assert len(users) == len(MESSAGES) + 1, "every message is stored"
    assert "[identity code]" in users[0]["text"] and "[e-mail]" in users[2]["text"]
    # "how do I apply for a residence permit? my identity code is ...": either topic fits
    assert users[0]["parse_data"]["intent"]["name"] in {
        "residence_permit",
        "registration_and_identity",
    }
    stored = "\n".join(rows)
    for kind, secret in SECRETS.items():
        assert secret not in stored, f"{kind} found verbatim in the tracker store"
        assert secret.replace(" ", "") not in stored.replace(" ", ""), kind
    # The files as a whole (free pages, indexes, the write-ahead log) hold none of them either.
    raw = b"".join(path.read_bytes() for path in servers.folder.glob("tracker.sqlite3*"))
    assert b"[identity code]" in raw, "the stored conversation is in these files"
    assert not any(secret.encode() in raw for secret in SECRETS.values())
    # Nor does the tracker the HTTP API hands out.
    api = json.dumps(bot.tracker(sender), ensure_ascii=False)
    assert not any(secret in api for secret in SECRETS.values())


def test_logs_at_debug_level_contain_no_personal_data(servers):
    bot, sender = servers.bot, f"privacy-{uuid.uuid4().hex[:10]}"
    for message in MESSAGES:
        bot.say(sender, message)
    bot.say(sender, f'/greet{{"language": "{SECRETS["identity code"]}"}}')  # a Rasa warning
    logs = servers.logs()
    assert "[identity code]" in logs, "Rasa logs user messages at DEBUG: the test must see them"
    for kind, secret in SECRETS.items():
        assert secret not in logs, f"{kind} found verbatim in the server logs"


def test_conversation_survives_a_restart(servers):
    bot, sender = servers.bot, f"restart-{uuid.uuid4().hex[:10]}"
    bot.say(sender, "miten saan kotoutumissuunnitelman")
    assert bot.slot(sender, "language") == "fi"
    assert bot.slot(sender, "last_topic") == "integration_plan"
    events_before = len(bot.tracker(sender)["events"])

    bot = servers.restart()
    tracker = bot.tracker(sender)
    assert (
        tracker["slots"]["language"] == "fi"
        and tracker["slots"]["last_topic"] == "integration_plan"
    )
    assert len(tracker["events"]) == events_before
    replies = bot.say(sender, "ok")  # too short to tell a language: the stored one is kept
    assert replies and bot.slot(sender, "language") == "fi"
    assert len(bot.tracker(sender)["events"]) > events_before
