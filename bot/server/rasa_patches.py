"""Every change Kotobot makes to Rasa 3.6.21's own code, in one place, installed explicitly.

:func:`install` is called by whatever starts Rasa for Kotobot: ``python -m bot.server.serve``
(``make run``, the container, the test harness) and ``python -m bot.server.patched_rasa``
(``rasa test`` in ``make test``). It refuses to run on any Rasa but :data:`RASA_VERSION`, and on
a Rasa whose replaced functions are not the ones the patches were written against (their source
is fingerprinted in :data:`ORIGINALS`): upgrade Rasa, re-read each patch, then update both.
Components Rasa loads from endpoints.yml warn when it was not called (:func:`warn_if_missing`),
so a plain ``rasa run`` is not silently slower and less guarded.

What each patch replaces (tests/test_rasa_patches.py compares each with Rasa's original):

- ``RemoteAction._validate_action_result`` calls ``jsonschema.validate``, which re-checks the
  *schema itself* against the meta-schema and builds a new validator for every action server
  reply: ~40 % of the Rasa server's CPU with two custom actions per message (py-spy under
  ``make bench``, docs/performance.md). Here the validator is built once per schema.
- ``Event.resolve_by_type`` walks every subclass of ``Event`` for each event it rebuilds (per
  message, once per stored event read back and once per event redacted). Here the class found
  for a type name is remembered.
- ``EndpointConfig.session`` opens a new aiohttp session, so a new TCP connection, for every call
  to the action server. Here each endpoint keeps one session per event loop (keep-alive).
- ``DaskGraphRunner.run`` rebuilds the minimal graph and hands it to dask for every NLU parse and
  policy prediction, for graphs of ~10 nodes that run one after the other anyway. Here the order
  is computed once per set of targets and the nodes are called in it, same inputs and outputs.
- ``rasa.server.create_app``: sanic-jwt turns a bad signature into a 401 but a token signed with
  another algorithm (``alg: none``) or malformed for PyJWT into a 500 with a stack trace. The
  app Rasa builds here answers 401 to every invalid token.
- ``rasa.core.channels.channel.register`` hands each input channel Rasa's bare message handler.
  Here every channel gets the input guard (bot/server/channels/guard.py) in front of it, also a
  stock connector named only in credentials.yml; Kotobot's channels call the guard themselves
  (with their typed-choice mapping) and a message is checked once.

Subclasses that override Rasa internals are not patches, but they depend on those internals as
much, so their originals are fingerprinted too: ``RedactingTrackerStore`` (bot/server/
tracker_store.py) replaces ``SQLTrackerStore._retrieve``, ``save`` and ``_stream_new_events``;
``KotobotLockStore`` (bot/server/lock_store.py) replaces ``LockStore.lock`` (a message whose ticket
expired while it waited hung forever) and the lock read-change-write methods.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import inspect
import logging
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any
from urllib.parse import urljoin

import aiohttp
import rasa
import rasa.server
from jsonschema import ValidationError
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction
from rasa.core.channels import channel as rasa_channel
from rasa.engine.exceptions import GraphRunError
from rasa.engine.runner.dask import DaskGraphRunner
from rasa.shared.constants import DOCS_BASE_URL
from rasa.shared.core.events import Event
from rasa.utils.endpoints import EndpointConfig

from bot.core.log_redaction import install as install_log_redaction

RASA_VERSION = "3.6.21"
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


def answer_bad_tokens_with_401(create_app: Callable[..., Any]) -> Callable[..., Any]:
    """``rasa.server.create_app`` whose apps answer 401 to any invalid JWT (see above)."""
    import jwt
    from sanic import response
    from sanic.request import Request
    from sanic.response import HTTPResponse

    def create_app_answering_401(*args: Any, **kwargs: Any) -> Any:
        app = create_app(*args, **kwargs)

        @app.exception(jwt.InvalidTokenError)
        async def not_authenticated(request: Request, error: Exception) -> HTTPResponse:
            refusal = rasa.server.ErrorResponse(
                HTTPStatus.UNAUTHORIZED, "NotAuthenticated", "User is not authenticated."
            )
            return response.json(refusal.error_info, status=refusal.status)

        return app

    return create_app_answering_401


def register_guarded(input_channels: list[Any], app: Any, route: str | None) -> None:
    """``rasa.core.channels.channel.register`` with the input guard in front of every channel."""
    from bot.server.channels.guard import guarded_handler

    async def handler(message: Any) -> None:
        await app.ctx.agent.handle_message(message)

    guarded = guarded_handler(app, handler)
    for channel in input_channels:
        prefix = urljoin(route, channel.url_prefix()) if route else None
        app.blueprint(channel.blueprint(guarded), url_prefix=prefix)
    app.ctx.input_channels = input_channels


@dataclass(frozen=True)
class Patch:
    """``owner.attribute`` of Rasa replaced by ``replacement(original)``."""

    owner: Any
    attribute: str
    replacement: Callable[[Any], Any]

    @property
    def name(self) -> str:
        return f"{self.owner.__name__}.{self.attribute}"


def _same(replacement: Any) -> Callable[[Any], Any]:
    return lambda _original: replacement


PATCHES = (
    Patch(RemoteAction, "_validate_action_result", _same(_validate_action_result)),
    Patch(Event, "resolve_by_type", _same(staticmethod(_resolve_by_type))),
    Patch(EndpointConfig, "session", _same(_kept_session)),
    Patch(DaskGraphRunner, "run", _same(_run_graph)),
    Patch(rasa.server, "create_app", answer_bad_tokens_with_401),
    Patch(rasa_channel, "register", _same(register_guarded)),
)

# sha256 (first 16 hex digits) of the source of every Rasa function replaced above or
# overridden by a Kotobot subclass, as in Rasa RASA_VERSION (`python -m bot.server.rasa_patches`
# prints them).
ORIGINALS = {
    "RemoteAction._validate_action_result": "f8cdb4be68123961",
    "Event.resolve_by_type": "b5cf570fa7f286c7",
    "EndpointConfig.session": "e55aa13d9d4fb4bc",
    "DaskGraphRunner.run": "45f0f52f574f3aa9",
    "rasa.server.create_app": "3f241a21aeb8f727",
    "rasa.core.channels.channel.register": "f6dc783f1ad3638e",
    "SQLTrackerStore._retrieve": "c8adbf6f4b61ddd1",
    "SQLTrackerStore.save": "57165e46eab3de08",
    "SQLTrackerStore._stream_new_events": "a3990c70850759b8",
    "LockStore.lock": "8b9b716c031a3444",
    "LockStore.issue_ticket": "4dfdfb5e62c1dda9",
    "LockStore.update_lock": "d56816a13451e7a5",
    "LockStore.cleanup": "f2ba1745c8153f92",
}


class PatchError(RuntimeError):
    """The installed Rasa is not the one the patches were written and tested for."""


# Rasa's own functions, as imported (before any install): for the checks and the tests.
_RASA_OWN = {patch.name: patch.owner.__dict__[patch.attribute] for patch in PATCHES}


def original(name: str) -> Any:
    """Rasa's own ``name`` from :data:`ORIGINALS` (e.g. "DaskGraphRunner.run"), also after
    :func:`install`."""
    if name in _RASA_OWN:
        return _RASA_OWN[name]
    from rasa.core.lock_store import LockStore
    from rasa.core.tracker_store import SQLTrackerStore

    owner, attribute = name.rsplit(".", 1)
    return getattr({"SQLTrackerStore": SQLTrackerStore, "LockStore": LockStore}[owner], attribute)


def fingerprint(function: Any) -> str:
    """A digest of a function's source: changes when Rasa changes what the patch replaced."""
    source = inspect.getsource(inspect.unwrap(getattr(function, "__func__", function)))
    return hashlib.sha256(source.encode("utf-8")).hexdigest()[:16]


def problems(version: str | None = None) -> list[str]:
    """Why the patches must not be installed on this Rasa ([] when they may)."""
    version = rasa.__version__ if version is None else version
    if version != RASA_VERSION:
        return [f"Rasa {version} is installed; Kotobot's patches were written for {RASA_VERSION}"]
    return [
        f"{name} is not the function the patch was written against"
        for name, digest in ORIGINALS.items()
        if fingerprint(original(name)) != digest
    ]


def installed() -> bool:
    return bool(getattr(RemoteAction, _INSTALLED, False))


def install() -> None:
    """Installs every patch and the log redaction (once per process); :class:`PatchError` on a
    Rasa the patches were not written for, before anything is replaced."""
    if installed():
        return
    found = problems()
    if found:
        raise PatchError("; ".join(found) + " (bot/server/rasa_patches.py)")
    for patch in PATCHES:
        current = patch.owner.__dict__[patch.attribute]
        setattr(patch.owner, patch.attribute, patch.replacement(current))
    setattr(RemoteAction, _INSTALLED, True)
    install_log_redaction()


def warn_if_missing(component: str) -> None:
    """Logs once that Rasa was started without :func:`install` (e.g. plain ``rasa run``)."""
    global _warned
    if not installed() and not _warned:
        _warned = True
        logging.getLogger(__name__).warning(
            "%s: Rasa was started without Kotobot's patches (start it with `python -m "
            "bot.server.serve`): stock channels are not guarded and replies are slower",
            component,
        )


_warned = False


if __name__ == "__main__":
    for name in ORIGINALS:
        print(f'    "{name}": "{fingerprint(original(name))}",')
