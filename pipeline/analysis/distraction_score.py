"""The fused distraction score at run time: a logistic regression over call-level features of the signals.

Its weights, scaling, threshold and cross-validation figures are fitted by ``pipeline.training.distraction``
and committed in ``distraction_model.json`` beside this module, so reviewers see the weights and a wheel
install needs no training data.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from pipeline.paths import packaged

# Order matters: it is the order of the stored coefficients.
FEATURES = (
    "explicit_state", "asked_to_repeat", "talking_to_someone_else", "side_activity", "not_engaged_max",
    "backchannel_share", "longest_streak", "backchannel_repeat", "short_answers", "ended_call", "sharp_questions",
    "sound_measured", "slow_replies", "slow_reply_share", "tonal_noise_share", "broadband_noise_share", "interruptions",
)
MODEL_FILE = "distraction_model.json"


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


def model_path() -> Path:
    return packaged("pipeline.analysis", MODEL_FILE)


@lru_cache(maxsize=1)
def load_model() -> DistractionModel:
    data = json.loads(model_path().read_text("utf-8"))
    if tuple(data["features"]) != FEATURES:
        raise RuntimeError(f"{MODEL_FILE} was fitted on other features; run `callcoach models prepare distraction`")
    return DistractionModel(
        tuple(data["mean"]), tuple(data["scale"]), tuple(data["coef"]), data["intercept"], data["threshold"]
    )
