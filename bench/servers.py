"""Starts the real action server and Rasa server on free local ports (tests and benchmarks)."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import requests

from bot.paths import project_root

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(url: str, timeout: float, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode} before {url} answered")
        try:
            if requests.get(url, timeout=2).status_code < 500:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise TimeoutError(f"{url} did not answer within {timeout} s")


class Bot:
    """Talks to the running Rasa server over REST, like a channel would."""

    def __init__(
        self,
        base_url: str,
        token: str,
        session: requests.Session | None = None,
        logs: Path | None = None,
        db_url: str | None = None,
    ) -> None:
        self.base_url = base_url
        self.token = token
        self.http = session or requests.Session()
        self.logs = logs  # actions.log, rasa.log
        self.db_url = db_url  # the tracker store (a throw-away SQLite file unless set)

    def say(self, sender: str, text: str, metadata: dict | None = None) -> list[dict]:
        body: dict[str, Any] = {"sender": sender, "message": text}
        if metadata is not None:
            body["metadata"] = metadata
        response = self.http.post(f"{self.base_url}/webhooks/rest/webhook", json=body, timeout=30)
        response.raise_for_status()
        return response.json()

    def tracker(self, sender: str) -> dict[str, Any]:
        response = self.http.get(
            f"{self.base_url}/conversations/{sender}/tracker",
            params={"token": self.token},
            timeout=30,
        )
        response.raise_for_status()
        return response.json()

    def slot(self, sender: str, name: str) -> Any:
        return self.tracker(sender)["slots"].get(name)


@contextlib.contextmanager
def running_bot(
    model: Path,
    logs: Path | None = None,
    *,
    env: Mapping[str, str | None] | None = None,
    credentials: Path | None = None,
    rasa_args: Sequence[str] = (),
) -> Iterator[Bot]:
    """The action server and the Rasa server (REST channel; HTTP API behind a token).

    Rasa is started as `make run` starts it, through bot/serve.py: the HTTP API and CORS come
    from the ``KOTOBOT_*`` variables. ``env`` changes the servers' environment (a ``None`` value
    removes a variable), e.g. to switch messaging connectors on with test secrets, or the API
    off (``KOTOBOT_ENABLE_API: None``); ``credentials`` replaces credentials.yml; ``rasa_args``
    go to ``rasa run`` (bot/serve.py refuses the ones that would bypass its checks).
    """
    root = project_root()
    logs = logs or Path(tempfile.mkdtemp(prefix="kotobot-servers-"))
    logs.mkdir(parents=True, exist_ok=True)
    action_port, rasa_port = free_port(), free_port()
    endpoints = logs / "endpoints.yml"
    endpoints.write_text(
        (root / "endpoints.yml")
        .read_text("utf-8")
        .replace("localhost:5055", f"127.0.0.1:{action_port}"),
        "utf-8",
    )
    credentials = credentials or root / "credentials.yml"
    server_env = {
        **os.environ, "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2",
        "KOTOBOT_ENABLE_API": "1", "KOTOBOT_API_TOKEN": "local-test-token",
    }  # fmt: skip
    # Conversations go to a fresh SQLite file per run, not var/, unless a database is given.
    server_env.setdefault("KOTOBOT_DB_URL", f"sqlite:///{logs.resolve() / 'tracker.sqlite3'}")
    for name, value in (env or {}).items():
        if value is None:
            server_env.pop(name, None)
        else:
            server_env[name] = value
    log_files = [open(logs / name, "w") for name in ("actions.log", "rasa.log")]
    actions = subprocess.Popen(
        [str(BIN / "rasa"), "run", "actions", "--actions", "actions", "--port", str(action_port),
         "--logging-config-file", str(root / "bot" / "resources" / "logging.yml")],
        cwd=root, env=server_env, stdout=log_files[0], stderr=subprocess.STDOUT,
    )  # fmt: skip
    token = server_env.get("KOTOBOT_API_TOKEN", "")
    rasa = subprocess.Popen(
        [
            str(BIN / "python"), "-m", "bot.serve", "--model", str(model),
            "--port", str(rasa_port), "--interface", "127.0.0.1",
            "--credentials", str(credentials), "--endpoints", str(endpoints), *rasa_args,
        ],
        cwd=root, env=server_env, stdout=log_files[1], stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        wait_until(f"http://127.0.0.1:{action_port}/health", 120, actions)
        wait_until(f"http://127.0.0.1:{rasa_port}/", 300, rasa)
        yield Bot(
            f"http://127.0.0.1:{rasa_port}",
            token,
            logs=logs,
            db_url=server_env.get("KOTOBOT_DB_URL"),
        )
    except Exception:
        for log in log_files:
            log.flush()
        sys.stderr.write((logs / "rasa.log").read_text("utf-8")[-5000:])
        raise
    finally:
        for process in (rasa, actions):
            process.terminate()
        for process in (rasa, actions):
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        for log in log_files:
            log.close()
