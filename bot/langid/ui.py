"""The UI language a channel sends as metadata: REST ``metadata``, widget ``customData``."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def ui_language_from_metadata(metadata: Any, supported: Iterable[str]) -> str | None:
    """``{"language": "xx"}`` (or a BCP 47 tag such as "xx-YY", "zh-Hans"), if its primary
    language is one we support. Three-letter codes are not cut: "fil" (Filipino) is not "fi"."""
    if not isinstance(metadata, dict):
        return None
    value = metadata.get("language")
    if not isinstance(value, str):
        return None
    code = value.strip().lower().replace("_", "-").split("-")[0]
    return code if code in set(supported) else None
