"""Where the project's data lives; one place so that tests and deployments can point elsewhere."""

from __future__ import annotations

from pathlib import Path

from bot.core.settings import get_settings


def project_root() -> Path:
    """The repository root, or ``KOTOBOT_HOME`` when the package runs from somewhere else."""
    return get_settings().home


def data_path(*parts: str) -> Path:
    """A path below the project root."""
    return project_root().joinpath(*parts)
