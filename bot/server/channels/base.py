"""What every connector shares: settings from environment variables, the 503 webhook of a
connector that is not configured, the user's UI language as metadata, typed choices."""

from __future__ import annotations

import hmac
import logging
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from rasa.shared.core.events import BotUttered, Event, UserUttered
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.server.channels.formatting import Button, could_be_choice, payload_for_choice

logger = logging.getLogger(__name__)

DOCS = "docs/channels.md"
# Seconds for one call to a platform API: a slow platform must not hold a conversation forever.
API_TIMEOUT = 15.0


@dataclass(frozen=True)
class Settings:
    """A connector's environment variables: the values that are set, the required ones missing."""

    channel: str
    values: dict[str, str]
    missing: tuple[str, ...]

    @property
    def configured(self) -> bool:
        return not self.missing

    def get(self, name: str, default: str | None = None) -> str | None:
        return self.values.get(name, default)

    def require(self, name: str) -> str:
        """A required value (only called once the connector is known to be configured)."""
        return self.values[name]


def read_settings(channel: str, required: Sequence[str], optional: Sequence[str] = ()) -> Settings:
    """Reads the variables and says at start-up whether the connector is on, off or half-set."""
    values = {
        name: os.environ[name].strip()
        for name in (*required, *optional)
        if os.environ.get(name, "").strip()
    }
    missing = tuple(name for name in required if name not in values)
    settings = Settings(channel, values, missing)
    if not missing:
        logger.info("%s connector on", channel)
    elif any(name in values for name in required):
        # Half-configured is a deployment mistake: say which variables are missing (not values).
        logger.error(
            "%s connector NOT configured, missing %s: its webhook answers 503 (see %s)",
            channel, ", ".join(missing), DOCS,
        )  # fmt: skip
    else:
        logger.info("%s connector off (set %s to enable it)", channel, ", ".join(required))
    return settings


def not_configured_blueprint(settings: Settings) -> Blueprint:
    """Webhook routes that answer 503 with the variables to set, so a misrouted platform call
    fails clearly (and is retried later by the platform) instead of reaching a half-built channel.
    """
    blueprint = Blueprint(f"{settings.channel}_not_configured", __name__)
    body = {
        "status": "not configured",
        "channel": settings.channel,
        "missing_environment_variables": list(settings.missing),
        "docs": DOCS,
    }

    async def unavailable(request: Request) -> HTTPResponse:
        return response.json(body, status=503)

    blueprint.add_route(unavailable, "/", methods=["GET", "POST"], name="health")
    blueprint.add_route(unavailable, "/webhook", methods=["GET", "POST"], name="webhook")
    return blueprint


def secrets_match(given: str | None, expected: str) -> bool:
    """Constant-time comparison of a shared secret from a request header."""
    return bool(given) and hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def language_metadata(locale: str | None) -> dict[str, str]:
    """``{"language": "xx"}`` from a platform's user locale ("fi", "fi-FI", "pt_BR"), else ``{}``.

    It is the user's app language, not the message's: the language policy only uses it when
    the text itself is not clear (see bot/langid/policy.py).
    """
    if not isinstance(locale, str) or not locale.strip():
        return {}
    code = locale.strip().replace("_", "-").split("-")[0].lower()
    return {"language": code} if code.isalpha() else {}


def offered_buttons(events: Iterable[Event]) -> list[Button]:
    """All buttons the bot sent since the user's last message, in order (as numbered)."""
    turn: list[BotUttered] = []
    for event in reversed(list(events)):
        if isinstance(event, UserUttered):
            break
        if isinstance(event, BotUttered):
            turn.append(event)
    return [
        button for event in reversed(turn) for button in (event.data or {}).get("buttons") or []
    ]


async def typed_choice_to_payload(app: Any, sender_id: str, text: str, numbers: bool = True) -> str:
    """Maps "2" (or an option's title) to the payload of the button offered just before.

    The buttons come from the conversation's tracker, not from memory in this process, so the
    mapping survives restarts and works with several Rasa instances sharing a tracker store.
    """
    if not could_be_choice(text):
        return text
    agent = getattr(getattr(app, "ctx", None), "agent", None)
    tracker_store = getattr(agent, "tracker_store", None)
    if tracker_store is None:
        return text
    try:
        tracker = await tracker_store.retrieve(sender_id)
    except Exception:  # a tracker-store outage must not lose the user's message
        logger.warning("could not read the tracker to map a typed choice", exc_info=True)
        return text
    if tracker is None:
        return text
    return payload_for_choice(text, offered_buttons(tracker.events), numbers) or text
