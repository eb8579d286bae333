"""Shared fixtures: paths to the bundled samples and to ../shared/realdata, and one Analyzer per session."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
DATA = Path(__file__).resolve().parent / "data"
REALDATA = ROOT.parent / "shared" / "realdata"


@pytest.fixture(scope="session")
def realdata() -> Path:
    if not REALDATA.is_dir():
        pytest.skip(f"real recordings not present at {REALDATA} (only on team machines and CI)")
    return REALDATA


@pytest.fixture(scope="session")
def analyzer():
    """One Analyzer (Whisper loaded once) for every test that transcribes."""
    from pipeline.analyze import Analyzer

    return Analyzer()


@pytest.fixture(scope="session")
def sample_labels() -> dict:
    return json.loads((SAMPLES / "labels.json").read_text("utf-8"))


def labeled_calls(split: str) -> list[dict]:
    calls = []
    for path in sorted((DATA / split).glob("*.jsonl")):
        calls.extend(json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip())
    return calls
