"""Fitting the fused distraction score of ``pipeline.analysis.distraction_score``
(``callcoach models prepare distraction``).

Fitted on the train split only — the labeled text calls of ``models/training/calls`` (sound not measured)
and the rendered audio calls of ``models/training/audio`` (sound measured on the customer's channel, turn
times from the renderer's timing truth). The regularisation strength and the decision threshold are
chosen by stratified cross-validation on those calls (best out-of-fold F1); coefficients, scaling,
threshold and the cross-validation figures are stored together in ``pipeline/analysis/distraction_model.json``
(committed; a test checks it is up to date).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline.analysis.call import Call
from pipeline.analysis.distraction import gather
from pipeline.analysis.distraction_score import FEATURES, load_model, model_path
from pipeline.audio.acoustics import measure
from pipeline.audio.decode import load_audio
from pipeline.training.data import AUDIO_DIR, data_digest, labeled_call_files, labeled_calls, save_json
from pipeline.training.metrics import prf
from pipeline.transcript import Transcript, Turn, Word, transcript_from_dict

C_GRID = (0.1, 0.3, 1.0, 3.0)
THRESHOLD_GRID = tuple(round(0.2 + 0.05 * i, 2) for i in range(13))  # 0.20 … 0.80
FOLDS = 5
REPEATS = 5
SEED = 7


@dataclass
class TrainingRow:
    id: str
    source: str  # "text" or "audio"
    features: dict[str, float]
    distracted: bool


def _text_rows() -> list[TrainingRow]:
    rows = []
    for item in labeled_calls():
        if item.get("channel") == "chat":
            continue  # a chat has no voice, no pauses and no moment of half-listening: nothing to learn about calls
        call = Call.parse(transcript_from_dict(item, item["id"]))
        rows.append(TrainingRow(item["id"], "text", gather(call)[1], item["labels"]["distraction"]["distracted"]))
    return rows


def _audio_call(audio_path: Path, timing: dict):
    """The call as the analyser would see it, with turn times from the renderer's truth instead of Whisper."""
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
    labels_path = AUDIO_DIR / "labels.json"
    if not labels_path.is_file():
        return []
    labels = json.loads(labels_path.read_text("utf-8"))
    rows = []
    for stem, label in sorted(labels.items()):
        audio_path = next((p for p in AUDIO_DIR.glob(f"{stem}.*") if p.suffix != ".json"), None)
        if audio_path is None:
            raise FileNotFoundError(f"{AUDIO_DIR}: no recording for {stem} (render the training set with the sample renderer: render.py --set train)")
        timing = json.loads((AUDIO_DIR / "timing" / f"{stem}.json").read_text("utf-8"))
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


def prf_of(y: np.ndarray, predicted: np.ndarray) -> tuple[float, float, float]:
    """Precision, recall and F1 of boolean predictions against 0/1 labels."""
    return prf(int(np.sum(predicted & (y == 1))), int(np.sum(predicted & (y == 0))), int(np.sum(~predicted & (y == 1))))


def choose(rows: list[TrainingRow]) -> dict:
    """Regularisation and threshold with the best out-of-fold F1, averaged over REPEATS fold splits
    (one split is too noisy on ~200 calls). Ties: stronger regularisation, threshold nearer 0.5."""
    _, y = _matrix(rows)
    best: dict | None = None
    for c in C_GRID:
        runs = [out_of_fold(rows, c, SEED + repeat) for repeat in range(REPEATS)]
        for threshold in THRESHOLD_GRID:
            precision, recall, f1 = np.mean([prf_of(y, p >= threshold) for p in runs], axis=0)
            key = (round(float(f1), 4), -abs(threshold - 0.5))
            if best is None or key > best["key"]:
                brier = float(np.mean([np.mean((p - y) ** 2) for p in runs]))
                best = {"key": key, "C": c, "threshold": threshold, "precision": float(precision),
                        "recall": float(recall), "f1": float(f1), "brier": brier}
    assert best is not None
    best.pop("key")
    return best


def data_sha256() -> str:
    return data_digest([*labeled_call_files(), *AUDIO_DIR.glob("labels.json"), *AUDIO_DIR.glob("timing/*.json")])


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
            "data_sha256": data_sha256(),
        },
    }


def save(model: dict, path: Path | None = None) -> Path:
    path = save_json(model, path or model_path())
    load_model.cache_clear()
    return path
