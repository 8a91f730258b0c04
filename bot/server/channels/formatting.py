"""Turns the assistant's replies into what each platform can show.

Replies are written once (``bot.content.replies``) with light Markdown (``**bold**``, ``- `` lists)
and Rasa buttons. Platforms without quick replies get the buttons as numbered options, and the
number (or the option's title) typed back is mapped to the button's payload: one helper here for
every connector, so the numbering looks and parses the same everywhere.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

Button = Mapping[str, Any]

_BOLD = re.compile(r"\*\*(.+?)\*\*", re.DOTALL)
# "2", "2.", "2)", "(2)", "[2]", "#2": how people type back an option number.
_CHOICE = re.compile(r"^\s*[#(\[]?\s*(\d{1,2})\s*[.)\]]?\s*$")
# Longer texts are never a typed choice: saves a tracker look-up per ordinary message.
MAX_CHOICE_CHARS = 80


def markdown_to_plain(text: str) -> str:
    """``**bold**`` -> ``bold`` for platforms that show text as typed (Telegram, SMS, Messenger)."""
    return _BOLD.sub(r"\1", text)


def markdown_to_single_star(text: str) -> str:
    """``**bold**`` -> ``*bold*``: bold in Slack mrkdwn and WhatsApp."""
    return _BOLD.sub(r"*\1*", text)


def split_message(text: str, limit: int) -> list[str]:
    """Pieces of at most ``limit`` characters, cut between paragraphs, else lines, else words.

    Rasa's channels send every paragraph as its own message; an answer card would arrive as
    six bubbles (or six paid SMS). Packing paragraphs up to the platform's limit keeps it one.
    """
    text = text.strip()
    if not text:
        return []
    pieces: list[str] = []
    current = ""
    for block in _blocks(text, limit):
        joined = f"{current}{block}" if current else block.lstrip("\n")
        if len(joined) <= limit:
            current = joined
        else:
            if current:
                pieces.append(current.strip())
            current = block.lstrip("\n")
    if current.strip():
        pieces.append(current.strip())
    return pieces


def _blocks(text: str, limit: int) -> Iterable[str]:
    """Paragraphs (with their separator), each short enough, split further when needed."""
    for number, paragraph in enumerate(text.split("\n\n")):
        prefix = "\n\n" if number else ""
        if len(paragraph) <= limit:
            yield prefix + paragraph
            continue
        for line_number, line in enumerate(paragraph.split("\n")):
            line_prefix = prefix if line_number == 0 else "\n"
            while len(line) > limit:
                cut = line.rfind(" ", 0, limit)
                cut = cut if cut > 0 else limit
                yield line_prefix + line[:cut]
                line, line_prefix = line[cut:].lstrip(), "\n"
            yield line_prefix + line


def numbered_options(text: str, buttons: Sequence[Button], start: int = 1) -> str:
    """The reply text followed by one ``n) title`` line per button.

    ``n)`` rather than ``n.``: answer cards already number their steps ``1.``, ``2.``. One turn
    often has two messages with buttons (an answer's related topics, then "Was this helpful?");
    their options are numbered on (``start``) so that every number means one thing.
    """
    options = "\n".join(
        f"{number}) {button.get('title', '')}" for number, button in enumerate(buttons, start)
    )
    return f"{text.rstrip()}\n\n{options}" if text.strip() else options


def payload_for_choice(typed: str, buttons: Sequence[Button], numbers: bool = True) -> str | None:
    """The payload of the button the user chose by typing its number or its exact title.

    ``buttons`` are all the buttons of the bot's last turn, in order (as numbered). Channels
    that show real buttons pass ``numbers=False``: there a typed "2" is just text.
    """
    if not typed or len(typed) > MAX_CHOICE_CHARS or not buttons:
        return None
    match = _CHOICE.match(typed)
    if match:
        index = int(match.group(1)) - 1
        if numbers and 0 <= index < len(buttons):
            return _payload(buttons[index])
        return None
    wanted = typed.strip().casefold()
    for button in buttons:
        if str(button.get("title", "")).strip().casefold() == wanted:
            return _payload(button)
    return None


def _payload(button: Button) -> str | None:
    payload = button.get("payload")
    return payload if isinstance(payload, str) and payload else None


def could_be_choice(typed: str | None) -> bool:
    """Cheap pre-check before looking up the conversation: short text, not a ``/payload``."""
    return bool(typed) and len(typed) <= MAX_CHOICE_CHARS and not typed.startswith("/")
