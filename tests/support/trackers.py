"""Tracker states for action tests (tests/fixtures/trackers), and running actions and the
language-tracking policy on them."""

from __future__ import annotations

import asyncio
import copy
import json
from typing import Any

from tests.support.paths import FIXTURES


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
    """The slots bot.server.policies.language sets for a tracker state's latest user message (its
    ``latest_message`` is that message's parse result), run on Rasa's own tracker."""
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.trackers import DialogueStateTracker

    from bot.core.paths import data_path
    from bot.server.policies.language import LanguageTrackingPolicy

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
