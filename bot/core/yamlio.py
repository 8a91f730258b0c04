"""One YAML loader for the whole project (safe, UTF-8, cached by path and mtime)."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import yaml


@functools.lru_cache(maxsize=256)
def _load_cached(path: str, _mtime_ns: int) -> Any:
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def load_yaml(path: Path) -> Any:
    """Parse a YAML file; re-read only when the file changed on disk."""
    return _load_cached(str(path), path.stat().st_mtime_ns)
