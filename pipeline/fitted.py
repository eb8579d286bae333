"""Shared plumbing of the models fitted on the train split and committed as JSON in the package
(distraction_model.json, role_model.json): where they live, writing them atomically, and the
SHA-256 of the training data that tells a test when a refit is due."""

from __future__ import annotations

import hashlib
import json
from importlib import resources
from pathlib import Path

from pipeline.models import REPO_ROOT


def packaged_path(file_name: str) -> Path:
    return Path(str(resources.files("pipeline").joinpath(file_name)))


def save_json(model: dict, path: Path) -> Path:
    """Write next to the target and rename, so a reader never sees half a model."""
    staging = path.with_suffix(".tmp")
    staging.write_text(json.dumps(model, ensure_ascii=False, indent=1) + "\n", "utf-8")
    staging.replace(path)
    return path


def data_digest(paths: list[Path]) -> str:
    """SHA-256 over the training files' repository paths and contents, in path order."""
    digest = hashlib.sha256()
    for path in sorted(paths):
        digest.update(path.relative_to(REPO_ROOT).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()
