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


def track_language(state: dict[str, Any]) -> dict[str, Any]:
    """The slots bot.policies.language sets for a tracker state's latest user message (its
    ``latest_message`` is that message's parse result), run on Rasa's own tracker."""
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.trackers import DialogueStateTracker

    from bot.paths import data_path
    from bot.policies.language import LanguageTrackingPolicy

    domain = Domain.load(data_path("domain.yml"))
    events = copy.deepcopy(state["events"])
    users = [event for event in events if event["event"] == "user"]
    for event in users:  # fixtures give the parse result of the latest message only
        event.setdefault("parse_data", {"text": event["text"], "intent": {}, "entities": []})
    users[-1]["parse_data"] = state["latest_message"]
    tracker = DialogueStateTracker.from_dict(state["sender_id"], events, domain.slots)
    for name, value in state["slots"].items():
        tracker.slots[name].value = value
    policy_events = LanguageTrackingPolicy.slot_events(tracker)
    assert tracker.latest_action_name == "action_listen"  # the policy's moment
    return {event.key: event.value for event in policy_events}


@pytest.fixture(scope="session")
def bot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bot]:
    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: run `make train` first")
    with running_bot(MODEL, tmp_path_factory.mktemp("servers")) as running:
        yield running


@pytest.fixture(scope="session")
def nlu() -> Any:
    """The trained model's NLU, in process: ``nlu(text)`` is Rasa's parse result."""
    from rasa.core.agent import Agent

    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: run `make train` first")
    agent = Agent.load(str(MODEL))
    loop = asyncio.new_event_loop()
    yield lambda text, **kw: loop.run_until_complete(agent.parse_message(text, **kw))
    loop.close()
