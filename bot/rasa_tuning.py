"""Fixes for Rasa 3.6 internals that cost more per message than Kotobot's whole NLU pipeline.

Profiled with py-spy under the REST load of ``make bench`` (docs/performance.md):

- ``RemoteAction._validate_action_result`` calls ``jsonschema.validate``, which re-checks the
  *schema itself* against the JSON-Schema meta-schema and builds a new validator on every action
  server reply: ~40 % of the Rasa server's CPU time with two custom actions per message. Here the
  validator is built once per schema; replies are validated exactly as before.

- ``Event.resolve_by_type`` walks every subclass of ``Event`` (with ``inspect.isabstract``) for
  each event it rebuilds: per message, once per stored event read back and once per event
  redacted. Here the class found for a type name is remembered.

- ``EndpointConfig.request`` opens a new aiohttp session, and so a new TCP connection, for every
  call to the action server (one or two per message). Here each endpoint keeps one session per
  event loop, with keep-alive connections; the requests themselves are unchanged.

- ``DaskGraphRunner.run`` rebuilds the minimal graph and hands it to dask's scheduler for every
  NLU parse and every policy prediction (three or four per message), for graphs of ~10 nodes
  that run one after the other anyway. Here the order is computed once per set of targets and
  the nodes are called in it, with the same inputs and outputs as under dask.

``install()`` is idempotent and is called when Rasa builds our NLG from endpoints.yml, which every
server process does before its first message (bot/nlg.py).
"""

from __future__ import annotations

import asyncio
import functools
from typing import Any

import aiohttp
from jsonschema import ValidationError
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction
from rasa.engine.exceptions import GraphRunError
from rasa.engine.runner.dask import DaskGraphRunner
from rasa.shared.constants import DOCS_BASE_URL
from rasa.shared.core.events import Event
from rasa.utils.endpoints import EndpointConfig

_INSTALLED = "_kotobot_cached_validator"


@functools.cache
def _validator(action_class: type[RemoteAction]) -> Any:
    """The validator of a RemoteAction class's response schema (a static method: per class)."""
    schema = action_class.action_response_format_spec()
    cls = validator_for(schema)
    cls.check_schema(schema)  # once, as jsonschema.validate would on every call
    return cls(schema)


def _validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
    """RemoteAction._validate_action_result with the validator built once."""
    try:
        _validator(type(self)).validate(result)
        return True
    except ValidationError as error:
        error.message += (
            ". Failed to validate Action server response from API, make sure your response "
            f"from the Action endpoint is valid. For more information about the format visit "
            f"{DOCS_BASE_URL}/custom-actions"
        )
        raise


_resolve_event_type = Event.resolve_by_type
_event_classes: dict[str, type[Event]] = {}


def _resolve_by_type(type_name: str, default: type[Event] | None = None) -> type[Event] | None:
    """Event.resolve_by_type, remembering each class found (unknown names behave as before)."""
    cls = _event_classes.get(type_name)
    if cls is None:
        cls = _resolve_event_type(type_name, default)
        if cls is not None and cls.type_name == type_name:
            _event_classes[type_name] = cls
    return cls


_new_session = EndpointConfig.session
_SESSION = "_kotobot_session"


class _KeptSession:
    """``async with`` a session that outlives the block (EndpointConfig.request closes its)."""

    def __init__(self, session: aiohttp.ClientSession) -> None:
        self._session = session

    async def __aenter__(self) -> aiohttp.ClientSession:
        return self._session

    async def __aexit__(self, *exc_info: object) -> None:
        return None


def _kept_session(self: EndpointConfig) -> Any:
    """The endpoint's session for the running event loop (a new one after the loop changed
    or the session was closed), so connections to the action server are reused."""
    loop = asyncio.get_running_loop()
    kept = getattr(self, _SESSION, None)
    if kept is None or kept[0] is not loop or kept[1].closed:
        kept = (loop, _new_session(self))
        setattr(self, _SESSION, kept)
    return _KeptSession(kept[1])


_ORDER = "_kotobot_run_order"


def _run_order(runner: DaskGraphRunner, targets: tuple[str, ...]) -> list[tuple[str, Any, list]]:
    """(node name, node, names of its inputs) for every node the targets need, parents first."""
    orders = runner.__dict__.setdefault(_ORDER, {})
    if targets not in orders:
        schema = runner._graph_schema.minimal_graph_schema(list(targets))
        order: list[str] = []

        def visit(name: str) -> None:
            if name in order or name not in schema.nodes:
                return
            for parent in schema.nodes[name].needs.values():
                visit(parent)
            order.append(name)

        for target in targets:
            visit(target)
        nodes = runner._instantiated_nodes
        orders[targets] = [
            (name, nodes[name], list(schema.nodes[name].needs.values())) for name in order
        ]
    return orders[targets]


_dask_run = DaskGraphRunner.run  # the original, for comparison in tests/test_rasa_tuning.py


def _run_graph(
    self: DaskGraphRunner,
    inputs: dict[str, Any] | None = None,
    targets: list[str] | None = None,
) -> dict[str, Any]:
    """DaskGraphRunner.run without dask: the same nodes, called in dependency order."""
    run_targets = tuple(targets if targets else self._graph_schema.target_names)
    results: dict[str, Any] = {name: (name, value) for name, value in (inputs or {}).items()}
    try:
        for name, node, needs in _run_order(self, run_targets):
            # As under dask: a need nobody provides is passed as its bare name.
            results[name] = node(*(results.get(need, need) for need in needs))
    except RuntimeError as error:
        raise GraphRunError("Error running runner.") from error
    return dict(results[target] for target in run_targets)


def install() -> None:
    """Replaces the slow Rasa internals above (once per process)."""
    if getattr(RemoteAction, _INSTALLED, False):
        return
    RemoteAction._validate_action_result = _validate_action_result  # type: ignore[method-assign]
    Event.resolve_by_type = staticmethod(_resolve_by_type)  # type: ignore[method-assign]
    EndpointConfig.session = _kept_session  # type: ignore[method-assign]
    DaskGraphRunner.run = _run_graph  # type: ignore[method-assign]
    setattr(RemoteAction, _INSTALLED, True)
