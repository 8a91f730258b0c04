"""Shared fixtures: the real servers for end-to-end tests, and the trained model's NLU.

Shared helpers that are not fixtures live in tests/support/.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from bot.tools.harness import Bot, running_bot
from tests.support.paths import MODEL


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
