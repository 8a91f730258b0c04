"""The one place that makes outgoing HTTP calls: timeouts, retries, a deadline, ETags, a breaker.

Every remote source (the content API, the Service Catalogue) goes through ``HttpClient.get_json``
so that a slow or broken service costs a user at most one bounded wait, never an exception: the
bot must answer within 3 seconds from a cache or the bundled copy instead (issue #4).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import requests

log = logging.getLogger(__name__)

Clock = Callable[[], float]

USER_AGENT = "Kotobot/0.1 (+https://github.com/kotobot)"


@dataclass(frozen=True)
class HttpResult:
    """What a call produced. ``error`` is None only for a usable answer (2xx JSON or 304)."""

    status: int | None  # None when no HTTP response arrived (refused, timeout, circuit open)
    data: Any = None  # the parsed JSON body of a 2xx answer
    etag: str | None = None
    error: str | None = None
    attempts: int = 0
    elapsed: float = 0.0

    @property
    def ok(self) -> bool:
        """A 2xx answer with a JSON body."""
        return self.error is None and self.status is not None and 200 <= self.status < 300

    @property
    def not_modified(self) -> bool:
        """304: the copy the caller holds under ``etag`` is still current."""
        return self.error is None and self.status == 304


class CircuitBreaker:
    """Stops calling a service that keeps failing, so that each user does not wait for a timeout.

    Closed: calls go through. After ``threshold`` consecutive failures it opens: calls are skipped
    for ``cooldown`` seconds. Then one trial call is let through (half-open); its success closes
    the breaker, its failure opens it for another cool-down.
    """

    def __init__(
        self, threshold: int = 3, cooldown: float = 30.0, clock: Clock = time.monotonic
    ) -> None:
        self.threshold = max(1, threshold)
        self.cooldown = cooldown
        self._clock = clock
        self._lock = threading.Lock()
        self._failures = 0
        self._opened_at: float | None = None
        self._trial_running = False

    @property
    def state(self) -> str:
        """``closed``, ``open`` (skipping calls) or ``half-open`` (one trial allowed)."""
        with self._lock:
            if self._opened_at is None:
                return "closed"
            if self._clock() - self._opened_at < self.cooldown:
                return "open"
            return "half-open"

    def allow(self) -> bool:
        """Whether a call may go out now (claims the single trial call when half-open)."""
        with self._lock:
            if self._opened_at is None:
                return True
            if self._clock() - self._opened_at < self.cooldown or self._trial_running:
                return False
            self._trial_running = True
            return True

    def record_success(self) -> None:
        with self._lock:
            self._failures = 0
            self._opened_at = None
            self._trial_running = False

    def record_failure(self) -> bool:
        """Counts a failure; True when this failure (re)opened the breaker."""
        with self._lock:
            self._failures += 1
            self._trial_running = False
            if self._opened_at is not None or self._failures >= self.threshold:
                self._opened_at = self._clock()
                return True
            return False


class _Retryable(Exception):
    """An attempt failed in a way another attempt might fix (network, timeout, 5xx)."""


class _Final(Exception):
    """An attempt failed in a way retrying cannot fix (bad URL, body too large)."""


@dataclass
class _Attempt:
    """One attempt's outcome, filled in by the worker thread."""

    status: int | None = None
    body: bytes = b""
    etag: str | None = None
    failure: Exception | None = None


class HttpClient:
    """GETs JSON with bounded time and no exceptions, over one ``requests.Session``.

    - ``connect_timeout`` / ``read_timeout`` bound each socket operation of an attempt;
    - ``deadline`` bounds the whole call, retries and backoff included. requests' timeouts alone
      cannot do that (a server that trickles a byte a second never trips a read timeout), so each
      attempt runs in a worker thread that the caller stops waiting for at the deadline;
    - connection errors, timeouts and 5xx are retried up to ``retries`` times with exponential
      backoff (``backoff``, 2x, 4x ... seconds); 4xx and malformed JSON are not: they will not
      change on a second try;
    - the breaker counts calls that got no usable HTTP answer (network, timeout, 5xx); a 4xx or
      malformed body proves the service is up and does not trip it.

    The session is shared by worker threads; only plain GETs are made, which requests' connection
    pool handles concurrently.
    """

    def __init__(
        self,
        *,
        connect_timeout: float = 2.0,
        read_timeout: float = 3.0,
        deadline: float = 2.5,
        retries: int = 2,
        backoff: float = 0.1,
        max_bytes: int = 5_000_000,
        breaker: CircuitBreaker | None = None,
        session: requests.Session | None = None,
        name: str = "http",
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.deadline = deadline
        self.retries = max(0, retries)
        self.backoff = backoff
        self.max_bytes = max_bytes
        self.breaker = breaker if breaker is not None else CircuitBreaker()
        self.session = session or requests.Session()
        self.session.headers.update({"User-Agent": USER_AGENT, "Accept": "application/json"})
        self.name = name
        self._sleep = sleep

    def get_json(
        self,
        url: str,
        *,
        etag: str | None = None,
        params: Mapping[str, str | int] | None = None,
        deadline: float | None = None,
    ) -> HttpResult:
        """GET ``url`` and parse its JSON (``If-None-Match: etag`` when given). Never raises."""
        start = time.monotonic()
        budget = self.deadline if deadline is None else min(deadline, self.deadline)
        if budget <= 0:  # the caller's time is up; not the service's fault
            return HttpResult(status=None, error="no time left")
        if not self.breaker.allow():
            log.debug("%s: circuit open, skipping GET %s", self.name, url)
            return HttpResult(status=None, error="circuit open")
        headers = {"If-None-Match": etag} if etag else {}
        end = start + budget
        attempts = 0
        error = "deadline exceeded"
        status: int | None = None
        while True:
            remaining = end - time.monotonic()
            if remaining <= 0:
                break
            attempts += 1
            outcome = self._attempt(url, headers, params, remaining)
            status = outcome.status
            failure = outcome.failure
            if failure is None:
                return self._finish(url, outcome, attempts, start)
            error = str(failure)
            if isinstance(failure, _Final) or attempts > self.retries:
                break
            delay = self.backoff * 2 ** (attempts - 1)
            if time.monotonic() + delay >= end:
                break
            self._sleep(delay)
        # A status below 500 (4xx, an oversized 200) shows the service is up: no breaker count.
        counts = status is None or status >= 500
        return self._failed(url, HttpResult(status, error=error, attempts=attempts), start, counts)

    def _finish(self, url: str, outcome: _Attempt, attempts: int, start: float) -> HttpResult:
        """Turns a completed exchange into a result (304, JSON, 4xx or malformed body)."""
        status = outcome.status or 0
        if status == 304:
            self.breaker.record_success()
            elapsed = time.monotonic() - start
            return HttpResult(304, etag=outcome.etag, attempts=attempts, elapsed=elapsed)
        if not 200 <= status < 300:
            result = HttpResult(status, error=f"HTTP {status}", attempts=attempts)
            return self._failed(url, result, start, counts=False)
        try:
            data = json.loads(outcome.body)
        except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError
            result = HttpResult(status, error=f"malformed JSON: {exc}", attempts=attempts)
            return self._failed(url, result, start, counts=False)
        self.breaker.record_success()
        elapsed = time.monotonic() - start
        return HttpResult(status, data, outcome.etag, attempts=attempts, elapsed=elapsed)

    def _failed(self, url: str, result: HttpResult, start: float, counts: bool) -> HttpResult:
        """Logs a failed call, feeds the breaker, and stamps the elapsed time."""
        elapsed = time.monotonic() - start
        log.warning(
            "%s: GET %s failed after %d attempt(s) in %.2fs: %s",
            self.name,
            url,
            result.attempts,
            elapsed,
            result.error,
        )
        if counts and self.breaker.record_failure():
            log.warning(
                "%s: circuit opened after repeated failures; skipping calls for %.0fs",
                self.name,
                self.breaker.cooldown,
            )
        elif not counts:
            self.breaker.record_success()
        return HttpResult(result.status, None, result.etag, result.error, result.attempts, elapsed)

    def _attempt(
        self,
        url: str,
        headers: dict[str, str],
        params: Mapping[str, str | int] | None,
        remaining: float,
    ) -> _Attempt:
        """Runs one exchange in a worker thread and waits for it at most ``remaining`` seconds."""
        outcome = _Attempt()
        done = threading.Event()
        cancelled = threading.Event()
        timeouts = (min(self.connect_timeout, remaining), min(self.read_timeout, remaining))

        def work() -> None:
            try:
                self._exchange(url, headers, params, timeouts, cancelled, outcome)
            except Exception as exc:  # anything here must become a result, never an exception
                outcome.failure = exc
            finally:
                done.set()

        threading.Thread(target=work, name=f"{self.name}-get", daemon=True).start()
        if not done.wait(remaining):
            cancelled.set()  # the worker drops the response at its next chunk or timeout
            reason = f"timeout: no complete answer within {remaining:.2f}s"
            return _Attempt(failure=_Retryable(reason))
        failure = outcome.failure
        if failure is not None and not isinstance(failure, (_Retryable, _Final)):
            outcome.failure = _Final(f"{type(failure).__name__}: {failure}")
        return outcome

    def _exchange(
        self,
        url: str,
        headers: dict[str, str],
        params: Mapping[str, str | int] | None,
        timeouts: tuple[float, float],
        cancelled: threading.Event,
        outcome: _Attempt,
    ) -> None:
        """Sends the request and reads the body in chunks, giving up when the caller has."""
        try:
            response = self.session.get(
                url, headers=headers, params=params, timeout=timeouts, stream=True
            )
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise _Retryable(_describe(exc)) from exc
        except requests.RequestException as exc:
            raise _Final(_describe(exc)) from exc
        with response:
            outcome.status = response.status_code
            outcome.etag = response.headers.get("ETag")
            if response.status_code >= 500:
                raise _Retryable(f"HTTP {response.status_code}")
            if not 200 <= response.status_code < 300:
                return  # 304 and 4xx have no body worth reading
            chunks: list[bytes] = []
            size = 0
            try:
                for chunk in response.iter_content(chunk_size=65536):
                    if cancelled.is_set():
                        return
                    size += len(chunk)
                    if size > self.max_bytes:
                        raise _Final(f"response larger than {self.max_bytes} bytes")
                    chunks.append(chunk)
            except requests.RequestException as exc:  # broken or stalled mid-body
                raise _Retryable(_describe(exc)) from exc
            outcome.body = b"".join(chunks)


def _describe(exc: Exception) -> str:
    """A one-line reason for logs: the exception type and its innermost message."""
    if isinstance(exc, requests.Timeout):
        return f"timeout ({type(exc).__name__})"
    if isinstance(exc, requests.ConnectionError):
        reason = str(exc.args[0]) if exc.args else str(exc)
        if "refused" in reason.lower():
            return "connection refused"
        return f"connection error: {reason[:200]}"
    return f"{type(exc).__name__}: {str(exc)[:200]}"
