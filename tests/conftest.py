"""Shared fixtures: tracker fixtures for action tests, and the real servers for end-to-end tests."""

from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bench.servers import Bot, running_bot

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
MODEL = ROOT / "models" / "kotobot.tar.gz"


def load_tracker_state(name: str, **changes: Any) -> dict[str, Any]:
    """A tracker state from tests/fixtures/trackers, with top-level keys or slots replaced."""
    state = copy.deepcopy(json.loads((FIXTURES / "trackers" / f"{name}.json").read_text("utf-8")))
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
    events = asyncio.run(action.run(dispatcher, Tracker.from_dict(state), {}))
    return events, dispatcher.messages


@pytest.fixture(scope="session")
def bot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bot]:
    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: run `make train` first")
    with running_bot(MODEL, tmp_path_factory.mktemp("servers")) as running:
        yield running
