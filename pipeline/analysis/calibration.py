"""How sure a verdict is: the share of calls decided on the same basis that were labeled that way.

Each meeting verdict rests on a basis (``pushed_basis``: meeting words, an offer to view, the rep arranging,
asking the customer's time, the classifier alone; or, for no push, a blocked meeting word, a near miss of
the classifier, nothing at all). ``calibration.json`` beside this module counts, per basis, how many calls of
the tuning sets (train split, the beike tuning part, the training audio as Whisper heard it) carried the
label; the probability is that share, with one call of each kind added (Laplace), so a rare basis says
"unsure". Fitted by ``pipeline.training.calibration`` (``callcoach models prepare calibration``); the
reliability on held-out sets is printed by ``benchmarks/calibration.py``.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from pipeline.paths import packaged

MODEL_FILE = "calibration.json"
FINDINGS = ("meeting.pushed", "meeting.downgraded", "meeting.concrete")
UNSURE = 0.5  # a basis never seen in the tuning sets


def model_path() -> Path:
    return packaged("pipeline.analysis", MODEL_FILE)


@lru_cache(maxsize=1)
def _table() -> dict[str, dict[str, dict[str, int]]]:
    path = model_path()
    return json.loads(path.read_text("utf-8"))["counts"] if path.is_file() else {}


def probability(finding: str, basis: str) -> float:
    """P(the finding's label is true | the verdict rests on ``basis``)."""
    counts = _table().get(finding, {}).get(basis)
    if not counts:
        return UNSURE
    return round((counts["positive"] + 1) / (counts["n"] + 2), 3)


def clear_cache() -> None:
    _table.cache_clear()
