"""What the ``language`` and ``ui_language`` slots become after a user message.

One pure function over what Rasa knows at that moment (the parse result with this message's
detection, the channel metadata, the current slots), used in-process by the language policy
(bot/server/policies/language.py). The keep-or-switch rules themselves live in bot/langid/policy.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.core.locales import supported_languages
from bot.langid.explicit import explicit_language
from bot.langid.policy import LanguageEvidence, decide_language
from bot.langid.ui import ui_language_from_metadata

NLU_FALLBACK = "nlu_fallback"


def language_updates(
    parse: Mapping[str, Any],
    metadata: Mapping[str, Any] | None,
    current: str | None,
    previous_ui: str | None,
    unsure: bool = False,
) -> dict[str, Any]:
    """The slots that change (``language``, ``ui_language``, ``language_unsure``) after the
    message parsed as ``parse`` arrived with channel ``metadata``; empty when nothing changes."""
    info = parse.get("language") or {}
    # Button payloads ("/topic") skip language detection: take the UI language from the event.
    ui_language = info.get("ui_language") or ui_language_from_metadata(
        dict(metadata or {}), supported_languages()
    )
    evidence = LanguageEvidence(
        detected=info.get("language"),
        reliable=bool(info.get("reliable")),
        confidence=float(info.get("confidence") or 0.0),
        understood=(parse.get("intent") or {}).get("name") != NLU_FALLBACK,
        unsupported=info.get("unsupported"),
        explicit=explicit_language(dict(parse)),
        ui_language=ui_language,
        words=int(info.get("words") or 0),
    )
    decision = decide_language(current, evidence, previous_ui, supported_languages(), unsure)
    updates: dict[str, Any] = {}
    if decision.language and decision.language != current:
        updates["language"] = decision.language
    if decision.unsure != unsure:
        updates["language_unsure"] = decision.unsure
    if evidence.ui_language and evidence.ui_language != previous_ui:
        updates["ui_language"] = evidence.ui_language
    return updates
