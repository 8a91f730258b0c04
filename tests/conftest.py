"""Shared fixtures: tracker fixtures for action tests, and the real servers for end-to-end tests."""

from __future__ import annotations

import asyncio
import copy
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
MODEL = ROOT / "models" / "kotobot.tar.gz"
BIN = Path(sys.executable).parent


def load_tracker_state(name: str, **changes: Any) -> dict[str, Any]:
    state = json.loads((FIXTURES / "trackers" / f"{name}.json").read_text("utf-8"))
    state = copy.deepcopy(state)
    for key, value in changes.items():
        if key == "slots":
            state["slots"].update(value)
        else:
            state[key] = value
    return state


def run_action(action: Any, state: dict[str, Any]) -> tuple[list[dict], list[dict]]:
    """Runs a rasa-sdk action on a tracker state: (events, dispatched messages)."""
    from rasa_sdk import Tracker
    from rasa_sdk.executor import CollectingDispatcher

    dispatcher = CollectingDispatcher()
    tracker = Tracker.from_dict(state)
    events = asyncio.run(action.run(dispatcher, tracker, {}))
    return events, dispatcher.messages


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
        time.sleep(1)
    raise TimeoutError(f"{url} did not answer within {timeout} s")


class Bot:
    """Talks to the running Rasa server over REST, like a channel would."""

    def __init__(self, base_url: str, token: str) -> None:
        self.base_url = base_url
        self.token = token

    def say(self, sender: str, text: str, metadata: dict | None = None) -> list[dict]:
        body: dict[str, Any] = {"sender": sender, "message": text}
        if metadata is not None:
            body["metadata"] = metadata
        response = requests.post(f"{self.base_url}/webhooks/rest/webhook", json=body, timeout=30)
        response.raise_for_status()
        return response.json()

    def tracker(self, sender: str) -> dict[str, Any]:
        response = requests.get(
            f"{self.base_url}/conversations/{sender}/tracker",
            params={"token": self.token},
            timeout=30,
        )
        response.raise_for_status()
        return response.json()

    def slot(self, sender: str, name: str) -> Any:
        return self.tracker(sender)["slots"].get(name)


@pytest.fixture(scope="session")
def bot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bot]:
    """The real action server and Rasa server (REST channel, HTTP API behind a token)."""
    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: run `make train` first")
    workdir = tmp_path_factory.mktemp("servers")
    action_port, rasa_port = free_port(), free_port()
    endpoints = workdir / "endpoints.yml"
    endpoints.write_text(
        (ROOT / "endpoints.yml")
        .read_text("utf-8")
        .replace("localhost:5055", f"127.0.0.1:{action_port}"),
        "utf-8",
    )
    token = "e2e-test-token"
    env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2"}
    logs = [open(workdir / name, "w") for name in ("actions.log", "rasa.log")]
    actions = subprocess.Popen(
        [str(BIN / "rasa"), "run", "actions", "--actions", "actions", "--port", str(action_port)],
        cwd=ROOT, env=env, stdout=logs[0], stderr=subprocess.STDOUT,
    )  # fmt: skip
    rasa = subprocess.Popen(
        [
            str(BIN / "rasa"), "run", "--model", str(MODEL), "--port", str(rasa_port),
            "--interface", "127.0.0.1", "--credentials", str(ROOT / "credentials.yml"),
            "--endpoints", str(endpoints), "--enable-api", "--auth-token", token,
        ],
        cwd=ROOT, env=env, stdout=logs[1], stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        wait_until(f"http://127.0.0.1:{action_port}/health", 120, actions)
        wait_until(f"http://127.0.0.1:{rasa_port}/", 300, rasa)
        yield Bot(f"http://127.0.0.1:{rasa_port}", token)
    except Exception:
        for log in logs:
            log.flush()
        sys.stderr.write((workdir / "rasa.log").read_text("utf-8")[-5000:])
        raise
    finally:
        for process in (rasa, actions):
            process.terminate()
        for process in (rasa, actions):
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        for log in logs:
            log.close()
