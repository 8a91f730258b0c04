"""Two Rasa servers behind no load balancer at all: one conversation alternates between them, as
stateless REST behind a round-robin balancer does, and keeps its language, topic and slots; one
server dies (SIGKILL) in the middle of a message and the other carries on with nothing lost.

The real servers as committed (endpoints.yml), sharing the real PostgreSQL tracker store
(KOTOBOT_DB_URL) and Redis lock store (KOTOBOT_REDIS_URL) that CI starts; skipped without them.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis
import requests

from bot.content import content_source
from bot.core.locales import get_locale
from bot.tools.harness import Bot, LocalPtv, Servers, running_servers
from tests.support.paths import MODEL
from tests.support.stores import shared_store_env, stored_rows

pytestmark = pytest.mark.e2e
KUOPIO = "297"  # its service list is slow once: the message that is in flight when A dies
# Rasa's lock lifetime (default 60 s): how long a conversation waits for the lock of a server
# that died holding it. Shorter here so that the test does not wait a minute.
LOCK_LIFETIME = "10"
SENT: dict[str, list[str]] = {}  # every message each sender got an answer to, in order


class Cluster:
    def __init__(self, servers: Servers, ptv: LocalPtv, env: dict[str, str]) -> None:
        self.servers = servers
        self.a, self.b = servers.bots
        self.ptv = ptv
        self.db_url = env["KOTOBOT_DB_URL"]
        self.redis = redis.Redis.from_url(env["KOTOBOT_REDIS_URL"])


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: run `make train` first")
    folder = tmp_path_factory.mktemp("scaleout")
    stores = shared_store_env(folder)
    with LocalPtv(slow={KUOPIO: 2.0}) as ptv:  # within the action server's PTV budget (2.5 s)
        env = {**stores, **ptv.env, "TICKET_LOCK_LIFETIME": LOCK_LIFETIME,
               "KOTOBOT_FEEDBACK_DB": str(folder / "feedback.sqlite3")}  # fmt: skip
        with running_servers(MODEL, folder, rasa_servers=2, env=env) as servers:
            running = Cluster(servers, ptv, stores)
            yield running
            running.redis.close()


def say(bot: Bot, sender: str, text: str) -> str:
    """Sends ``text``; the replies' texts, one per line. Records what was answered."""
    replies = bot.say(sender, text)
    SENT.setdefault(sender, []).append(text)
    assert replies, f"no answer to {text!r}"
    return "\n".join(reply.get("text") or "" for reply in replies)


def answers_topic(topic: str, language: str, reply: str) -> bool:
    """The reply is the topic's card or one of its specific answers, in ``language``."""
    content = content_source().topic(topic, language)
    return content.title in reply or any(a.question in reply for a in content.answers)


def variants(language: str, key: str) -> list[str]:
    text = get_locale(language).texts[key]
    return text if isinstance(text, list) else [text]


def user_texts(events: list[dict]) -> list[str]:
    return [event["text"] for event in events if event["event"] == "user"]


def test_conversation_alternating_between_servers_keeps_language_topic_and_slots(cluster):
    a, b, sender = cluster.a, cluster.b, f"scaleout-{uuid.uuid4().hex[:10]}"
    fi = get_locale("fi")

    answer = say(a, sender, "Missä voin opiskella suomea?")
    assert answers_topic("language_training", "fi", answer)
    assert fi.text("followup_hint") in answer
    tracker = b.tracker(sender)  # what A stored, seen from B
    assert tracker["slots"]["language"] == "fi"
    assert tracker["slots"]["last_topic"] == "language_training"

    answer = say(b, sender, "Asun Tampereella")
    assert fi.text("services_intro", municipality="Tampere") in answer
    slots = a.tracker(sender)["slots"]
    assert (slots["language"], slots["municipality"]) == ("fi", "Tampere")
    assert slots["last_topic"] == "language_training", "the topic asked on A is kept on B"

    answer = say(a, sender, "miten löydän töitä?")
    assert answers_topic("employment", "fi", answer), "still in Finnish"
    assert fi.text("services_intro", municipality="Tampere") in answer, "B's municipality"
    assert b.slot(sender, "last_topic") == "employment"

    assert say(b, sender, "kiitos") in variants("fi", "thank")
    answer = say(a, sender, "entä Espoossa?")
    assert fi.text("services_intro", municipality="Espoo") in answer, "the topic is still known"
    slots = b.tracker(sender)["slots"]
    assert (slots["language"], slots["municipality"]) == ("fi", "Espoo")


def test_a_server_killed_mid_message_loses_nothing(cluster):
    a, b, sender = cluster.a, cluster.b, f"scaleout-{uuid.uuid4().hex[:10]}"
    en = get_locale("en")
    say(a, sender, "What is an initial assessment and who needs one?")
    assert en.text("services_intro", municipality="Espoo") in say(b, sender, "and in Espoo?")
    events_before = len(b.tracker(sender)["events"])

    # A takes the next message, asks the Service Catalogue (slow) and dies waiting for it.
    with ThreadPoolExecutor(1) as pool:
        in_flight = pool.submit(a.say, sender, "and in Kuopio?")
        assert cluster.ptv.asked[KUOPIO].wait(60), "A is handling the message"
        assert cluster.redis.exists(f"lock:{sender}"), "and holds the conversation's lock"
        cluster.servers.kill(0)
        with pytest.raises(requests.RequestException):
            in_flight.result(timeout=60)
    assert not cluster.servers.alive(0)
    assert cluster.redis.exists(f"lock:{sender}"), "the dead server's ticket is still in Redis"
    assert len(b.tracker(sender)["events"]) == events_before, "nothing half-done was stored"

    # The user (or the widget) sends it again; B waits for the dead ticket to expire, answers.
    answer = say(b, sender, "and in Kuopio?")
    assert en.text("services_intro", municipality="Kuopio") in answer
    answer = say(b, sender, "How do I get an integration plan?")
    assert answers_topic("integration_plan", "en", answer)
    assert en.text("services_intro", municipality="Kuopio") in answer
    slots = b.tracker(sender)["slots"]
    assert (slots["language"], slots["municipality"]) == ("en", "Kuopio")
    assert slots["last_topic"] == "integration_plan"
    assert not cluster.redis.exists(f"lock:{sender}"), "B released the lock"

    # Every message of every conversation of this module is stored once, in order: in the
    # database (read with SQL) and in the tracker the surviving server hands out.
    assert sender in SENT
    for each, texts in SENT.items():
        rows = [json.loads(row) for row in stored_rows(cluster.db_url, each)]
        assert user_texts(rows) == texts, f"SQL rows of {each}"
        assert user_texts(b.tracker(each)["events"]) == texts, f"API tracker of {each}"
