"""Fitting the rep/customer decision of ``pipeline.analysis.roles`` (``callcoach models prepare roles``).

Fitted on the written calls of the train split (``models/training/calls`` and the scripts of the audio
training calls, ``models/training/audio/timing``) — each seen as written and with diarisation-like
damage: every turn cut into pieces of about a second (6 Mandarin characters, 4 English words), each
piece moved to the other side with probability 0.1 or 0.2. On a mono call the role decision sees
exactly that kind of damage, and the cue score alone trusts single cues (one "我是…" landing in the
wrong voice) too much. C is chosen by cross-validation over calls; the fit, its figures and a SHA-256
of the training data are stored in ``pipeline/analysis/role_model.json`` (committed; a test checks it
is current).
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np

from pipeline.analysis.call import parse_turns
from pipeline.analysis.roles import FEATURES, load_model, model_path, side_difference
from pipeline.training.data import AUDIO_DIR, data_digest, labeled_call_files, labeled_calls, save_json
from pipeline.transcript import Transcript, Turn

AUDIO_TRAIN_TIMING = AUDIO_DIR / "timing"
C_GRID = (0.03, 0.1, 0.3, 1.0)
MOVE_PROBABILITIES = (0.0, 0.1, 0.2)  # diarisation-like damage used for training and for the figures
DRAWS = 3  # damaged copies of each call per probability above 0
PIECE_CHARS_ZH, PIECE_WORDS_EN = 6, 4
FOLDS = 5
SEED = 11


def written_calls() -> list[dict]:
    """The train split's calls with known speakers: {"id", "language", "turns": [{"speaker", "text"}]}."""
    calls = labeled_calls()
    for path in sorted(AUDIO_TRAIN_TIMING.glob("*.json")):
        timing = json.loads(path.read_text("utf-8"))
        turns = [{"speaker": t["speaker"], "text": t["text"]} for t in timing["turns"]]
        calls.append({"id": path.stem, "language": timing["language"], "turns": turns})
    return calls


def _pieces(text: str, language: str) -> list[str]:
    if language == "zh":
        return [text[i : i + PIECE_CHARS_ZH] for i in range(0, len(text), PIECE_CHARS_ZH)]
    words = text.split()
    return [" ".join(words[i : i + PIECE_WORDS_EN]) for i in range(0, len(words), PIECE_WORDS_EN)]


def as_two_sides(call: dict, move_probability: float, rng: random.Random) -> Transcript:
    """The call with the rep as side 0 and the customer as side 1, each piece moved with the given probability."""
    language = call["language"]
    joiner = "" if language == "zh" else " "
    turns: list[Turn] = []
    for turn in call["turns"]:
        side = 0 if turn["speaker"] == "rep" else 1
        for piece in _pieces(turn["text"], language):
            heard = 1 - side if rng.random() < move_probability else side
            if turns and turns[-1].channel == heard:
                turns[-1].text += joiner + piece
            else:
                turns.append(Turn(len(turns), "unknown", piece, channel=heard))
    return Transcript(language=language, turns=turns)


def _differences(calls: list[dict]) -> dict[float, list[list[np.ndarray]]]:
    """Per move probability, per call: feature differences rep side minus customer side, one per draw."""
    rng = random.Random(SEED)
    out: dict[float, list[list[np.ndarray]]] = {}
    for p in MOVE_PROBABILITIES:
        out[p] = []
        for call in calls:
            draws = []
            for _ in range(DRAWS if p > 0 else 1):
                transcript = as_two_sides(call, p, rng)
                draws.append(side_difference(transcript, parse_turns(transcript), 0))
            out[p].append(draws)
    return out


def _fit(differences: dict[float, list[list[np.ndarray]]], indices, c: float):
    from sklearn.linear_model import LogisticRegression

    rows = [d for p in MOVE_PROBABILITIES for i in indices for d in differences[p][i]]
    x = np.array(rows + [-d for d in rows])
    y = np.array([1] * len(rows) + [0] * len(rows))
    return LogisticRegression(C=c, fit_intercept=False, max_iter=5000).fit(x, y)


def fit() -> dict:
    """The model file's content: C by call-level cross-validation, then fitted on every call."""
    from sklearn.model_selection import KFold

    calls = written_calls()
    differences = _differences(calls)
    languages = np.array([call["language"] for call in calls])
    best: dict | None = None
    for c in C_GRID:
        right = {p: np.zeros(len(calls)) for p in MOVE_PROBABILITIES}
        for train, test in KFold(FOLDS, shuffle=True, random_state=SEED).split(calls):
            regression = _fit(differences, train, c)
            for p in MOVE_PROBABILITIES:
                for i in test:
                    right[p][i] = np.mean(regression.decision_function(np.array(differences[p][i])) > 0)
        accuracy = {f"{p:.1f}": {lang: round(float(right[p][languages == lang].mean()), 4) for lang in ("zh", "en")}
                    for p in MOVE_PROBABILITIES}
        key = float(np.mean([right[p].mean() for p in MOVE_PROBABILITIES]))
        if best is None or key > best["key"] + 1e-9:
            best = {"key": key, "C": c, "accuracy": accuracy}
    assert best is not None
    regression = _fit(differences, range(len(calls)), best["C"])
    return {
        "features": list(FEATURES),
        "coef": [round(float(v), 6) for v in regression.coef_[0]],
        "C": best["C"],
        "cross_validation": {"folds": FOLDS, "draws": DRAWS, "roles_right_by_move_probability": best["accuracy"]},
        "training": {
            "calls": len(calls),
            "zh": int((languages == "zh").sum()),
            "en": int((languages == "en").sum()),
            "data_sha256": data_sha256(),
        },
    }


def data_sha256() -> str:
    return data_digest([*labeled_call_files(), *AUDIO_TRAIN_TIMING.glob("*.json")])


def save(model: dict, path: Path | None = None) -> Path:
    path = save_json(model, path or model_path())
    load_model.cache_clear()
    return path
