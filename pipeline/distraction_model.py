"""The fused distraction score: a logistic regression over call-level features of the signals.

Fitted on the train split only — the labeled text calls of ``tests/data/train`` (sound not measured)
and the audio calls of ``samples/train`` (sound measured on the customer's channel, turn times from
the renderer's timing truth). The regularisation strength and the decision threshold are chosen by
stratified cross-validation on those calls (best out-of-fold F1); coefficients, scaling, threshold
and the cross-validation figures are stored together in ``pipeline/distraction_model.json``, which is
committed so reviewers see the weights and a wheel install needs no training data. Regenerate with
``callcoach models prepare distraction``; tests/test_distraction_model.py checks it is up to date.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np

from pipeline.fitted import data_digest, packaged_path, save_json
from pipeline.models import REPO_ROOT

# Order matters: it is the order of the stored coefficients.
FEATURES = (
    "explicit_state", "asked_to_repeat", "talking_to_someone_else", "side_activity", "not_engaged_max",
    "backchannel_share", "longest_streak", "backchannel_repeat", "short_answers", "ended_call", "sharp_questions",
    "sound_measured", "slow_replies", "slow_reply_share", "tonal_noise_share", "broadband_noise_share", "interruptions",
)
MODEL_FILE = "distraction_model.json"
TEXT_TRAIN = REPO_ROOT / "tests" / "data" / "train"
AUDIO_TRAIN = REPO_ROOT / "samples" / "train"
C_GRID = (0.1, 0.3, 1.0, 3.0)
THRESHOLD_GRID = tuple(round(0.2 + 0.05 * i, 2) for i in range(13))  # 0.20 … 0.80
FOLDS = 5
REPEATS = 5
SEED = 7


@dataclass(frozen=True)
class DistractionModel:
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float
    threshold: float

    def probability(self, features: dict[str, float]) -> float:
        x = (np.array([features[name] for name in FEATURES]) - np.array(self.mean)) / np.array(self.scale)
        z = float(np.dot(x, self.coef) + self.intercept)
        return 1.0 / (1.0 + math.exp(-z))


@lru_cache(maxsize=1)
def load_model() -> DistractionModel:
    data = json.loads(resources.files("pipeline").joinpath(MODEL_FILE).read_text("utf-8"))
    if tuple(data["features"]) != FEATURES:
        raise RuntimeError(f"{MODEL_FILE} was fitted on other features; run `callcoach models prepare distraction`")
    return DistractionModel(
        tuple(data["mean"]), tuple(data["scale"]), tuple(data["coef"]), data["intercept"], data["threshold"]
    )


# --- training (needs the repository's train split and scikit-learn) ---------------------------------


@dataclass
class TrainingRow:
    id: str
    source: str  # "text" or "audio"
    features: dict[str, float]
    distracted: bool


def _text_rows() -> list[TrainingRow]:
    from pipeline.analyzers.call import Call
    from pipeline.analyzers.distraction import gather
    from pipeline.transcript import transcript_from_dict

    rows = []
    for path in sorted(TEXT_TRAIN.glob("*.jsonl")):
        for line in path.read_text("utf-8").splitlines():
            if line.strip():
                item = json.loads(line)
                call = Call.parse(transcript_from_dict(item, item["id"]))
                rows.append(TrainingRow(item["id"], "text", gather(call)[1], item["labels"]["distraction"]["distracted"]))
    return rows


def _audio_call(audio_path: Path, timing: dict):
    """The call as the analyser would see it, with turn times from the renderer's truth instead of Whisper."""
    from pipeline.acoustics import measure
    from pipeline.analyzers.call import Call
    from pipeline.audio import load_audio
    from pipeline.transcript import Transcript, Turn, Word

    audio = load_audio(audio_path)
    rep_channel = 0 if timing["rep_channel"] == "left" else 1
    turns = []
    for index, truth in enumerate(timing["turns"]):
        channel = rep_channel if truth["speaker"] == "rep" else 1 - rep_channel
        word = Word(truth["start_s"], truth["end_s"], truth["text"])
        turns.append(Turn(index, truth["speaker"], truth["text"], truth["start_s"], truth["end_s"], channel, [word]))
    transcript = Transcript(timing["language"], turns, duration_s=audio.duration_s)
    return Call.parse(transcript, measure(audio, transcript, 1 - rep_channel))


def _audio_rows() -> list[TrainingRow]:
    from pipeline.analyzers.distraction import gather

    labels_path = AUDIO_TRAIN / "labels.json"
    if not labels_path.is_file():
        return []
    labels = json.loads(labels_path.read_text("utf-8"))
    rows = []
    for stem, label in sorted(labels.items()):
        audio_path = next((p for p in AUDIO_TRAIN.glob(f"{stem}.*") if p.suffix != ".json"), None)
        if audio_path is None:
            raise FileNotFoundError(f"{AUDIO_TRAIN}: no recording for {stem} (render: samples/render.py --set train)")
        timing = json.loads((AUDIO_TRAIN / "timing" / f"{stem}.json").read_text("utf-8"))
        rows.append(TrainingRow(stem, "audio", gather(_audio_call(audio_path, timing))[1], label["distraction"]["distracted"]))
    return rows


def training_rows() -> list[TrainingRow]:
    return _text_rows() + _audio_rows()


def _matrix(rows: list[TrainingRow]) -> tuple[np.ndarray, np.ndarray]:
    x = np.array([[row.features[name] for name in FEATURES] for row in rows], dtype=float)
    y = np.array([row.distracted for row in rows], dtype=int)
    return x, y


def _pipeline(c: float):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=2000))


def out_of_fold(rows: list[TrainingRow], c: float, seed: int = SEED) -> np.ndarray:
    """Probabilities for every row from a model that did not see it (stratified by label and source)."""
    from sklearn.model_selection import StratifiedKFold

    x, y = _matrix(rows)
    strata = [f"{row.source}:{int(row.distracted)}" for row in rows]
    probabilities = np.zeros(len(rows))
    for train, test in StratifiedKFold(FOLDS, shuffle=True, random_state=seed).split(x, strata):
        probabilities[test] = _pipeline(c).fit(x[train], y[train]).predict_proba(x[test])[:, 1]
    return probabilities


def prf(y: np.ndarray, predicted: np.ndarray) -> tuple[float, float, float]:
    tp = int(np.sum(predicted & (y == 1)))
    fp = int(np.sum(predicted & (y == 0)))
    fn = int(np.sum(~predicted & (y == 1)))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def choose(rows: list[TrainingRow]) -> dict:
    """Regularisation and threshold with the best out-of-fold F1, averaged over REPEATS fold splits
    (one split is too noisy on ~200 calls). Ties: stronger regularisation, threshold nearer 0.5."""
    _, y = _matrix(rows)
    best: dict | None = None
    for c in C_GRID:
        runs = [out_of_fold(rows, c, SEED + repeat) for repeat in range(REPEATS)]
        for threshold in THRESHOLD_GRID:
            precision, recall, f1 = np.mean([prf(y, p >= threshold) for p in runs], axis=0)
            key = (round(float(f1), 4), -abs(threshold - 0.5))
            if best is None or key > best["key"]:
                brier = float(np.mean([np.mean((p - y) ** 2) for p in runs]))
                best = {"key": key, "C": c, "threshold": threshold, "precision": float(precision),
                        "recall": float(recall), "f1": float(f1), "brier": brier}
    assert best is not None
    best.pop("key")
    return best


def _data_digest() -> str:
    return data_digest([*TEXT_TRAIN.glob("*.jsonl"), *AUDIO_TRAIN.glob("labels.json"), *AUDIO_TRAIN.glob("timing/*.json")])


def fit(rows: list[TrainingRow] | None = None) -> dict:
    """The model file's content: fitted on all training rows with the cross-validated C and threshold."""
    rows = training_rows() if rows is None else rows
    chosen = choose(rows)
    x, y = _matrix(rows)
    pipeline = _pipeline(chosen["C"]).fit(x, y)
    scaler, regression = pipeline[0], pipeline[1]
    return {
        "features": list(FEATURES),
        "mean": [round(float(v), 6) for v in scaler.mean_],
        "scale": [round(float(v), 6) for v in scaler.scale_],
        "coef": [round(float(v), 6) for v in regression.coef_[0]],
        "intercept": round(float(regression.intercept_[0]), 6),
        "threshold": chosen["threshold"],
        "C": chosen["C"],
        "cross_validation": {
            "folds": FOLDS,
            "repeats": REPEATS,
            **{k: round(chosen[k], 4) for k in ("precision", "recall", "f1", "brier")},
        },
        "training": {
            "text_calls": sum(row.source == "text" for row in rows),
            "audio_calls": sum(row.source == "audio" for row in rows),
            "distracted": int(y.sum()),
            "data_sha256": _data_digest(),
        },
    }


def model_path() -> Path:
    return packaged_path(MODEL_FILE)


def save(model: dict, path: Path | None = None) -> Path:
    path = save_json(model, path or model_path())
    load_model.cache_clear()
    return path
