"""Redaction rules, the redacting tracker store and the log redaction, in process (no servers)."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import subprocess
import sys
import time

import pytest
from rasa.core.tracker_store import TrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    BotUttered,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import read_endpoint_config

from bot.core import log_redaction
from bot.core.privacy import contains_personal_data, redact, redact_event
from bot.server.tracker_store import RedactingTrackerStore, database_url, redacted
from tests.support.paths import ROOT
from tests.support.stores import BACKENDS, stored_rows
from tests.support.stores import database_url as backend_url

SECRETS = {
    "hetu": "131052-308T",
    "phone": "+358 40 123 4567",
    "email": "amina.hassan@example.com",
    "iban": "FI21 1234 5600 0007 85",
    "passport": "XP1234567",
}


# Every century sign: + (1800s), - Y X W V U (1900s), A B C D E F (2000s; B-F since 2023).
@pytest.mark.parametrize("sign", list("+-YXWVUABCDEF"))
def test_identity_codes_with_every_century_sign_are_redacted(sign):
    code = f"010594{sign}9032"
    assert code not in redact(f"hetu {code}, kiitos")
    assert code.lower() not in redact(f"hetu {code.lower()}")


@pytest.mark.parametrize(
    "text, secret",
    [
        ("hetu 131052–308T (en dash)", "131052–308T"),
        ("zero width 1310\u200b52-308T", "52-308T"),
        ("rtl override \u202e131052-308T", "131052-308T"),
        ("iban fi21 1234 5600 0007 85", "1234 5600 0007 85"),
        ("iban FI2112345600000785", "FI2112345600000785"),
        ("puhelin 09 123 4567", "09 123 4567"),
        ("+358401234567", "+358401234567"),
        ("arabic digits ٠٤٠١٢٣٤٥٦٧", "٠٤٠١٢٣٤٥٦٧"),
        ("passi xp1234567", "xp1234567"),
        ("паспорт FA123456 ок", "FA123456"),
        ("E-mail: Matti.Meikalainen+kela@posti.example.fi", "Meikalainen+kela@posti"),
    ],
)
def test_disguised_and_local_formats_are_redacted(text, secret):
    assert secret not in redact(text)


@pytest.mark.parametrize(
    "text",
    [
        "miten haen oleskelulupaa vuodelle 2024?",
        "I arrived on 2023-01-15 and applied in 2020 - 2023",
        "kotoutumislaki 1386/2010 ja 681/2023",
        "می\u200cخواهم اقامت بگیرم",  # ZWNJ inside a Persian word is kept
        "family 👨\u200d👩\u200d👧 reunification",  # ZWJ inside an emoji sequence is kept
        "I have 100000 euros and 3 children",
        # A Service Catalogue link as the action server logs it: the id's digit groups are kept.
        "GET https://api.palvelutietovaranto.suomi.fi/api/v11/Service/"
        "5f6a0e1c-1234-4567-8901-0123456789ab 200",
    ],
)
def test_ordinary_text_is_left_alone(text):
    assert redact(text) == text
    assert not contains_personal_data(text)


def test_data_next_to_an_id_is_still_redacted():
    uuid = "5f6a0e1c-1234-4567-8901-0123456789ab"
    text = f"id {uuid}, soita 040 123 4567 / 131052-308T"
    assert redact(text) == f"id {uuid}, soita [phone] / [identity code]"


def test_personal_data_is_detected_for_the_notice():
    assert all(contains_personal_data(f"minun {secret}") for secret in SECRETS.values())
    assert not contains_personal_data("hei\u200b mitä kuuluu")


@pytest.mark.parametrize(
    "text",
    ["a" * 200_000 + "@", "1" * 200_000 + "a", "1 " * 100_000 + "a", "@b" * 100_000,
     "a." * 100_000 + "@x", "FI21" + " 1234" * 40_000 + "x", ("1" * 8 + "A") * 20_000],
)  # fmt: skip
def test_redaction_takes_linear_time_on_adversarial_input(text):
    """Logs and the feedback log redact whatever arrives (socket.io has no length limit yet): a
    quadratic pattern would let one long message stall the server (20 KB once took 8 s)."""
    started = time.monotonic()
    redact(text)
    assert time.monotonic() - started < 2


def test_events_keep_identifiers_and_lose_personal_data():
    event = {
        "event": "user",
        "text": f"hetu {SECRETS['hetu']}",
        "message_id": "0123456789abcdef0123456789abcdef",
        "input_channel": "rest",
        "parse_data": {
            "intent": {"name": "citizenship", "confidence": 0.9},
            "entities": [{"entity": "municipality", "value": SECRETS["phone"], "start": 0}],
            "text": f"hetu {SECRETS['hetu']}",
        },
        "metadata": {"language": "fi", "note": SECRETS["email"]},
    }
    clean = redact_event(event)
    assert not any(secret in str(clean) for secret in SECRETS.values())
    assert clean["message_id"] == event["message_id"]
    assert clean["parse_data"]["intent"] == event["parse_data"]["intent"]
    assert clean["metadata"]["language"] == "fi"


@pytest.fixture(params=BACKENDS)
def store(request, tmp_path, monkeypatch) -> RedactingTrackerStore:
    monkeypatch.setenv("KOTOBOT_DB_URL", backend_url(request.param, tmp_path))
    store = RedactingTrackerStore(domain=Domain.load(str(ROOT / "domain.yml")))
    yield store
    store.engine.dispose()


def conversation(sender: str, store: RedactingTrackerStore) -> DialogueStateTracker:
    text = " ".join(f"{name} {value}" for name, value in SECRETS.items())
    events = [
        ActionExecuted("action_session_start"),
        SessionStarted(),
        ActionExecuted("action_listen"),
        UserUttered(
            text,
            {"name": "citizenship", "confidence": 0.9},
            [{"entity": "municipality", "value": SECRETS["iban"], "start": 0, "end": 5}],
            {"text": text, "intent": {"name": "citizenship", "confidence": 0.9}},
            input_channel="rest",
            metadata={"language": "fi"},
        ),
        SlotSet("language", "fi"),
        SlotSet("municipality", SECRETS["email"]),
        ActionExecuted("action_answer_topic"),
        BotUttered(f"You wrote {SECRETS['passport']}", {"buttons": [{"payload": "/asylum"}]}),
        ActionExecuted("action_listen"),
    ]
    return DialogueStateTracker.from_events(sender, events, store.domain.slots)


def test_store_writes_no_personal_data_and_restores_the_conversation(store):
    tracker = conversation("privacy-unit", store)
    asyncio.run(store.save(tracker))
    stored = "\n".join(stored_rows(str(store.engine.url)))
    assert "citizenship" in stored and "[identity code]" in stored
    for secret in SECRETS.values():
        assert secret not in stored
    # A new store on the same file (what a restarted server does) gets the conversation back.
    restored = asyncio.run(RedactingTrackerStore(domain=store.domain).retrieve("privacy-unit"))
    assert restored is not None
    assert restored.get_slot("language") == "fi"
    assert restored.latest_message.intent["name"] == "citizenship"
    # Like every Rasa SQL store, retrieve() starts at the latest SessionStarted.
    assert len(restored.events) == len(tracker.events) - 1
    assert restored.events[-2].data == {"buttons": [{"payload": "/asylum"}]}


def test_saving_again_appends_only_new_events(store):
    asyncio.run(store.save(conversation("append", store)))
    tracker = asyncio.run(store.retrieve("append"))  # as Rasa does for each message
    tracker.update(UserUttered(f"kiitos {SECRETS['phone']}", {"name": "thank", "confidence": 1}))
    asyncio.run(store.save(tracker))
    rows = [json.loads(row) for row in stored_rows(str(store.engine.url))]
    texts = [row["text"] for row in rows if row["event"] == "user"]
    assert len(texts) == 2 and texts[1] == "kiitos [phone]"
    assert len(rows) == len(tracker.events) + 1  # + action_session_start, before the session


def test_events_without_personal_data_survive_redaction_unchanged(store):
    for event in conversation("same", store).events:
        if not any(s in str(event.as_dict()) for s in SECRETS.values()):
            assert redacted(event).as_dict() == event.as_dict()


def test_endpoints_yml_selects_the_redacting_sqlite_store(tmp_path, monkeypatch):
    """As committed, with no variables set: Rasa's own factory builds our store (Rasa falls back
    to an in-memory store, silently but for a warning, when a custom class cannot be loaded)."""
    monkeypatch.delenv("KOTOBOT_DB_URL", raising=False)
    monkeypatch.setenv("KOTOBOT_HOME", str(tmp_path))  # var/ under a throw-away root
    config = read_endpoint_config(str(ROOT / "endpoints.yml"), "tracker_store")
    store = TrackerStore.create(config, Domain.empty())
    inner = getattr(store, "_tracker_store", store)
    assert isinstance(inner, RedactingTrackerStore)
    assert store.engine.url.database == str(tmp_path / "var" / "tracker.sqlite3")
    assert (tmp_path / "var" / "tracker.sqlite3").exists()


def test_database_url_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("KOTOBOT_HOME", str(tmp_path))
    monkeypatch.delenv("KOTOBOT_DB_URL", raising=False)
    monkeypatch.delenv("KOTOBOT_DB_PASSWORD", raising=False)
    assert database_url() == f"sqlite:///{tmp_path / 'var' / 'tracker.sqlite3'}"
    assert database_url(dialect="postgresql", host="db") is None  # Rasa builds it from parts
    monkeypatch.setenv("KOTOBOT_DB_URL", "postgresql://kotobot@db:5432/kotobot")
    monkeypatch.setenv("KOTOBOT_DB_PASSWORD", "fake-pw/with@signs")
    assert database_url() == "postgresql://kotobot:fake-pw%2Fwith%40signs@db:5432/kotobot"


@pytest.fixture
def log_output() -> io.StringIO:
    log_redaction.install()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    yield stream
    root.removeHandler(handler)


def test_log_records_are_redacted_whatever_the_logger(log_output):
    logging.getLogger("rasa.core.processor").warning("Received user message '%s'", SECRETS["hetu"])
    logging.getLogger("kotobot.any").error(f"mail {SECRETS['email']} phone {SECRETS['phone']}")
    try:
        raise ValueError(f"bad value {SECRETS['iban']}")
    except ValueError:
        logging.getLogger("sanic.error").exception("failed")
    text = log_output.getvalue()
    assert "Received user message '[identity code]'" in text
    assert "ValueError: bad value [bank account]" in text
    for secret in SECRETS.values():
        assert secret not in text


SERVER_LIKE_PROCESS = """
import logging, logging.config, sys, warnings, yaml
logging.basicConfig(stream=sys.stdout, format="%(levelname)s %(name)s %(message)s")
handlers = list(logging.getLogger().handlers)
logging.config.dictConfig(yaml.safe_load(open(sys.argv[1], encoding="utf-8")))
assert logging.getLogger().handlers == handlers, "the config must not touch the handlers"
logging.getLogger("rasa_sdk.executor").warning("slot value %s", sys.argv[2])
warnings.warn("Failed to parse arguments in line '/greet%s'" % sys.argv[3])
print("done")
"""


def test_logging_config_file_redacts_an_action_server_like_process():
    """What `rasa run actions --logging-config-file bot/resources/logging.yml` gets: records and
    Python warnings (Rasa reports unparsable payloads, with the text, as warnings) redacted."""
    result = subprocess.run(
        [sys.executable, "-c", SERVER_LIKE_PROCESS, str(ROOT / "bot" / "resources" / "logging.yml"),
         SECRETS["hetu"], SECRETS["phone"]],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    output = result.stdout + result.stderr
    assert "slot value [identity code]" in output and "Failed to parse arguments" in output
    assert SECRETS["hetu"] not in output and SECRETS["phone"] not in output
