"""The training data of the shipped models (``models/training/``), read in one place.

- ``calls/<lang>.jsonl``: labeled written calls (docs/labels.md), the train split;
- ``audio/``: rendered training calls (recordings, ``labels.json``, ``timing/`` truth, ``scripts/``),
  used only for the sound weights of the distraction score and the role decision;
- ``<task>_<lang>.jsonl``: written examples of the text classifiers.

The evaluation sets (the dev split, the bundled samples) are never read from here.

Coaches' corrections accepted by ``callcoach models prepare text --feedback`` live beside the trained models
(``<models>/feedback/calls.jsonl``, see ``pipeline.training.feedback``): the text classifiers mine them like
the train split's calls; the distraction score and the role decision do not read them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

from pipeline.paths import REPO_ROOT, TRAINING_DIR, models_dir

CALLS_DIR = TRAINING_DIR / "calls"
AUDIO_DIR = TRAINING_DIR / "audio"


def read_jsonl(path: Path) -> Iterator[dict]:
    for line in path.read_text("utf-8").splitlines():
        if line.strip():
            yield json.loads(line)


def labeled_call_files() -> list[Path]:
    return sorted(CALLS_DIR.glob("*.jsonl"))


def labeled_calls(language: str | None = None) -> list[dict]:
    """The train split's labeled calls (all languages, or one)."""
    calls = [call for path in labeled_call_files() for call in read_jsonl(path)]
    return [call for call in calls if language is None or call["language"] == language]


def feedback_calls_path() -> Path:
    """The coach-corrected calls the text classifiers were last accepted with (may not exist)."""
    return models_dir() / "feedback" / "calls.jsonl"


def feedback_calls(language: str | None = None) -> list[dict]:
    path = feedback_calls_path()
    calls = list(read_jsonl(path)) if path.is_file() else []
    return [call for call in calls if language is None or call["language"] == language]


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
        # Files beside the models (coaches' corrections) are named by their name alone.
        digest.update((path.relative_to(REPO_ROOT).as_posix() if path.is_relative_to(REPO_ROOT) else path.name).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()
