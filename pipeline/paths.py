"""Where callcoach's files live: the checkout, assembled and trained models, packaged data files."""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
# The data the shipped models are fitted from (a checkout has it; a wheel install does not).
TRAINING_DIR = REPO_ROOT / "models" / "training"


def models_dir() -> Path:
    """Where assembled and trained models live: $CALLCOACH_MODELS_DIR, else the checkout's models/."""
    configured = os.environ.get("CALLCOACH_MODELS_DIR")
    if configured:
        return Path(configured)
    if (REPO_ROOT / "pyproject.toml").exists():
        return REPO_ROOT / "models"
    return Path.home() / ".local" / "share" / "callcoach" / "models"


def packaged(package: str, file_name: str) -> Path:
    """A data file shipped inside a subpackage, e.g. ``packaged("pipeline.analysis", "role_model.json")``."""
    return Path(str(resources.files(package).joinpath(file_name)))
