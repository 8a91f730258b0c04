"""deploy/: the files no machine here can run (no Docker, no Kubernetes) stay consistent with the
tested configuration, hold no secrets, and the endpoints Rasa's Helm chart would render from
deploy/helm/values.yml work with our stores against the real PostgreSQL and Redis."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
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

from bot.server.lock_store import KotobotLockStore
from bot.server.tracker_store import RedactingTrackerStore
from tests.support.paths import ROOT
from tests.support.stores import database_url, redis_url, stored_rows

DEPLOY = ROOT / "deploy"
SECRET_NAME = re.compile(r"PASSWORD|SECRET|TOKEN|SID|AUTH", re.IGNORECASE)

# What the chart's templates/config-map.yaml renders from its defaults and our values.yml
# (trackerStore/lockStore keys minus `enabled`, additionalEndpoints), written out by hand.
CHART_ENDPOINTS = """
tracker_store:
  type: bot.server.tracker_store.RedactingTrackerStore
  dialect: "postgresql"
  url: ${DB_HOST}
  port: ${DB_PORT}
  username: ${DB_USER}
  password: ${DB_PASSWORD}
  db: ${DB_DATABASE}
  login_db: ${DB_DATABASE}
lock_store:
  type: bot.server.lock_store.KotobotLockStore
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
    socketio = "bot.server.channels.socketio.SocketIOChannel"
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
    """Not to a file per container or pod (bot/answers/feedback.py), in compose and in the chart."""
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


# --- the image, compose health checks, locked installs (issue #15) ------------------------------


def dockerfile_runs() -> list[str]:
    """The Dockerfile's RUN commands, continuation lines joined."""
    text = re.sub(r"\\\n(\s*#.*\n)*", " ", (DEPLOY / "Dockerfile").read_text("utf-8"))
    return [line.strip()[4:] for line in text.splitlines() if line.strip().startswith("RUN ")]


def dockerfile_entry() -> list[str]:
    """ENTRYPOINT + CMD (exec form), what `docker run IMAGE` runs."""
    text = re.sub(r"\\\n", " ", (DEPLOY / "Dockerfile").read_text("utf-8"))
    parts: dict[str, list[str]] = {"ENTRYPOINT": [], "CMD": []}
    for line in text.splitlines():
        instruction, _, arguments = line.strip().partition(" ")
        if instruction in parts:
            parts[instruction] = json.loads(arguments)
    return parts["ENTRYPOINT"] + parts["CMD"]


def test_image_installs_the_runtime_lock_without_resolving():
    runs = " && ".join(dockerfile_runs())
    installs = [part.strip() for part in runs.split("&&") if "pip install" in part]
    assert installs, "the image installs with pip"
    for command in installs:
        assert "--no-deps" in command, f"resolves dependencies: {command}"
    assert any("--require-hashes" in c and "requirements/bootstrap.txt" in c for c in installs)
    assert any("--require-hashes" in c and "requirements/runtime.txt" in c for c in installs)
    assert not any("dev.txt" in c or "[dev]" in c for c in installs), "no dev tools in the image"
    assert any("--no-build-isolation -e ." in c for c in installs), "the project, editable"


def test_image_starts_rasa_through_bot_serve_as_uid_1001():
    from bot.server.serve import check_extra_arguments, parse_options

    dockerfile = (DEPLOY / "Dockerfile").read_text("utf-8")
    entry = dockerfile_entry()
    assert entry[:3] == ["python", "-m", "bot.server.serve"], entry
    options, extra = parse_options(entry[3:])
    check_extra_arguments(extra)  # nothing bot/server/serve.py would refuse
    assert (ROOT / options.model).exists() and (ROOT / options.credentials).exists()
    assert (ROOT / options.endpoints).exists()
    users = re.findall(r"^USER\s+(\S+)", dockerfile, re.MULTILINE)
    assert users and users[-1].split(":")[0] == "1001", users
    assert "useradd --uid 1001" in dockerfile and "chown 1001:1001 var" in dockerfile


def test_compose_and_helm_start_rasa_through_bot_serve():
    from bot.server.serve import check_extra_arguments, parse_options

    services = load(DEPLOY / "docker-compose.yml")["services"]
    command = shlex.split(services["rasa-1"]["command"])
    assert command[:3] == ["python", "-m", "bot.server.serve"], command
    check_extra_arguments(parse_options(command[3:])[1])
    assert "KOTOBOT_CORS_ORIGINS" in services["rasa-1"]["environment"]
    assert shlex.split(services["actions"]["command"])[:3] == ["rasa", "run", "actions"]
    assert services["actions"]["environment"]["SANIC_HOST"] == "0.0.0.0"

    values = load(DEPLOY / "helm" / "values.yml")
    assert values["command"] == ["python", "-m", "bot.server.serve"]
    check_extra_arguments(parse_options(values["args"])[1])
    env = {item["name"]: item.get("value") for item in values["extraEnv"]}
    assert env["KOTOBOT_CORS_ORIGINS"] == values["applicationSettings"]["cors"]
    actions = values["rasa-action-server"]
    assert actions["command"] + actions["args"][:2] == ["rasa", "run", "actions"]
    for settings in (values, actions):
        assert settings["podSecurityContext"]["runAsUser"] == 1001


def test_compose_health_checks_probe_rasa_and_the_action_server():
    services = load(DEPLOY / "docker-compose.yml")["services"]
    script = ROOT / "deploy" / "healthcheck.py"
    assert script.is_file()
    rasa = services["rasa-1"]["healthcheck"]
    assert services["rasa-2"]["healthcheck"] == rasa
    assert rasa["test"] == [
        "CMD", "python", "deploy/healthcheck.py", "http://127.0.0.1:5005/", "Hello from Rasa",
    ]  # fmt: skip
    actions = services["actions"]["healthcheck"]["test"]
    assert actions[:4] == ["CMD", "python", "deploy/healthcheck.py", "http://127.0.0.1:5055/health"]
    assert actions[4] in '{"status":"ok"}'  # rasa-sdk's answer
    assert services["rasa-1"]["depends_on"]["actions"] == {"condition": "service_healthy"}
    assert services["nginx"]["depends_on"]["rasa-1"] == {"condition": "service_healthy"}
    for name in ("rasa-1", "actions"):
        check = services[name]["healthcheck"]
        assert check["start_period"] and check["interval"] and check["retries"], name


def test_health_check_script_answers_zero_only_for_the_expected_text():
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from threading import Thread

    class Hello(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server API)
            body = b"Hello from Rasa: 3.6.21" if self.path == "/" else b"no"
            self.send_response(200 if self.path == "/" else 404)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hello)
    Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    script = [sys.executable, str(DEPLOY / "healthcheck.py")]
    try:
        for path, text, expected in [
            ("/", "Hello from Rasa", 0), ("/", "Nope", 1), ("/missing", "no", 1),
        ]:  # fmt: skip
            result = subprocess.run([*script, url + path, text], capture_output=True)
            assert result.returncode == expected, (path, text, result.stderr)
    finally:
        server.shutdown()
        server.server_close()
    refused = subprocess.run([*script, url + "/", "Hello"], capture_output=True)
    assert refused.returncode == 1


def test_docker_compose_validates_the_compose_file():
    """Debian's docker-compose (v1) checks the file without a Docker engine (.ci/run installs
    it); the passwords it demands are dummies."""
    compose = shutil.which("docker-compose")
    if compose is None:
        message = "docker-compose is missing (Debian: apt-get install docker-compose)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    env = {**os.environ, "KOTOBOT_DB_PASSWORD": "dummy", "KOTOBOT_REDIS_PASSWORD": "dummy"}
    result = subprocess.run(
        [compose, "-f", str(DEPLOY / "docker-compose.yml"), "config", "--quiet"],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr


def lock_check(pyproject: Path) -> subprocess.CompletedProcess:
    script, requirements = ROOT / "scripts" / "lock.py", ROOT / "requirements"
    command = [sys.executable, str(script), "check", "--pyproject", str(pyproject),
               "--requirements", str(requirements)]  # fmt: skip
    return subprocess.run(command, capture_output=True, text=True)


def test_locks_match_pyproject():
    result = lock_check(ROOT / "pyproject.toml")
    assert result.returncode == 0, result.stderr


def test_a_dependency_change_without_make_lock_fails_the_check(tmp_path):
    text = (ROOT / "pyproject.toml").read_text("utf-8")
    cosmetic = tmp_path / "cosmetic" / "pyproject.toml"
    cosmetic.parent.mkdir()
    cosmetic.write_text(text.replace("dependencies = [", "dependencies = [  # a comment", 1))
    assert lock_check(cosmetic).returncode == 0, "comments do not make the locks stale"
    changed = tmp_path / "changed" / "pyproject.toml"
    changed.parent.mkdir()
    changed.write_text(text.replace("dependencies = [", 'dependencies = [\n    "six",', 1))
    result = lock_check(changed)
    assert result.returncode == 1
    assert "runtime.txt" in result.stderr and "dev.txt" in result.stderr
    assert "run `make lock`" in result.stderr


def test_locks_pin_every_package_with_hashes_and_agree():
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import lock
    finally:
        sys.path.pop(0)
    runtime, dev = (
        lock.pins(ROOT / "requirements/runtime.txt"),
        lock.pins(ROOT / "requirements/dev.txt"),
    )
    bootstrap = lock.pins(ROOT / "requirements/bootstrap.txt")
    assert {"rasa", "rasa-sdk", "python-socketio", "tensorflow"} <= set(runtime)
    assert runtime["rasa"] == "3.6.21" and runtime["python-socketio"] == "5.9.0"
    assert {"pytest", "hypothesis", "ruff", "playwright", "uv"} <= set(dev) - set(runtime)
    assert {"pip", "setuptools", "wheel"} <= set(bootstrap)
    assert all(dev[name] == version for name, version in runtime.items())
    for name in ("runtime.txt", "dev.txt", "bootstrap.txt"):
        assert lock.unhashed(ROOT / "requirements" / name) == [], name


def test_make_installs_from_the_locks_without_resolving():
    makefile = (ROOT / "Makefile").read_text("utf-8")
    install = (ROOT / "scripts" / "install.sh").read_text("utf-8")
    assert "--require-hashes --no-deps -r requirements/bootstrap.txt" in install
    assert '--require-hashes --no-deps -r "$LOCK"' in install
    assert "--no-deps --no-build-isolation -e ." in install
    assert "--quiet" not in install and "-q " not in install
    assert re.search(r"^run: install-runtime check-settings train ", makefile, re.MULTILINE)
    assert re.search(r"^test: check-lock ", makefile, re.MULTILINE)
    assert "scripts/train_progress.py" in makefile and "--quiet" not in makefile
    progress = (ROOT / "scripts" / "train_progress.py").read_text("utf-8")
    assert '"-m", "rasa", "train"' in progress  # Rasa itself trains; the wrapper only reports
