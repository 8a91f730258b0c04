"""bot/rasa_tuning.py replaces Rasa internals only where the replacement does the same thing."""

from __future__ import annotations

import asyncio

import pytest
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction
from rasa.engine.runner.dask import DaskGraphRunner
from rasa.shared.core.events import Event, SlotSet, UserUttered
from rasa.utils.endpoints import EndpointConfig

from bot import rasa_tuning
from tests.conftest import MODEL

rasa_tuning.install()


def test_action_replies_are_validated_as_before():
    action = RemoteAction("action_answer_topic", EndpointConfig("http://127.0.0.1:1/webhook"))
    good = {"events": [{"event": "slot", "name": "language", "value": "fi"}], "responses": []}
    assert action._validate_action_result(good) is True
    with pytest.raises(ValidationError, match="Failed to validate Action server response"):
        action._validate_action_result({"events": "not a list"})
    with pytest.raises(ValidationError):
        action._validate_action_result({"events": [{"no": "event name"}]})


def test_event_classes_are_found_and_unknown_names_still_fail():
    assert Event.resolve_by_type("slot") is SlotSet
    assert Event.resolve_by_type("user") is UserUttered
    assert Event.resolve_by_type("slot") is SlotSet  # from the memory this time
    assert Event.resolve_by_type("no-such-event", default=SlotSet) is SlotSet
    with pytest.raises(ValueError, match="Unknown event name"):
        Event.resolve_by_type("no-such-event")


def test_endpoint_keeps_one_session_per_event_loop():
    endpoint = EndpointConfig("http://127.0.0.1:1/webhook")

    async def two_sessions():
        async with endpoint.session() as first:
            pass
        async with endpoint.session() as second:
            pass
        return first, second

    first, second = asyncio.run(two_sessions())
    assert first is second and not first.closed  # kept open after the block
    third, _ = asyncio.run(two_sessions())  # a new event loop gets a new session
    assert third is not first


@pytest.mark.skipif(not MODEL.exists(), reason="needs the trained model (make train)")
def test_graph_runs_give_what_dask_gives():
    from rasa.core.agent import load_agent
    from rasa.core.channels.channel import UserMessage

    agent = asyncio.run(load_agent(model_path=str(MODEL)))
    processor = agent.processor
    runner = processor.graph_runner
    assert isinstance(runner, DaskGraphRunner)
    texts = ["miten saan kotoutumissuunnitelman", "كيف أحصل على إقامة", "asun Tampereella", "ok"]
    for text in texts:
        tracker = asyncio.run(processor.get_tracker(f"tuning-{text}"))
        inputs = {"__message__": [UserMessage(text)], "__tracker__": tracker}
        target = [processor.model_metadata.nlu_target]
        ours = runner.run(inputs=inputs, targets=target)[target[0]][0].as_dict()
        dask = rasa_tuning._dask_run(runner, inputs=inputs, targets=target)[target[0]][0]
        assert ours == dask.as_dict()
        assert ours["intent"]["name"]  # a real parse, not an empty result
    # A policy prediction too (the other kind of graph run).
    tracker = asyncio.run(processor.get_tracker("tuning-policies"))
    target = [processor.model_metadata.core_target]
    ours = runner.run(inputs={"__tracker__": tracker}, targets=target)[target[0]]
    dask = rasa_tuning._dask_run(runner, inputs={"__tracker__": tracker}, targets=target)
    assert ours.probabilities == dask[target[0]].probabilities
