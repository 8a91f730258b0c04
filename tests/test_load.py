"""Load: 50 concurrent users × 20 messages over REST, spread round-robin over two Rasa servers that
share the real PostgreSQL tracker store and Redis lock store (as in production behind a
load balancer; skipped without KOTOBOT_TEST_POSTGRES_URL/KOTOBOT_TEST_REDIS_URL).

Zero errors, every message answered, every user message in the tracker store. Latency p50/p95
is reported (printed and written to tests/artifacts/load.json), not asserted: the machine is
shared and 2 cores run the client, three servers and both databases.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
import uuid
from collections import Counter
from typing import Any

import aiohttp
import numpy as np
import pytest
import sqlalchemy as sa

from bench.perf_load import KOTOBOT_CONVERSATIONS, Message
from bot.core.locales import get_locale
from bot.core.taxonomy import taxonomy
from bot.tools.harness import LocalPtv, running_servers
from tests.support.paths import MODEL, ROOT
from tests.support.stores import shared_store_env

pytestmark = pytest.mark.e2e
ARTIFACT = ROOT / "tests" / "artifacts" / "load.json"
USERS, MESSAGES, SERVERS = 50, 20, 2
TIMEOUT = 180.0  # per message: generous, a slow answer is reported, not failed


def scripts() -> list[list[Message]]:
    """Each user's 20 messages: bench.perf's conversations (every language, typed questions, topic
    buttons with a UI language, small talk, municipalities) one after the other, each user
    starting elsewhere in the list."""
    flat = [message for conversation in KOTOBOT_CONVERSATIONS for message in conversation]
    return [
        list(itertools.islice(itertools.cycle(flat), 7 * user, 7 * user + MESSAGES))
        for user in range(USERS)
    ]


async def say(
    session: aiohttp.ClientSession, base_url: str, sender: str, message: Message
) -> list[dict[str, Any]]:
    text, metadata = message
    body: dict[str, Any] = {"sender": sender, "message": text}
    if metadata:
        body["metadata"] = metadata
    async with session.post(f"{base_url}/webhooks/rest/webhook", json=body) as response:
        response.raise_for_status()
        return await response.json()


async def run_users(urls: list[str], senders: list[str]) -> dict[str, Any]:
    """Every user at once, each sending its messages one after the other; message j of user i
    goes to server (i + j) mod 2, as a round-robin balancer would send them."""
    latencies: list[float] = []
    errors: list[str] = []
    answers: list[tuple[str, list[dict[str, Any]]]] = []
    timeout = aiohttp.ClientTimeout(total=TIMEOUT)
    connector = aiohttp.TCPConnector(limit=USERS)

    async def user(index: int, script: list[Message]) -> None:
        for step, message in enumerate(script):
            url = urls[(index + step) % len(urls)]
            start = time.perf_counter()
            try:
                replies = await say(session, url, senders[index], message)
            except Exception as error:  # noqa: BLE001 (every error is reported and fails the test)
                errors.append(f"{senders[index]} #{step}: {type(error).__name__}: {error}"[:300])
                continue
            latencies.append(1000 * (time.perf_counter() - start))
            answers.append((message[0], replies))

    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
        for url in urls:  # first-use costs out of the figures; these senders are not counted
            await say(session, url, f"warm-{uuid.uuid4().hex[:8]}", ("Hei!", None))
        start = time.perf_counter()
        await asyncio.gather(*(user(i, script) for i, script in enumerate(scripts())))
        wall = time.perf_counter() - start
    return {"latencies": latencies, "errors": errors, "answers": answers, "wall": wall}


def stored_user_events(db_url: str, prefix: str) -> Counter[str]:
    """User events per sender, counted with SQL in the tracker store."""
    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                sa.text(
                    "SELECT sender_id, COUNT(*) FROM events WHERE type_name = 'user' "
                    "AND sender_id LIKE :prefix GROUP BY sender_id"
                ),
                {"prefix": f"{prefix}%"},
            )
            return Counter(dict(rows.all()))
    finally:
        engine.dispose()


def error_texts() -> set[str]:
    return {get_locale(code).text("error") for code in taxonomy().languages}


def test_fifty_users_twenty_messages_each_over_two_servers(tmp_path, capsys):
    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: run `make train` first")
    stores = shared_store_env(tmp_path)
    prefix = f"load-{uuid.uuid4().hex[:6]}-"
    senders = [f"{prefix}{user:02d}" for user in range(USERS)]
    with LocalPtv() as ptv:
        env = {**stores, **ptv.env, "KOTOBOT_FEEDBACK_DB": str(tmp_path / "feedback.sqlite3")}
        with running_servers(MODEL, tmp_path, rasa_servers=SERVERS, env=env) as servers:
            result = asyncio.run(run_users([bot.base_url for bot in servers.bots], senders))

    latencies = result["latencies"]
    figures = {
        "users": USERS,
        "messages_per_user": MESSAGES,
        "rasa_servers": SERVERS,
        "answered": len(latencies),
        "errors": len(result["errors"]),
        "p50_ms": round(float(np.percentile(latencies, 50)), 1) if latencies else None,
        "p95_ms": round(float(np.percentile(latencies, 95)), 1) if latencies else None,
        "max_ms": round(max(latencies), 1) if latencies else None,
        "wall_s": round(result["wall"], 1),
        "messages_per_s": round(len(latencies) / result["wall"], 1),
    }
    ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
    ARTIFACT.write_text(json.dumps(figures, indent=2) + "\n", "utf-8")
    with capsys.disabled():
        print(f"\nload: {json.dumps(figures)}")

    assert result["errors"] == [], result["errors"][:5]
    assert len(latencies) == USERS * MESSAGES
    unanswered = [text for text, replies in result["answers"]
                  if not any((reply.get("text") or "").strip() for reply in replies)]  # fmt: skip
    assert unanswered == [], "every message gets a non-empty answer"
    failed = [text for text, replies in result["answers"]
              if any(reply.get("text") in error_texts() for reply in replies)]  # fmt: skip
    assert failed == [], "no message was answered with the 'something went wrong' reply"
    stored = stored_user_events(stores["KOTOBOT_DB_URL"], prefix)
    assert stored == Counter(dict.fromkeys(senders, MESSAGES)), "every user message is stored"
