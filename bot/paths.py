"""Where the project's data lives; one place so that tests and deployments can point elsewhere."""

from __future__ import annotations

import os
from pathlib import Path


def project_root() -> Path:
    """The repository root, or ``KOTOBOT_HOME`` when the package runs from somewhere else."""
    env = os.environ.get("KOTOBOT_HOME")
    return Path(env) if env else Path(__file__).resolve().parent.parent


def data_path(*parts: str) -> Path:
    """A path below the project root."""
    return project_root().joinpath(*parts)
