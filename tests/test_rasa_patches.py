"""bot/server/rasa_patches.py replaces Rasa internals only where the replacement does the same."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction
from rasa.core.channels import channel as rasa_channel
from rasa.engine.runner.dask import DaskGraphRunner
from rasa.shared.core.events import Event, SlotSet, UserUttered
from rasa.utils.endpoints import EndpointConfig

from bot.server import rasa_patches

rasa_patches.install()
BIN = Path(sys.executable).parent


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


TINY_PROJECT = {
    "config.yml": """
        recipe: default.v1
        language: en
        assistant_id: tiny
        pipeline:
          - name: WhitespaceTokenizer
          - name: CountVectorsFeaturizer
          - name: LogisticRegressionClassifier
        policies:
          - name: MemoizationPolicy
          - name: RulePolicy
        """,
    "domain.yml": """
        version: "3.1"
        intents: [greet, goodbye]
        responses:
          utter_greet: [{text: hi}]
          utter_goodbye: [{text: bye}]
        """,
    "data/nlu.yml": """
        version: "3.1"
        nlu:
          - intent: greet
            examples: |
              - hello
              - hi there
              - good morning
          - intent: goodbye
            examples: |
              - bye
              - see you later
              - good night
        """,
    "data/rules.yml": """
        version: "3.1"
        rules:
          - rule: greet
            steps: [{intent: greet}, {action: utter_greet}]
          - rule: bye
            steps: [{intent: goodbye}, {action: utter_goodbye}]
        """,
}


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:
    """A model of a two-intent assistant, trained here (~40 s): the graph runner's comparison
    needs a real model graph, not Kotobot's (which `make test` trains later than some runs)."""
    project = tmp_path_factory.mktemp("tiny")
    for name, text in TINY_PROJECT.items():
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_text(textwrap.dedent(text).lstrip(), "utf-8")
    done = subprocess.run(
        [str(BIN / "rasa"), "train", "--fixed-model-name", "tiny", "--out", "models", "--quiet"],
        cwd=project, capture_output=True, text=True, timeout=600,
        env={"RASA_TELEMETRY_ENABLED": "false", "PATH": str(BIN), "HOME": str(project)},
    )  # fmt: skip
    model = project / "models" / "tiny.tar.gz"
    assert model.exists(), done.stdout[-3000:] + done.stderr[-3000:]
    return model


def test_graph_runs_give_what_dask_gives(tiny_model):
    from rasa.core.agent import load_agent
    from rasa.core.channels.channel import UserMessage

    dask_run = rasa_patches.original("DaskGraphRunner.run")
    assert DaskGraphRunner.run is not dask_run  # the patch is in place
    agent = asyncio.run(load_agent(model_path=str(tiny_model)))
    processor = agent.processor
    runner = processor.graph_runner
    assert isinstance(runner, DaskGraphRunner)
    for text in ["hello", "good night", "miten saan kotoutumissuunnitelman", "ok"]:
        tracker = asyncio.run(processor.get_tracker(f"tuning-{text}"))
        inputs = {"__message__": [UserMessage(text)], "__tracker__": tracker}
        target = [processor.model_metadata.nlu_target]
        ours = runner.run(inputs=inputs, targets=target)[target[0]][0].as_dict()
        dask = dask_run(runner, inputs=inputs, targets=target)[target[0]][0]
        assert ours == dask.as_dict()
        assert ours["intent"]["name"] in ("greet", "goodbye")  # a real parse
    tracker = asyncio.run(processor.get_tracker("tuning-policies"))
    target = [processor.model_metadata.core_target]
    ours = runner.run(inputs={"__tracker__": tracker}, targets=target)[target[0]]
    dask = dask_run(runner, inputs={"__tracker__": tracker}, targets=target)
    assert ours.probabilities == dask[target[0]].probabilities


def test_the_patches_fit_the_installed_rasa():
    assert rasa_patches.problems() == []
    assert rasa_patches.installed()
    assert set(rasa_patches.ORIGINALS) >= {patch.name for patch in rasa_patches.PATCHES}


def test_another_rasa_version_or_a_changed_function_is_refused(monkeypatch):
    assert rasa_patches.problems("3.6.20") == [
        "Rasa 3.6.20 is installed; Kotobot's patches were written for 3.6.21"
    ]
    monkeypatch.setitem(rasa_patches.ORIGINALS, "LockStore.lock", "0" * 16)
    assert rasa_patches.problems() == [
        "LockStore.lock is not the function the patch was written against"
    ]


def test_nothing_is_patched_and_the_server_does_not_start_on_another_rasa(tmp_path):
    """A Rasa of another version (faked in this process only) gets no patch at all."""
    code = textwrap.dedent("""
        import rasa
        rasa.__version__ = "3.7.0"
        from rasa.core.actions.action import RemoteAction
        from bot.server import rasa_patches
        before = RemoteAction._validate_action_result
        try:
            rasa_patches.install()
        except rasa_patches.PatchError as error:
            print("refused:", error)
        assert RemoteAction._validate_action_result is before
        assert not rasa_patches.installed()
    """)
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "refused: Rasa 3.7.0 is installed" in done.stdout


def test_each_patch_replaces_what_it_says_and_keeps_the_original_reachable():
    for patch in rasa_patches.PATCHES:
        current = patch.owner.__dict__[patch.attribute]
        assert current is not rasa_patches.original(patch.name), patch.name
    # the guard patch registers the same routes Rasa's own register does
    from rasa.core.channels.rest import RestInput
    from sanic import Sanic

    routes = []
    for name, register in (
        ("ours", rasa_channel.register),
        ("rasa", rasa_patches.original(f"{rasa_channel.__name__}.register")),
    ):
        app = Sanic(f"patch-test-{name}")
        register([RestInput()], app, "/webhooks/")
        routes.append(sorted(route.path for route in app.router.routes))
    assert routes[0] == routes[1] and "webhooks/rest/webhook" in routes[0]


def test_remembered_event_classes_are_the_ones_rasa_finds():
    from rasa.shared.core.events import Event as RasaEvent

    rasa_resolve = rasa_patches.original("Event.resolve_by_type").__func__
    names = set()
    stack = [RasaEvent]
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        if getattr(cls, "type_name", None):
            names.add(cls.type_name)
    assert len(names) > 20

    def outcome(resolve, name):
        try:
            return resolve(name)
        except ValueError as error:  # an abstract class's name: unknown to both
            return str(error)

    for name in sorted(names) * 2:  # the second time from the patch's memory
        assert outcome(Event.resolve_by_type, name) == outcome(rasa_resolve, name), name


def test_action_replies_are_judged_as_rasa_judges_them():
    action = RemoteAction("action_answer_topic", EndpointConfig("http://127.0.0.1:1/webhook"))
    rasa_validate = rasa_patches.original("RemoteAction._validate_action_result")
    replies = [
        {"events": [], "responses": [{"text": "hei"}]},
        {"events": [{"event": "slot", "name": "language", "value": "fi"}]},
        {"events": "not a list"},
        {"responses": [{"text": 3}], "events": [{"no": "event name"}]},
    ]
    for reply in replies:
        outcomes = []
        for validate in (type(action)._validate_action_result, rasa_validate):
            try:
                outcomes.append(validate(action, reply))
            except ValidationError as error:
                outcomes.append(error.message)
        assert outcomes[0] == outcomes[1], reply
