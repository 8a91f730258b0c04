"""bot.core.httpclient against a real HTTP server on 127.0.0.1: timeouts, retries, ETags, the
breaker."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

import pytest

from bot.core.httpclient import CircuitBreaker
from tests.support.local_http import FakeClock, LocalApi, Reply, closed_port_url, fast_client


@pytest.fixture
def api() -> Iterator[LocalApi]:
    with LocalApi() as server:
        yield server


# ---------------------------------------------------------------- answers


def test_200_gives_parsed_json_and_etag(api: LocalApi) -> None:
    api.reply("/doc.json", Reply(200, {"a": 1, "text": "äö"}, etag='"v1"'))
    result = fast_client().get_json(f"{api.url}/doc.json")
    assert result.ok and result.error is None
    assert (result.status, result.data, result.etag, result.attempts) == (
        200,
        {"a": 1, "text": "äö"},
        '"v1"',
        1,
    )
    assert api.headers_of_last("/doc.json")["Accept"] == "application/json"


def test_304_when_the_etag_still_matches(api: LocalApi) -> None:
    api.reply("/doc.json", Reply(200, {"a": 1}, etag='"v1"'))
    result = fast_client().get_json(f"{api.url}/doc.json", etag='"v1"')
    assert result.not_modified and not result.ok
    assert (result.status, result.data, result.etag, result.error) == (304, None, '"v1"', None)
    assert api.headers_of_last("/doc.json")["If-None-Match"] == '"v1"'


def test_404_is_an_error_result_and_never_retried(api: LocalApi) -> None:
    client = fast_client()
    result = client.get_json(f"{api.url}/missing.json")
    assert (result.status, result.error, result.data, result.attempts) == (404, "HTTP 404", None, 1)
    assert api.hits("/missing.json") == 1
    assert client.breaker.state == "closed"


def test_500_is_retried_and_a_later_success_counts(api: LocalApi) -> None:
    api.reply("/doc.json", Reply(500), Reply(200, {"ok": True}))
    result = fast_client().get_json(f"{api.url}/doc.json")
    assert result.ok and result.data == {"ok": True} and result.attempts == 2
    assert api.hits("/doc.json") == 2


def test_retries_are_bounded(api: LocalApi) -> None:
    api.reply("/doc.json", Reply(503))
    result = fast_client(retries=3).get_json(f"{api.url}/doc.json")
    assert (result.status, result.error, result.attempts) == (503, "HTTP 503", 4)
    assert api.hits("/doc.json") == 4


def test_timeout_is_retried_within_the_deadline(api: LocalApi) -> None:
    api.reply("/slow.json", Reply(200, {"late": True}, delay=5))
    start = time.monotonic()
    result = fast_client(read_timeout=0.3, deadline=1.0).get_json(f"{api.url}/slow.json")
    elapsed = time.monotonic() - start
    assert result.status is None and "timeout" in (result.error or "")
    assert api.hits("/slow.json") >= 2  # retried
    assert elapsed < 1.3


def test_a_trickling_body_cannot_outlast_the_deadline(api: LocalApi) -> None:
    """Each byte arrives well within the read timeout, so only the overall deadline stops it."""
    api.reply("/trickle.json", Reply(200, {"x": "y" * 100}, trickle=0.05))
    start = time.monotonic()
    result = fast_client(read_timeout=1.0, deadline=0.8).get_json(f"{api.url}/trickle.json")
    elapsed = time.monotonic() - start
    assert not result.ok and "timeout" in (result.error or "")
    assert elapsed < 1.2  # the whole body would take over 5 s


def test_malformed_json_is_an_error_and_not_retried(api: LocalApi) -> None:
    api.reply("/bad.json", Reply(200, b'{"not": json'))
    client = fast_client()
    result = client.get_json(f"{api.url}/bad.json")
    assert result.status == 200 and result.data is None
    assert (result.error or "").startswith("malformed JSON")
    assert api.hits("/bad.json") == 1
    assert client.breaker.state == "closed"


def test_connection_refused_is_retried_and_fast() -> None:
    start = time.monotonic()
    result = fast_client().get_json(f"{closed_port_url()}/doc.json")
    assert (result.status, result.error, result.attempts) == (None, "connection refused", 3)
    assert time.monotonic() - start < 1.0


def test_a_dropped_connection_is_retried(api: LocalApi) -> None:
    api.reply("/doc.json", Reply(drop=True), Reply(200, {"ok": True}))
    result = fast_client().get_json(f"{api.url}/doc.json")
    assert result.ok and result.attempts == 2


def test_backoff_doubles_between_attempts() -> None:
    delays: list[float] = []
    client = fast_client(retries=3, backoff=0.1, deadline=2.5, sleep=delays.append)
    result = client.get_json(f"{closed_port_url()}/doc.json")
    assert result.attempts == 4
    assert delays == pytest.approx([0.1, 0.2, 0.4])


def test_backoff_stops_at_the_deadline() -> None:
    start = time.monotonic()
    result = fast_client(retries=10, backoff=0.2, deadline=0.5).get_json(
        f"{closed_port_url()}/doc.json"
    )
    assert result.attempts < 11
    assert time.monotonic() - start < 0.7


def test_a_call_can_ask_for_a_shorter_deadline(api: LocalApi) -> None:
    api.reply("/slow.json", Reply(200, {}, delay=5))
    start = time.monotonic()
    result = fast_client(read_timeout=3, deadline=2.5).get_json(
        f"{api.url}/slow.json", deadline=0.3
    )
    assert not result.ok and time.monotonic() - start < 0.8


def test_an_oversized_body_is_refused(api: LocalApi) -> None:
    api.reply("/big.json", Reply(200, {"x": "y" * 1000}))
    result = fast_client(max_bytes=100).get_json(f"{api.url}/big.json")
    assert not result.ok and "larger than 100 bytes" in (result.error or "")
    assert api.hits("/big.json") == 1


@pytest.mark.parametrize("url", ["not a url", "http://", "ftp://127.0.0.1/x"])
def test_bad_urls_give_an_error_result(url: str) -> None:
    result = fast_client().get_json(url)
    assert result.status is None and result.error and not result.ok


def test_failures_are_logged(api: LocalApi, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="bot.core.httpclient"):
        fast_client(name="test-api").get_json(f"{api.url}/missing.json")
    assert "test-api: GET" in caplog.text and "HTTP 404" in caplog.text


# ---------------------------------------------------------------- circuit breaker


def test_breaker_opens_after_consecutive_failures_and_lets_one_trial_through() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(threshold=2, cooldown=30, clock=clock)
    assert breaker.allow()
    assert breaker.record_failure() is False
    assert breaker.record_failure() is True
    assert breaker.state == "open" and not breaker.allow()
    clock.advance(29)
    assert not breaker.allow()
    clock.advance(2)
    assert breaker.state == "half-open"
    assert breaker.allow()  # the trial call
    assert not breaker.allow()  # nobody else while it runs
    breaker.record_success()
    assert breaker.state == "closed" and breaker.allow()


def test_a_failed_trial_reopens_the_breaker() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(threshold=1, cooldown=10, clock=clock)
    breaker.record_failure()
    clock.advance(11)
    assert breaker.allow()
    breaker.record_failure()
    assert breaker.state == "open" and not breaker.allow()


def test_success_resets_the_failure_count() -> None:
    breaker = CircuitBreaker(threshold=2)
    breaker.record_failure()
    breaker.record_success()
    breaker.record_failure()
    assert breaker.state == "closed"


def test_open_breaker_skips_calls_until_the_cool_down_ends(api: LocalApi) -> None:
    clock = FakeClock()
    client = fast_client(retries=0, breaker=CircuitBreaker(threshold=2, cooldown=30, clock=clock))
    api.reply("/doc.json", Reply(500), Reply(500), Reply(200, {"back": True}))
    url = f"{api.url}/doc.json"
    assert client.get_json(url).status == 500
    assert client.get_json(url).status == 500
    skipped = client.get_json(url)
    assert (skipped.error, skipped.attempts, api.hits("/doc.json")) == ("circuit open", 0, 2)
    clock.advance(31)
    result = client.get_json(url)
    assert result.ok and result.data == {"back": True}
    assert client.breaker.state == "closed"


def test_4xx_answers_do_not_open_the_breaker(api: LocalApi) -> None:
    client = fast_client(breaker=CircuitBreaker(threshold=2))
    for _ in range(4):
        assert client.get_json(f"{api.url}/missing.json").status == 404
    assert client.breaker.state == "closed" and api.hits("/missing.json") == 4
