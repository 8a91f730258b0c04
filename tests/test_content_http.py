"""The http content source and the export, against a real HTTP server on 127.0.0.1.

Every failure of the content API (down, slow, 404, 500, malformed, invalid, circuit open) must give
the last good copy or the bundled one, within 3 seconds (issue #4).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.content import sources
from bot.content.export import main as export_main
from bot.content.files import FilesContentSource
from bot.content.http import (
    HttpContentSource,
    InvalidDocument,
    document_path,
    document_to_topic,
    topic_to_document,
)
from bot.content.model import TopicContent
from bot.content.ptv import DEFAULT_BASE_URL as PTV_DEFAULT_URL
from bot.core.httpclient import CircuitBreaker, HttpClient
from bot.core.paths import data_path
from bot.core.settings import SettingsError
from bot.core.taxonomy import taxonomy
from tests.support.local_http import FakeClock, LocalApi, Reply, closed_port_url, fast_client
from tests.support.paths import ROOT

TOPIC, LANGUAGE = "integration_plan", "fi"
PATH = "/" + document_path(TOPIC, LANGUAGE)

BUNDLE = FilesContentSource()


def bundled(topic: str = TOPIC, language: str = LANGUAGE) -> TopicContent:
    content = BUNDLE.topic(topic, language)
    assert content is not None
    return content


def api_document(**changes: Any) -> dict[str, Any]:
    """The bundled document for TOPIC/LANGUAGE with some fields changed (to tell copies apart)."""
    return {**topic_to_document(bundled()), **changes}


class NoFallback:
    """A fallback that fails the test when used: the answer must come from the API."""

    name = "none"

    def topic(self, topic: str, language: str) -> TopicContent | None:
        raise AssertionError(f"fell back for {topic}/{language}")


def make_source(base_url: str, clock: FakeClock | None = None, **client: Any) -> HttpContentSource:
    return HttpContentSource(base_url, client=fast_client(**client), clock=clock or FakeClock())


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("content-api")
    assert export_main(["--out", str(out)]) == 0
    return out


@pytest.fixture
def api() -> Iterator[LocalApi]:
    with LocalApi() as server:
        yield server


@pytest.fixture
def cdn(exported: Path) -> Iterator[LocalApi]:
    """The exported tree served like a static web server (ETag, 304)."""
    with LocalApi(root=exported) as server:
        yield server


# ---------------------------------------------------------------- answers and caching


def test_200_document_becomes_topic_content(cdn: LocalApi) -> None:
    source = HttpContentSource(cdn.url, client=fast_client(), fallback=NoFallback())
    assert source.topic(TOPIC, LANGUAGE) == bundled()
    assert cdn.hits(PATH) == 1


def test_a_fresh_copy_is_served_from_memory(cdn: LocalApi) -> None:
    source = make_source(cdn.url)
    first = source.topic(TOPIC, LANGUAGE)
    assert source.topic(TOPIC, LANGUAGE) == first
    assert cdn.hits(PATH) == 1


def test_after_the_ttl_the_copy_is_revalidated_with_its_etag(cdn: LocalApi) -> None:
    clock = FakeClock()
    source = make_source(cdn.url, clock)
    first = source.topic(TOPIC, LANGUAGE)
    etag = source._cache[source.url(TOPIC, LANGUAGE)].etag
    clock.advance(301)
    assert source.topic(TOPIC, LANGUAGE) == first
    assert cdn.hits(PATH) == 2
    assert cdn.headers_of_last(PATH)["If-None-Match"] == etag  # answered 304
    clock.advance(299)
    source.topic(TOPIC, LANGUAGE)
    assert cdn.hits(PATH) == 2  # the 304 renewed the TTL


def test_after_the_ttl_a_changed_document_replaces_the_copy(api: LocalApi) -> None:
    clock = FakeClock()
    api.reply(
        PATH,
        Reply(200, api_document(title="Version 1"), etag='"1"'),
        Reply(200, api_document(title="Version 2"), etag='"2"'),
    )
    source = make_source(api.url, clock)
    assert source.topic(TOPIC, LANGUAGE).title == "Version 1"
    clock.advance(301)
    assert source.topic(TOPIC, LANGUAGE).title == "Version 2"


def test_a_custom_ttl(api: LocalApi) -> None:
    clock = FakeClock()
    api.reply(PATH, Reply(200, api_document(), etag='"1"'))
    source = HttpContentSource(api.url, ttl=10, client=fast_client(), clock=clock)
    source.topic(TOPIC, LANGUAGE)
    clock.advance(11)
    source.topic(TOPIC, LANGUAGE)
    assert api.hits(PATH) == 2


# ---------------------------------------------------------------- stale-if-error

FAILURES = {
    "404": Reply(404, {"error": "not found"}),
    "500": Reply(500, {"error": "boom"}),
    "timeout": Reply(200, {}, delay=5),
    "malformed JSON": Reply(200, b'{"topic": "integration_plan", "title": '),
    "dropped connection": Reply(drop=True),
    "http link": Reply(
        200,
        {**topic_to_document(bundled()), "pages": [{"fi": {"url": "http://x.fi", "title": "x"}}]},
    ),
    "missing answer": Reply(
        200, {k: v for k, v in topic_to_document(bundled()).items() if k != "answer"}
    ),
    "another topic": Reply(200, {**topic_to_document(bundled()), "topic": "citizenship"}),
    "not an object": Reply(200, [1, 2, 3]),
}


@pytest.mark.parametrize("failure", FAILURES, ids=list(FAILURES))
def test_failures_serve_the_bundled_copy(
    api: LocalApi, failure: str, caplog: pytest.LogCaptureFixture
) -> None:
    api.reply(PATH, FAILURES[failure])
    source = make_source(api.url, deadline=0.5)
    with caplog.at_level(logging.WARNING):
        assert source.topic(TOPIC, LANGUAGE) == bundled()
    assert "serving the bundled copy" in caplog.text


@pytest.mark.parametrize("failure", FAILURES, ids=list(FAILURES))
def test_failures_serve_the_last_good_copy(
    api: LocalApi, failure: str, caplog: pytest.LogCaptureFixture
) -> None:
    clock = FakeClock()
    api.reply(PATH, Reply(200, api_document(title="From the API"), etag='"1"'), FAILURES[failure])
    source = make_source(api.url, clock, deadline=0.5)
    assert source.topic(TOPIC, LANGUAGE).title == "From the API"
    clock.advance(301)
    with caplog.at_level(logging.WARNING):
        assert source.topic(TOPIC, LANGUAGE).title == "From the API"
    assert "serving the last good copy" in caplog.text


def test_connection_refused_serves_the_bundled_copy() -> None:
    assert make_source(closed_port_url()).topic(TOPIC, LANGUAGE) == bundled()


def test_an_open_circuit_skips_the_api_and_serves_the_bundle(api: LocalApi) -> None:
    api.reply(PATH, Reply(500))
    client = fast_client(retries=0, breaker=CircuitBreaker(threshold=2, cooldown=60))
    source = HttpContentSource(api.url, client=client, clock=FakeClock())
    for _ in range(5):
        assert source.topic(TOPIC, LANGUAGE) == bundled()
    assert api.hits(PATH) == 2  # the rest were skipped
    assert client.breaker.state == "open"


def test_a_topic_nobody_has_is_none(api: LocalApi) -> None:
    assert make_source(api.url).topic("no_such_topic", LANGUAGE) is None
    assert api.hits("/" + document_path("no_such_topic", LANGUAGE)) == 1


@pytest.mark.parametrize(
    ("topic", "language"),
    [
        ("../secrets", "fi"),
        ("integration_plan", "fi/../en"),
        ("", "fi"),
        ("integration_plan\n", "fi"),
    ],
)
def test_malformed_ids_never_reach_the_network(api: LocalApi, topic: str, language: str) -> None:
    assert make_source(api.url).topic(topic, language) is None
    assert api.hits() == 0


# ---------------------------------------------------------------- the 3-second bound, defaults


@pytest.mark.parametrize(
    "failure",
    [Reply(200, {}, delay=10), Reply(200, api_document(), trickle=0.2)],
    ids=["no answer", "trickling answer"],
)
def test_a_slow_api_answers_from_the_bundle_within_3_seconds(api: LocalApi, failure: Reply) -> None:
    api.reply(PATH, failure)
    source = HttpContentSource(api.url)  # default timeouts, retries and deadline
    start = time.monotonic()
    assert source.topic(TOPIC, LANGUAGE) == bundled()
    assert time.monotonic() - start < 3.0


def test_a_stopped_api_answers_within_3_seconds() -> None:
    source = HttpContentSource(closed_port_url())
    start = time.monotonic()
    for language in taxonomy().languages:
        assert source.topic(TOPIC, language) == bundled(TOPIC, language)
    assert time.monotonic() - start < 3.0  # every language, thanks to the circuit breaker


# ---------------------------------------------------------------- export round trip


def test_every_topic_in_every_language_round_trips_through_the_api(
    exported: Path, cdn: LocalApi
) -> None:
    source = HttpContentSource(cdn.url, client=HttpClient(), fallback=NoFallback())
    count = 0
    for language in taxonomy().languages:
        for topic in taxonomy().topic_ids:
            assert source.topic(topic, language) == bundled(topic, language), (topic, language)
            count += 1
    assert count == len(taxonomy().topic_ids) * len(taxonomy().languages) == cdn.hits()


def test_the_index_lists_topics_and_languages(exported: Path) -> None:
    index = json.loads((exported / "v1" / "index.json").read_text("utf-8"))
    assert index == {
        "version": "v1",
        "languages": list(taxonomy().languages),
        "topics": list(taxonomy().topic_ids),
    }
    documents = list((exported / "v1" / "topics").glob("*/*.json"))
    assert len(documents) == len(index["languages"]) * len(index["topics"])


def test_export_runs_as_a_module(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    run = subprocess.run(
        [sys.executable, "-m", "bot.content.export", "--out", str(tmp_path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "v1" / "topics" / "fi" / "integration_plan.json").is_file()


def test_export_refuses_incomplete_content(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    content = tmp_path / "content"
    content.mkdir()
    for name in ("sources.yml", "fi.yml"):
        shutil.copy(data_path("content", name), content / name)
    out = tmp_path / "out"
    assert export_main(["--out", str(out), "--content", str(content)]) == 1
    assert "sv/integration_plan: no content" in capsys.readouterr().err
    assert not out.exists()  # nothing half-published


# ---------------------------------------------------------------- document validation


def test_validation_accepts_exported_documents_only_for_the_right_topic() -> None:
    document = topic_to_document(bundled())
    assert document_to_topic(document, TOPIC, LANGUAGE) == bundled()
    with pytest.raises(InvalidDocument):
        document_to_topic(document, TOPIC, "sv")


@pytest.mark.parametrize(
    "changes",
    [
        {"title": ""},
        {"reviewed": "29.11.2026"},
        {"steps": "one step"},
        {"related": [1]},
        {"pages": []},
        {"pages": [{}]},
        {"pages": [{"fi": {"url": "https://ok.fi/x"}}]},
        {"pages": [{"fi": {"url": "javascript:alert(1)", "title": "x"}}]},
        {"pages": [{"Finnish": {"url": "https://ok.fi/x", "title": "x"}}]},
    ],
)
def test_validation_rejects_broken_documents(changes: dict[str, Any]) -> None:
    with pytest.raises(InvalidDocument):
        document_to_topic(api_document(**changes), TOPIC, LANGUAGE)


# ---------------------------------------------------------------- configuration


@pytest.fixture
def fresh_factories(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    for name in ("KOTOBOT_CONTENT_SOURCE", "KOTOBOT_CONTENT_URL", "KOTOBOT_CONTENT_TTL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("KOTOBOT_PTV_URL", raising=False)
    sources.content_source.cache_clear()
    sources.ptv_client.cache_clear()
    yield monkeypatch
    sources.content_source.cache_clear()
    sources.ptv_client.cache_clear()


def test_files_is_the_default(fresh_factories: pytest.MonkeyPatch) -> None:
    assert isinstance(sources.content_source(), FilesContentSource)


def test_http_with_a_url(fresh_factories: pytest.MonkeyPatch) -> None:
    fresh_factories.setenv("KOTOBOT_CONTENT_SOURCE", "http")
    fresh_factories.setenv("KOTOBOT_CONTENT_URL", "https://content.example.fi/api/")
    fresh_factories.setenv("KOTOBOT_CONTENT_TTL", "60")
    source = sources.content_source()
    assert isinstance(source, HttpContentSource)
    assert (source.base_url, source.ttl) == ("https://content.example.fi/api", 60.0)
    assert (
        source.url(TOPIC, "sv")
        == "https://content.example.fi/api/v1/topics/sv/integration_plan.json"
    )


@pytest.mark.parametrize(
    ("kind", "url", "named"),
    [
        ("http", None, "KOTOBOT_CONTENT_URL is not set"),
        ("http", "content.example.fi", "KOTOBOT_CONTENT_URL='content.example.fi'"),
        ("http", "ftp://x.fi", "KOTOBOT_CONTENT_URL='ftp://x.fi'"),
        ("ptv", None, "KOTOBOT_CONTENT_SOURCE='ptv' is not valid: allowed values are files, http"),
    ],
)
def test_bad_configuration_is_refused_not_replaced_by_the_files(
    fresh_factories: pytest.MonkeyPatch, kind: str, url: str | None, named: str
) -> None:
    fresh_factories.setenv("KOTOBOT_CONTENT_SOURCE", kind)
    if url:
        fresh_factories.setenv("KOTOBOT_CONTENT_URL", url)
    with pytest.raises(SettingsError) as refused:
        sources.content_source()
    assert named in str(refused.value)


def test_a_bad_ttl_is_refused(fresh_factories: pytest.MonkeyPatch) -> None:
    fresh_factories.setenv("KOTOBOT_CONTENT_SOURCE", "http")
    fresh_factories.setenv("KOTOBOT_CONTENT_URL", "https://content.example.fi")
    fresh_factories.setenv("KOTOBOT_CONTENT_TTL", "five minutes")
    with pytest.raises(SettingsError, match="KOTOBOT_CONTENT_TTL='five minutes' is not valid"):
        sources.content_source()


def test_ptv_client_url(fresh_factories: pytest.MonkeyPatch) -> None:
    assert sources.ptv_client().base_url == PTV_DEFAULT_URL
    sources.ptv_client.cache_clear()
    fresh_factories.setenv("KOTOBOT_PTV_URL", "http://127.0.0.1:9/api/v11/")
    assert sources.ptv_client().base_url == "http://127.0.0.1:9/api/v11"
    sources.ptv_client.cache_clear()
    fresh_factories.setenv("KOTOBOT_PTV_URL", "nonsense")
    with pytest.raises(SettingsError, match="KOTOBOT_PTV_URL='nonsense' is not valid"):
        sources.ptv_client()
