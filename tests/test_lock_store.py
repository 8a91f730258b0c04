"""bot.server.lock_store: Redis locks when KOTOBOT_REDIS_URL is set (tested against the real Redis
that CI starts, scripts/start-redis.sh), in-memory locks otherwise, and no in-memory locks with
several Sanic workers."""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
import uuid
from urllib.parse import urlsplit

import pytest
import redis
from rasa.core.lock import TicketLock
from rasa.core.lock_store import InMemoryLockStore, LockStore, RedisLockStore
from rasa.shared.exceptions import ConnectionException
from rasa.utils.endpoints import EndpointConfig, read_endpoint_config

from bot.server.lock_store import KotobotLockStore, LockStoreConfigError, redis_settings
from bot.tools.harness import BIN, free_port
from tests.support.paths import MODEL, ROOT
from tests.support.stores import redis_url


@pytest.fixture(autouse=True)
def no_lock_settings(monkeypatch):
    for name in ("KOTOBOT_REDIS_URL", "KOTOBOT_REDIS_PASSWORD", "SANIC_WORKERS", "REDIS_HOST"):
        monkeypatch.delenv(name, raising=False)


def committed_lock_store() -> LockStore:
    """The lock store exactly as Rasa builds it from endpoints.yml."""
    return LockStore.create(read_endpoint_config(str(ROOT / "endpoints.yml"), "lock_store"))


def with_db(url: str, db: int) -> str:
    return url.rsplit("/", 1)[0] + f"/{db}"


async def overlapping(first: LockStore, second: LockStore, conversation: str) -> list[str]:
    """Two message handlers for one conversation, on ``first`` and ``second``: the order in which
    they entered and left the lock."""
    order: list[str] = []

    async def handle(name: str, store: LockStore, delay: float) -> None:
        await asyncio.sleep(delay)
        async with store.lock(conversation, lock_lifetime=30, wait_time_in_seconds=0.05):
            order.append(f"{name} in")
            await asyncio.sleep(0.3)
            order.append(f"{name} out")

    await asyncio.gather(handle("a", first, 0), handle("b", second, 0.1))
    return order


def test_endpoints_yml_as_committed_gives_in_memory_locks():
    store = committed_lock_store()
    assert isinstance(store, KotobotLockStore)
    assert isinstance(store.backend, InMemoryLockStore)


def test_in_memory_locks_handle_one_message_of_a_conversation_at_a_time():
    store = committed_lock_store()
    conversation = f"lock-{uuid.uuid4().hex[:8]}"
    order = asyncio.run(overlapping(store, store, conversation))
    assert order == ["a in", "a out", "b in", "b out"]
    assert store.get_lock(conversation) is None, "the lock is gone once nobody waits"


async def retry_after_a_dead_holder(store: LockStore, conversation: str) -> str:
    """A server died holding the lock; the user resends at once, so the dead ticket and the new
    one expire within the same wait (lifetimes shortened from Rasa's 60 s)."""
    store.issue_ticket(conversation, lock_lifetime=0.5)  # never released
    async with store.lock(conversation, lock_lifetime=0.5, wait_time_in_seconds=0.4):
        return "handled"


@pytest.mark.parametrize("backend", ["memory", "redis"])
def test_a_message_whose_ticket_expired_while_waiting_is_still_handled(monkeypatch, backend):
    if backend == "redis":
        monkeypatch.setenv("KOTOBOT_REDIS_URL", redis_url())
    store = committed_lock_store()
    conversation = f"lock-{uuid.uuid4().hex[:8]}"
    handled = asyncio.run(asyncio.wait_for(retry_after_a_dead_holder(store, conversation), 5))
    assert handled == "handled"
    assert store.get_lock(conversation) is None, "and leaves no ticket behind"


def test_rasas_own_lock_hangs_there():
    """Why KotobotLockStore.lock exists: Rasa 3.6's waits for ever. If this fails after a Rasa
    upgrade, the upgrade fixed it and the override can go."""
    with pytest.raises(asyncio.TimeoutError):
        asyncio.run(asyncio.wait_for(retry_after_a_dead_holder(InMemoryLockStore(), "x"), 3))


@pytest.mark.parametrize("workers", ["2", "4"])
def test_in_memory_locks_refuse_several_sanic_workers(monkeypatch, workers):
    monkeypatch.setenv("SANIC_WORKERS", workers)
    with pytest.raises(LockStoreConfigError, match="KOTOBOT_REDIS_URL"):
        committed_lock_store()
    monkeypatch.setenv("SANIC_WORKERS", "1")
    assert isinstance(committed_lock_store().backend, InMemoryLockStore)


@pytest.mark.e2e
def test_rasa_with_several_workers_and_no_redis_stops_and_says_why(tmp_path):
    """Rasa itself allows SANIC_WORKERS > 1 with any custom lock store; ours stops it."""
    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: run `make train` first")
    env = {**os.environ, "SANIC_WORKERS": "2", "RASA_TELEMETRY_ENABLED": "false",
           "KOTOBOT_DB_URL": f"sqlite:///{tmp_path / 'tracker.sqlite3'}"}  # fmt: skip
    port = free_port()
    with open(tmp_path / "rasa.log", "w") as log:
        rasa = subprocess.Popen(
            [str(BIN / "rasa"), "run", "--model", str(MODEL), "--port", str(port),
             "--interface", "127.0.0.1", "--endpoints", str(ROOT / "endpoints.yml"),
             "--credentials", str(ROOT / "credentials.yml")],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            rasa.wait(timeout=180)
        except subprocess.TimeoutExpired:
            rasa.kill()
            rasa.wait()
            pytest.fail("Rasa kept running with in-memory locks and 2 Sanic workers")
    output = (tmp_path / "rasa.log").read_text("utf-8")
    assert "SANIC_WORKERS=2 needs shared locks: set KOTOBOT_REDIS_URL" in output
    assert "Rasa server is up and running" not in output


@pytest.mark.parametrize(
    "url, expected",
    [
        ("redis://127.0.0.1:56379/0", ("127.0.0.1", 56379, 0, None, None, False)),
        ("redis://redis", ("redis", 6379, 0, None, None, False)),
        ("rediss://kotobot:s%40cret@cache.example:6380/2",
         ("cache.example", 6380, 2, "kotobot", "s@cret", True)),
    ],
)  # fmt: skip
def test_redis_urls(url, expected):
    settings = redis_settings(url)
    keys = ("host", "port", "db", "username", "password", "use_ssl")
    assert tuple(settings[key] for key in keys) == expected
    assert redis_settings(url, password="from-env")["password"] == "from-env"


@pytest.mark.parametrize(
    "url", ["http://redis:6379/0", "redis://", "redis://redis:port/0", "redis://redis/zero",
            "redis://redis:6379/0?ssl=1", "127.0.0.1:6379"],
)  # fmt: skip
def test_malformed_redis_urls_stop_the_server(monkeypatch, url):
    monkeypatch.setenv("KOTOBOT_REDIS_URL", url)
    with pytest.raises(LockStoreConfigError):
        committed_lock_store()


def test_unreachable_redis_stops_the_server_at_start(monkeypatch):
    monkeypatch.setenv("KOTOBOT_REDIS_URL", f"redis://127.0.0.1:{free_port()}/0")
    start = time.monotonic()
    with pytest.raises(ConnectionException):
        committed_lock_store()
    assert time.monotonic() - start < 15


def test_redis_locks_are_shared_between_servers(monkeypatch):
    """Two lock stores (two Rasa servers) on one Redis: a conversation is handled by one at a
    time, and the lock lives in Redis under Rasa's key while it is held."""
    url = with_db(redis_url(), 1)
    monkeypatch.setenv("KOTOBOT_REDIS_URL", url)
    server_a, server_b = committed_lock_store(), committed_lock_store()
    assert isinstance(server_a.backend, RedisLockStore)
    conversation = f"lock-{uuid.uuid4().hex[:8]}"
    direct = redis.Redis.from_url(url)
    other_db = redis.Redis.from_url(with_db(url, 2))
    seen: list[bool] = []

    async def watch() -> None:
        for _ in range(10):
            seen.append(bool(direct.exists(f"lock:{conversation}")))
            await asyncio.sleep(0.05)

    async def both() -> list[str]:
        order, _ = await asyncio.gather(overlapping(server_a, server_b, conversation), watch())
        return order

    try:
        assert asyncio.run(both()) == ["a in", "a out", "b in", "b out"]
        assert any(seen), "the lock was in Redis while held"
        assert not other_db.exists(f"lock:{conversation}"), "in the database of the URL"
        assert not direct.exists(f"lock:{conversation}"), "and gone once released"
    finally:
        direct.close()
        other_db.close()


def test_redis_password_from_the_environment(monkeypatch):
    url = redis_url()
    admin = redis.Redis.from_url(url)
    user, password = f"kotobot{uuid.uuid4().hex[:6]}", uuid.uuid4().hex
    admin.acl_setuser(user, enabled=True, passwords=[f"+{password}"], keys=["*"],
                      commands=["+@all"])  # fmt: skip
    try:
        monkeypatch.setenv("KOTOBOT_REDIS_URL", url.replace("://", f"://{user}@"))
        monkeypatch.setenv("KOTOBOT_REDIS_PASSWORD", password)
        store = committed_lock_store()
        lock = store.create_lock("password-test")
        store.save_lock(lock)
        assert admin.exists("lock:password-test")
        store.delete_lock("password-test")
        monkeypatch.setenv("KOTOBOT_REDIS_PASSWORD", "wrong")
        with pytest.raises(ConnectionException):
            committed_lock_store()
    finally:
        admin.acl_deluser(user)
        admin.close()


def test_rasas_own_lock_store_keys_as_the_helm_chart_writes_them(tmp_path, monkeypatch):
    """No KOTOBOT_REDIS_URL, but ``url``/``port``/``db`` under ``lock_store:`` with ${VARS}, as
    Rasa's Helm chart renders endpoints.yml (deploy/helm/values.yml)."""
    parts = urlsplit(redis_url())
    monkeypatch.setenv("REDIS_HOST", parts.hostname or "")
    monkeypatch.setenv("REDIS_PORT", str(parts.port))
    endpoints = tmp_path / "endpoints.yml"
    endpoints.write_text(
        "lock_store:\n  type: bot.server.lock_store.KotobotLockStore\n"
        '  url: ${REDIS_HOST}\n  port: ${REDIS_PORT}\n  db: "3"\n',
        "utf-8",
    )
    store = LockStore.create(read_endpoint_config(str(endpoints), "lock_store"))
    assert isinstance(store.backend, RedisLockStore)
    conversation = f"lock-{uuid.uuid4().hex[:8]}"
    store.save_lock(store.create_lock(conversation))
    direct = redis.Redis.from_url(with_db(redis_url(), 3))
    try:
        assert direct.exists(f"lock:{conversation}")
    finally:
        store.delete_lock(conversation)
        direct.close()


def test_endpoint_options_reach_redis(monkeypatch):
    """Options under ``lock_store:`` in endpoints.yml (e.g. a key prefix) are Rasa's own."""
    monkeypatch.setenv("KOTOBOT_REDIS_URL", redis_url())
    config = EndpointConfig(type="bot.server.lock_store.KotobotLockStore", key_prefix="kotobot")
    store = LockStore.create(config)
    assert store.backend.key_prefix == "kotobot:lock:"


def redis_stores(monkeypatch, count: int) -> list[KotobotLockStore]:
    """``count`` lock stores as ``count`` Rasa servers build them, on the throw-away Redis."""
    monkeypatch.setenv("KOTOBOT_REDIS_URL", with_db(redis_url(), 1))
    return [committed_lock_store() for _ in range(count)]


def interleaving(monkeypatch, other: LockStore) -> None:
    """The next ticket taken anywhere first lets ``other`` take one for the same conversation:
    a second server getting in between the first one's read and write."""
    original = TicketLock.issue_ticket
    armed = [True]

    def issue(lock: TicketLock, lifetime: float) -> int:
        if armed.pop() if armed else False:
            other.issue_ticket(lock.conversation_id, 30)
        return original(lock, lifetime)

    monkeypatch.setattr(TicketLock, "issue_ticket", issue)


def test_rasas_redis_lock_store_gives_one_ticket_twice(monkeypatch):
    """Pins the flaw KotobotLockStore removes (read, change, write back): when Rasa fixes it, the
    transaction in bot/server/lock_store.py may go."""
    settings = redis_settings(with_db(redis_url(), 1))
    first, second = RedisLockStore(**settings), RedisLockStore(**settings)
    conversation = f"race-{uuid.uuid4().hex[:8]}"
    interleaving(monkeypatch, second)
    try:
        mine = first.issue_ticket(conversation, 30)
        assert [ticket.number for ticket in first.get_lock(conversation).tickets] == [mine]
        assert mine == 0, "the other server's ticket 0 was overwritten and given again"
    finally:
        first.delete_lock(conversation)


def test_a_ticket_taken_meanwhile_by_another_server_is_not_given_twice(monkeypatch):
    first, second = redis_stores(monkeypatch, 2)
    conversation = f"race-{uuid.uuid4().hex[:8]}"
    interleaving(monkeypatch, second)
    try:
        mine = first.issue_ticket(conversation, 30)
        numbers = [ticket.number for ticket in first.get_lock(conversation).tickets]
        assert mine == 1 and numbers == [0, 1], "the other's ticket 0 kept, ours is the next"
    finally:
        first.delete_lock(conversation)


def test_concurrent_tickets_and_cleanups_from_two_servers_lose_nothing(monkeypatch):
    """8 threads on 2 servers take 25 tickets each for one conversation, then give them back."""
    from concurrent.futures import ThreadPoolExecutor

    stores = redis_stores(monkeypatch, 2)
    conversation = f"race-{uuid.uuid4().hex[:8]}"
    direct = redis.Redis.from_url(with_db(redis_url(), 1))

    def take(worker: int) -> list[tuple[int, int]]:
        store = stores[worker % 2]
        return [(worker, store.issue_ticket(conversation, 60)) for _ in range(25)]

    def give_back(pairs: list[tuple[int, int]]) -> None:
        for worker, number in pairs:
            stores[worker % 2].cleanup(conversation, number)

    try:
        with ThreadPoolExecutor(8) as pool:
            taken = [pair for pairs in pool.map(take, range(8)) for pair in pairs]
        numbers = sorted(number for _, number in taken)
        assert numbers == list(range(200)), "every ticket once"
        stored = stores[0].get_lock(conversation)
        assert sorted(ticket.number for ticket in stored.tickets) == numbers, "none overwritten"
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(give_back, [taken[i::8] for i in range(8)]))
        assert not direct.exists(f"lock:{conversation}"), "the lock goes with the last ticket"
    finally:
        direct.delete(f"lock:{conversation}")
        direct.close()
