"""Cross-validation of the fused distraction score (pipeline.training.distraction) on the train split.

Prints, for every regularisation strength, the out-of-fold precision / recall / F1 at each threshold's
best, the Brier score and a reliability table (is a score of 0.7 right 70 % of the time?), per source
(text calls, audio calls), and the weights of the committed model. The committed model's C and
threshold are the best row here. Usage:

    .venv/bin/python benchmarks/distraction_cv.py
"""

from __future__ import annotations

import json

import numpy as np

from pipeline.analysis.distraction_score import model_path
from pipeline.training import distraction as dm


def reliability(probabilities: np.ndarray, y: np.ndarray, bins: int = 5) -> list[tuple[str, int, float, float]]:
    edges = np.linspace(0.0, 1.0, bins + 1)
    rows = []
    for low, high in zip(edges, edges[1:], strict=False):
        inside = (probabilities >= low) & ((probabilities < high) | (high == 1.0))
        if inside.any():
            rows.append((f"{low:.1f}–{high:.1f}", int(inside.sum()), float(probabilities[inside].mean()), float(y[inside].mean())))
    return rows


def main() -> None:
    rows = dm.training_rows()
    _, y = dm._matrix(rows)
    sources = np.array([row.source for row in rows])
    print(f"train split: {sum(sources == 'text')} text calls, {sum(sources == 'audio')} audio calls, "
          f"{int(y.sum())} distracted; {dm.FOLDS}-fold stratified, seed {dm.SEED}")
    for c in dm.C_GRID:
        probabilities = dm.out_of_fold(rows, c)
        best = max(dm.THRESHOLD_GRID, key=lambda t: (dm.prf_of(y, probabilities >= t)[2], -abs(t - 0.5)))
        p, r, f1 = dm.prf_of(y, probabilities >= best)
        brier = float(np.mean((probabilities - y) ** 2))
        per_source = ", ".join(
            f"{source} F1 {dm.prf_of(y[sources == source], probabilities[sources == source] >= best)[2]:.3f}"
            for source in ("text", "audio") if (sources == source).any()
        )
        print(f"C={c:<4} best threshold {best:.2f}: P/R/F1 {p:.3f}/{r:.3f}/{f1:.3f}  Brier {brier:.3f}  ({per_source})")
        for label, n, mean_p, observed in reliability(probabilities, y):
            print(f"    score {label}: {n:3d} calls, mean score {mean_p:.2f}, distracted {observed:.2f}")
    model = json.loads(model_path().read_text("utf-8"))
    print(f"\ncommitted model: C={model['C']}, threshold {model['threshold']}, cross-validation {model['cross_validation']}")
    for name, weight in sorted(zip(model["features"], model["coef"], strict=True), key=lambda item: -abs(item[1])):
        print(f"  {name:<24} {weight:+.3f}  (per standard deviation)")


if __name__ == "__main__":
    main()
