"""deploy/: the files no machine here can run (no Docker, no Kubernetes) stay consistent with the
tested configuration, hold no secrets, and the endpoints Rasa's Helm chart would render from
deploy/helm/values.yml work with our stores against the real PostgreSQL and Redis."""

from __future__ import annotations

import asyncio
import re
import shlex
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import redis
import yaml
from rasa.core.lock_store import LockStore, RedisLockStore
from rasa.core.tracker_store import TrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import read_endpoint_config

from bot.lock_store import KotobotLockStore
from bot.tracker_store import RedactingTrackerStore
from tests.store_backends import database_url, redis_url, stored_rows

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
SECRET_NAME = re.compile(r"PASSWORD|SECRET|TOKEN|SID|AUTH", re.IGNORECASE)

# What the chart's templates/config-map.yaml renders from its defaults and our values.yml
# (trackerStore/lockStore keys minus `enabled`, additionalEndpoints), written out by hand.
CHART_ENDPOINTS = """
tracker_store:
  type: bot.tracker_store.RedactingTrackerStore
  dialect: "postgresql"
  url: ${DB_HOST}
  port: ${DB_PORT}
  username: ${DB_USER}
  password: ${DB_PASSWORD}
  db: ${DB_DATABASE}
  login_db: ${DB_DATABASE}
lock_store:
  type: bot.lock_store.KotobotLockStore
  url: ${REDIS_HOST}
  port: ${REDIS_PORT}
  password: ${REDIS_PASSWORD}
  db: "1"
"""


def load(path: Path) -> Any:
    return yaml.safe_load(path.read_text("utf-8"))


def test_container_endpoints_differ_from_the_tested_ones_only_in_the_action_server():
    tested, container = load(ROOT / "endpoints.yml"), load(DEPLOY / "endpoints.yml")
    assert container.pop("action_endpoint") == {"url": "${ACTION_SERVER_URL}"}
    tested.pop("action_endpoint")
    assert container == tested


def test_helm_values_configure_what_endpoints_and_credentials_yml_do():
    values = load(DEPLOY / "helm" / "values.yml")
    endpoints = load(ROOT / "endpoints.yml")
    settings = values["applicationSettings"]
    assert settings["endpoints"]["trackerStore"]["type"] == endpoints["tracker_store"]["type"]
    assert settings["endpoints"]["lockStore"]["type"] == endpoints["lock_store"]["type"]
    assert settings["endpoints"]["additionalEndpoints"]["nlg"] == endpoints["nlg"]
    channels = settings["credentials"]["additionalChannelCredentials"]
    assert set(channels) == set(load(ROOT / "credentials.yml"))
    socketio = "bot.channels.socketio.SocketIOChannel"
    assert channels[socketio] == load(ROOT / "credentials.yml")[socketio]
    assert settings["initialModel"] == "" and not settings["enableAPI"]
    assert "--enable-api" not in values["args"]
    model = values["args"][values["args"].index("--model") + 1]
    assert (ROOT / model.removeprefix("/app/")).exists(), "the image's /app is the repository"


def test_compose_replicas_share_the_stores_and_use_existing_files():
    services = load(DEPLOY / "docker-compose.yml")["services"]
    rasa = [services["rasa-1"], services["rasa-2"]]
    assert rasa[0] == rasa[1], "identical replicas"
    assert rasa[0]["environment"]["KOTOBOT_DB_URL"].startswith("postgresql://")
    assert rasa[0]["environment"]["KOTOBOT_REDIS_URL"].startswith("redis://")
    for command in (rasa[0]["command"], services["actions"]["command"]):
        args = shlex.split(command)
        for flag in ("--model", "--credentials", "--endpoints", "--logging-config-file"):
            if flag in args:
                assert (ROOT / args[args.index(flag) + 1]).exists(), (flag, command)


def test_every_action_server_replica_logs_feedback_to_the_shared_database():
    """Not to a file per container or pod (bot/feedback.py), in compose and in the chart."""
    services = load(DEPLOY / "docker-compose.yml")["services"]
    actions = services["actions"]["environment"]
    assert actions["KOTOBOT_FEEDBACK_DB_URL"] == services["rasa-1"]["environment"]["KOTOBOT_DB_URL"]
    assert "KOTOBOT_FEEDBACK_DB" not in actions
    values = load(DEPLOY / "helm" / "values.yml")
    env = {item["name"]: item for item in values["rasa-action-server"]["extraEnv"]}
    url = urlsplit(env["KOTOBOT_FEEDBACK_DB_URL"]["value"])
    assert url.scheme == "postgresql" and not url.password
    assert url.hostname == values["postgresql"]["external"]["host"]
    assert url.path == "/" + values["global"]["postgresql"]["postgresqlDatabase"]
    secret = env["KOTOBOT_FEEDBACK_DB_PASSWORD"]["valueFrom"]["secretKeyRef"]
    assert secret["name"] == values["global"]["postgresql"]["existingSecret"]


def environment_values(node: Any) -> list[tuple[str, Any]]:
    """(name, value) of every environment variable set anywhere in a compose file or values.yml."""
    found: list[tuple[str, Any]] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("environment", "extraEnv"):
                items = value.items() if isinstance(value, dict) else [
                    (item["name"], item.get("value")) for item in value
                ]  # fmt: skip
                found += list(items)
            else:
                found += environment_values(value)
    elif isinstance(node, list):
        for item in node:
            found += environment_values(item)
    return found


@pytest.mark.parametrize("name", ["docker-compose.yml", "helm/values.yml"])
def test_no_secret_values_in_deploy_files(name):
    variables = environment_values(load(DEPLOY / name))
    assert variables
    for variable, value in variables:
        if SECRET_NAME.search(variable):
            assert value is None or re.fullmatch(r"\$\{\w+(:\?[^}]*)?\}", str(value)), variable


def test_the_chart_rendered_endpoints_work_with_our_stores(tmp_path, monkeypatch):
    """Our stores on the chart's variables, against the real PostgreSQL and Redis."""
    pg = urlsplit(database_url("postgresql", tmp_path))
    red = urlsplit(redis_url())
    monkeypatch.delenv("KOTOBOT_DB_URL", raising=False)
    monkeypatch.delenv("KOTOBOT_REDIS_URL", raising=False)
    for name, value in {
        "DB_HOST": pg.hostname, "DB_PORT": pg.port, "DB_USER": pg.username,
        "DB_PASSWORD": pg.password or "", "DB_DATABASE": pg.path.strip("/"),
        "REDIS_HOST": red.hostname, "REDIS_PORT": red.port, "REDIS_PASSWORD": "",
    }.items():  # fmt: skip
        monkeypatch.setenv(name, str(value))
    endpoints = tmp_path / "endpoints.yml"
    endpoints.write_text(CHART_ENDPOINTS, "utf-8")

    locks = LockStore.create(read_endpoint_config(str(endpoints), "lock_store"))
    assert isinstance(locks, KotobotLockStore) and isinstance(locks.backend, RedisLockStore)
    sender = f"chart-{uuid.uuid4().hex[:8]}"
    locks.save_lock(locks.create_lock(sender))
    direct = redis.Redis(host=red.hostname, port=red.port, db=1)
    try:
        assert direct.exists(f"lock:{sender}")
    finally:
        locks.delete_lock(sender)
        direct.close()

    domain = Domain.load(str(ROOT / "domain.yml"))
    store = TrackerStore.create(read_endpoint_config(str(endpoints), "tracker_store"), domain)
    assert isinstance(store, RedactingTrackerStore)
    tracker = DialogueStateTracker.from_events(sender, [UserUttered("soita 040-7654321")])
    asyncio.run(store.save(tracker))
    store.engine.dispose()
    rows = stored_rows(f"postgresql://{pg.netloc}{pg.path}", sender)
    assert len(rows) == 1 and "[phone]" in rows[0] and "7654321" not in rows[0]


def test_image_builds_the_language_tables_as_make_install_does():
    """Else every container would rebuild them (~10 s) at start, as a user that cannot save."""
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text("utf-8")
    makefile = (ROOT / "Makefile").read_text("utf-8")
    assert "python -m bot.langid.ngram_tables" in makefile
    assert "python -m bot.langid.ngram_tables" in dockerfile
    assert dockerfile.index("bot.langid.ngram_tables") < dockerfile.index("USER 1001")
