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


def speakers_agree_with_timing(turns, stem: str) -> float:
    """Share of the sample's true turns (1.5 s or longer) whose most-overlapping reported turn has the same
    speaker: what must hold for roles whatever words and turn cuts Whisper produced on this CPU.
    ``turns``: report turns (objects or dicts with speaker, start, end)."""
    truth = json.loads((SAMPLES / "timing" / f"{stem}.json").read_text("utf-8"))["turns"]

    def field(turn, name):
        return turn[name] if isinstance(turn, dict) else getattr(turn, name)

    agree = total = 0
    for true in truth:
        if true["end_s"] - true["start_s"] < 1.5:
            continue
        overlap = [(min(true["end_s"], field(t, "end")) - max(true["start_s"], field(t, "start")), t) for t in turns
                   if field(t, "start") is not None and field(t, "end") is not None]
        best = max(overlap, key=lambda pair: pair[0], default=(0.0, None))
        total += 1
        agree += best[0] > 0 and field(best[1], "speaker") == true["speaker"]
    return agree / total if total else 0.0


@pytest.fixture(scope="session")
def sample_labels() -> dict:
    return json.loads((SAMPLES / "labels.json").read_text("utf-8"))


TRAINING_CALLS = ROOT / "models" / "training" / "calls"


def _read_calls(folder: Path) -> list[dict]:
    calls = []
    for path in sorted(folder.glob("*.jsonl")):
        calls.extend(json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip())
    return calls


def labeled_calls(split: str) -> list[dict]:
    """Labeled written calls: "train" (what the shipped models are fitted from) or "dev" (evaluation only)."""
    return _read_calls(TRAINING_CALLS if split == "train" else DATA / split)


def all_labeled_calls() -> list[dict]:
    """Every labeled written call with turns (train, then dev): realistic transcripts for store and batch tests."""
    return labeled_calls("train") + labeled_calls("dev")
