"""Redacts personal data from log records before any handler writes them.

Rasa logs user texts in warnings ("Failed to parse arguments in line '...'"), in structlog
errors (``rest.message.received.failure text=...``) and, at DEBUG, in every parse result; the
action server logs tracebacks whose messages may quote a slot. Logs are shipped and kept longer
than conversations, so they get the same redaction as the tracker store (bot/core/privacy.py).

:func:`install` is called by Kotobot's tracker store and REST channel, so the Rasa server is
covered as configured in endpoints.yml/credentials.yml. The action server is covered with
``rasa run actions --logging-config-file bot/resources/logging.yml``, whose filter factory
(:func:`redacting_filter`) installs the same hook.
"""

from __future__ import annotations

import logging
from typing import Any

from bot.core.privacy import redact

_REDACTED_FLAG = "_kotobot_redacted"
_installed = False


def redact_record(record: logging.LogRecord) -> None:
    """Replaces the record's message (arguments merged), traceback and stack by redacted text."""
    if getattr(record, _REDACTED_FLAG, False):
        return
    try:
        message = record.getMessage()
    except Exception:  # a bad %-format must not lose the record, nor leak its arguments
        message = f"{record.msg} (unformattable arguments dropped)"
    record.msg = redact(message)
    record.args = None
    if record.exc_info and not record.exc_text:
        record.exc_text = logging.Formatter().formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = redact(record.exc_text)
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
    setattr(record, _REDACTED_FLAG, True)


class RedactingFilter(logging.Filter):
    """A handler or logger filter: lets every record through, redacted."""

    def filter(self, record: logging.LogRecord) -> bool:
        redact_record(record)
        return True


def install() -> None:
    """Redacts every record of this process at creation, whatever logger or handler (idempotent).

    A record factory rather than a handler filter: Rasa, Sanic and coloredlogs add and replace
    handlers after start-up, and filters on a logger do not apply to its children's records.
    Python warnings are routed into logging so that they are redacted too.
    """
    global _installed
    if _installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        redact_record(record)
        return record

    logging.setLogRecordFactory(factory)
    logging.captureWarnings(True)
    _installed = True


def redacting_filter() -> RedactingFilter:
    """Filter factory for logging config files (``"()": bot.core.log_redaction.redacting_filter``):
    installs the process-wide hook as soon as the config is read."""
    install()
    return RedactingFilter()
