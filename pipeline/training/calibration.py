"""Fitting ``pipeline/analysis/calibration.json``: per verdict basis, how many tuning calls carried the label.

The tuning sets: the train split's written calls, the training audio as Whisper heard it
(``models/training/asr``), and — when the shared real data is there — the tuning parts of the labeled beike
chats (``models/training/beike/tune*.jsonl``, every draw) (their labels are in the repository, their texts in ``../shared/realdata``). Held-out sets (the dev
split, the samples, the beike held-out part, the unseen industries) are never counted here; they measure the
reliability (``benchmarks/calibration.py``).
"""

from __future__ import annotations

from pathlib import Path

from pipeline.analysis import calibration
from pipeline.analyze import Analyzer
from pipeline.errors import CallcoachError
from pipeline.training.data import TRAINING_DIR, data_digest, labeled_call_files, save_json
from pipeline.training.evaluate import LabeledCall, load_labeled
from pipeline.transcript import transcript_from_dict

BEIKE_TUNES = sorted((TRAINING_DIR / "beike").glob("tune*.jsonl"))
ASR_TRAIN = TRAINING_DIR / "asr" / "train_audio.jsonl"


def tuning_calls() -> tuple[list[LabeledCall], list[str]]:
    """The labeled calls the table is counted on, and the names of the sets they came from."""
    calls = [call for path in labeled_call_files() for call in load_labeled(path)]
    sources = ["train split"]
    if ASR_TRAIN.is_file():
        calls += load_labeled(ASR_TRAIN)
        sources.append("training audio through Whisper")
    try:
        calls += [call for path in BEIKE_TUNES for call in load_labeled(path)]
        sources.append(f"beike tuning parts ({len(BEIKE_TUNES)} draws)")
    except CallcoachError:
        pass  # no shared real data here: the table is counted on the rest
    return calls, sources


def data_files() -> list[Path]:
    return [*labeled_call_files(), *[p for p in (ASR_TRAIN, *BEIKE_TUNES) if p.is_file()]]


def fit() -> dict:
    calls, sources = tuning_calls()
    analyzer = Analyzer()
    counts: dict[str, dict[str, dict[str, int]]] = {finding: {} for finding in calibration.FINDINGS}
    for call in calls:
        assert call.transcript is not None
        meeting = analyzer.analyze_transcript(transcript_from_dict(call.transcript, call.id), call.id).meeting
        truth = call.labels["meeting"]
        rows: list[tuple[str, str, bool]] = [("meeting.pushed", meeting.pushed_basis, truth["pushed"]),
                ("meeting.downgraded", meeting.downgraded_basis, truth["downgraded"])]
        if meeting.concrete_basis is not None and truth["pushed"]:  # concrete is scored on pushed calls
            rows.append(("meeting.concrete", meeting.concrete_basis, truth["concrete"]))
        for finding, basis, label in rows:
            cell = counts[finding].setdefault(basis, {"n": 0, "positive": 0})
            cell["n"] += 1
            cell["positive"] += bool(label)
    return {"counts": counts, "training": {"calls": len(calls), "sources": sources, "data_sha256": data_sha256()}}


def data_sha256() -> str:
    return data_digest(data_files())


def save(model: dict) -> Path:
    path = save_json(model, calibration.model_path())
    calibration.clear_cache()
    return path
