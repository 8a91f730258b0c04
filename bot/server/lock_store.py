"""Rasa's conversation locks in Redis when one is configured, else in memory.

Rasa handles the messages of one conversation one at a time, under a ticket lock from its lock
store. One Rasa process can keep the locks in memory; several Rasa servers (or Sanic workers)
sharing a tracker store must share the locks too, or two of them may handle the same
conversation at once and one's events overwrite the other's. endpoints.yml selects this class
(``lock_store: type: bot.server.lock_store.KotobotLockStore``) because it must work as committed,
and Rasa refuses a ``${VAR}`` that is not set:

- ``KOTOBOT_REDIS_URL``: ``redis://host:port/db`` (``rediss://`` for TLS); Rasa's RedisLockStore.
- ``KOTOBOT_REDIS_PASSWORD``: the password, kept out of the URL (optional).
- else Rasa's own keys under ``lock_store:`` (``url: redis-host``, ``port``, ``db``, ``password``),
  as Rasa's Helm chart writes them (deploy/helm/values.yml): Redis too.
- none of these: Rasa's InMemoryLockStore, correct for exactly one Rasa process.

Rasa lets ``SANIC_WORKERS`` above 1 through whenever a custom lock store is configured, so this
class refuses to start with in-memory locks and several workers instead of corrupting
conversations silently. A malformed URL or an unreachable Redis also stops the server at start,
rather than every message failing later; so does any bad ``KOTOBOT_*`` value (bot/core/settings.py),
also when Rasa is started without bot/server/serve.py (deploy/).

A ticket expires ``TICKET_LOCK_LIFETIME`` seconds (Rasa's variable, default 60) after it was
issued, so that a server that dies holding a lock does not block its conversation for ever. Rasa
3.6's waiting loop has a flaw there: a message whose own ticket expires while it waits is never
served (the emptied lock stays, and never names its ticket), so its request hangs until the
client gives up. That happens when a user resends right after the server handling their message
died: both tickets then expire within the same second. ``KotobotLockStore.lock`` gives such a
message a new ticket at the back of the queue instead.

Rasa's lock store also changes a lock by reading it, changing it and writing it back: two servers
issuing tickets for one conversation at the same moment can both read ticket 4 as the last one,
both take ticket 5 and handle their messages at the same time; one server's cleanup can likewise
write back a lock without the ticket another just took. In Redis every such change here is one
optimistic transaction (WATCH the key, write with MULTI/EXEC, start over if another server wrote
in between), so no change is lost.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from rasa.core.lock import TicketLock
from rasa.core.lock_store import (
    LOCK_LIFETIME,
    InMemoryLockStore,
    LockError,
    LockStore,
    RedisLockStore,
)
from rasa.core.utils import number_of_sanic_workers
from rasa.shared.exceptions import RasaException
from rasa.utils.endpoints import EndpointConfig

from bot.core.settings import DEFAULT_REDIS_PORT, SettingsError, get_settings, redis_options, secret

REDIS_URL_ENV = "KOTOBOT_REDIS_URL"

log = logging.getLogger(__name__)

T = TypeVar("T")
# What a change does to the stored lock: write this lock, delete it, or leave it as it is.
DELETE, UNCHANGED = object(), object()


class LockStoreConfigError(RasaException):
    """The lock store settings cannot work; the server must not start with them."""


def redis_settings(url: str, password: str | None = None) -> dict[str, Any]:
    """RedisLockStore's arguments from a ``redis://host:port/db`` URL (credentials, if any, as in
    any URL; better in ``KOTOBOT_REDIS_PASSWORD``): bot.core.settings.redis_options."""
    try:
        return redis_options(url, password)
    except ValueError as error:
        raise LockStoreConfigError(f"{REDIS_URL_ENV}: {error}") from None


def redis_settings_from(endpoint_config: EndpointConfig | None) -> dict[str, Any] | None:
    """RedisLockStore's arguments from the settings, else from Rasa's own ``lock_store`` keys
    (``url``, ``port``, ``db``, ``password``: what Rasa's Helm chart writes); None: no Redis."""
    options = dict(endpoint_config.kwargs) if endpoint_config else {}  # key_prefix, ...
    try:
        kotobot = get_settings()  # checks every setting: a bad one stops the server at start
    except SettingsError as error:
        raise LockStoreConfigError(str(error)) from None
    password = secret(kotobot.redis_password) or None
    if kotobot.redis_url:
        settings = redis_settings(kotobot.redis_url, password)
        return {**{k: v for k, v in options.items() if k not in settings}, **settings}
    if endpoint_config is None or not endpoint_config.url:
        return None
    settings = {**options, "host": endpoint_config.url}
    if password:
        settings["password"] = password
    return settings


def connect_redis(settings: dict[str, Any]) -> RedisLockStore:
    """Rasa's RedisLockStore, after a PING: a wrong address or password fails at start."""
    import redis

    store = RedisLockStore(**settings)
    try:
        store.red.ping()
    except redis.RedisError as error:
        # A built-in ConnectionError: LockStore.create reports it as "Cannot connect to lock store".
        raise ConnectionError(f"Redis lock store at {where(settings)}: {error}") from error
    return store


def where(settings: dict[str, Any]) -> str:
    """host:port/db, never the password."""
    port, db = settings.get("port", DEFAULT_REDIS_PORT), settings.get("db", 1)  # Rasa's defaults
    return f"{settings['host']}:{port}/{db}"


class KotobotLockStore(LockStore):
    """Delegates to Redis or in-memory locks, chosen from the settings when Rasa loads it."""

    def __init__(self, endpoint_config: EndpointConfig | None = None) -> None:
        if LOCK_LIFETIME <= 0:
            raise LockStoreConfigError("TICKET_LOCK_LIFETIME must be a positive number of seconds")
        settings = redis_settings_from(endpoint_config)
        if settings is not None:
            self.backend: LockStore = connect_redis(settings)
            log.info("lock store: Redis at %s", where(settings))
        else:
            workers = number_of_sanic_workers(endpoint_config or EndpointConfig(type="custom"))
            if workers > 1:
                message = (
                    f"SANIC_WORKERS={workers} needs shared locks: set {REDIS_URL_ENV} "
                    "(in-memory locks are per process; workers would handle one conversation "
                    "at the same time and lose events)"
                )
                log.error(message)
                raise LockStoreConfigError(message)
            self.backend = InMemoryLockStore()
            log.info("lock store: in memory (one Rasa process; set %s to share)", REDIS_URL_ENV)
        super().__init__()

    def get_lock(self, conversation_id: str) -> TicketLock | None:
        return self.backend.get_lock(conversation_id)

    def delete_lock(self, conversation_id: str) -> None:
        self.backend.delete_lock(conversation_id)

    def save_lock(self, lock: TicketLock) -> None:
        self.backend.save_lock(lock)

    def change_lock(
        self, conversation_id: str, change: Callable[[TicketLock | None], tuple[Any, T]]
    ) -> T:
        """Applies ``change`` (stored lock or None -> (new lock, DELETE or UNCHANGED; result)) as
        one atomic step, and returns its result. In Redis: WATCH, read, MULTI/EXEC, retried when
        another server changed the lock in between; in memory nothing can come in between (one
        event loop, no await inside)."""
        backend = self.backend
        if not isinstance(backend, RedisLockStore):
            outcome, result = change(backend.get_lock(conversation_id))
            if outcome is DELETE:
                backend.delete_lock(conversation_id)
            elif outcome is not UNCHANGED:
                backend.save_lock(outcome)
            return result
        import redis

        key = backend.key_prefix + conversation_id
        with backend.red.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(key)
                    stored = pipe.get(key)
                    lock = TicketLock.from_dict(json.loads(stored)) if stored else None
                    outcome, result = change(lock)
                    if outcome is UNCHANGED:
                        pipe.unwatch()
                        return result
                    pipe.multi()
                    if outcome is DELETE:
                        pipe.delete(key)
                    else:
                        pipe.set(key, outcome.dumps())
                    pipe.execute()
                    return result
                except redis.WatchError:
                    continue  # another server changed the lock: read it again

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        def take(lock: TicketLock | None) -> tuple[TicketLock, int]:
            lock = lock or self.create_lock(conversation_id)
            return lock, lock.issue_ticket(lock_lifetime)

        try:
            return self.change_lock(conversation_id, take)
        except Exception as error:  # as Rasa reports it, for its callers
            raise LockError(f"Error while acquiring lock. Error:\n{error}") from error

    def update_lock(self, conversation_id: str) -> None:
        def drop_expired(lock: TicketLock | None) -> tuple[Any, None]:
            if lock is None:
                return UNCHANGED, None
            lock.remove_expired_tickets()
            return lock, None

        self.change_lock(conversation_id, drop_expired)

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        """Gives back the ticket; deletes the lock when nobody else waits (in one step)."""

        def finish(lock: TicketLock | None) -> tuple[Any, None]:
            if lock is None:
                return UNCHANGED, None
            lock.remove_ticket_for(ticket_number)
            return (lock if lock.is_someone_waiting() else DELETE), None

        self.change_lock(conversation_id, finish)

    @asynccontextmanager
    async def lock(
        self,
        conversation_id: str,
        lock_lifetime: float = LOCK_LIFETIME,
        wait_time_in_seconds: float = 1,
    ) -> AsyncIterator[TicketLock]:
        """Rasa's ticket lock (LockStore.lock), except that a message whose ticket expired while
        it waited takes a new one instead of waiting for ever."""
        ticket = self.issue_ticket(conversation_id, lock_lifetime)
        try:
            while True:
                lock = self.get_lock(conversation_id)
                if lock is None or not holds_ticket(lock, ticket):
                    log.warning(
                        "conversation %s: a ticket expired while its message waited; "
                        "it waits again with a new ticket",
                        conversation_id,
                    )
                    ticket = self.issue_ticket(conversation_id, lock_lifetime)
                    continue
                if not lock.is_locked(ticket):
                    break
                await asyncio.sleep(wait_time_in_seconds)
                self.update_lock(conversation_id)  # drops expired tickets (a dead server's)
            yield lock
        finally:
            self.cleanup(conversation_id, ticket)


def holds_ticket(lock: TicketLock, number: int) -> bool:
    """Whether ``lock`` still has the unexpired ticket ``number``."""
    return any(ticket.number == number and not ticket.has_expired() for ticket in lock.tickets)
