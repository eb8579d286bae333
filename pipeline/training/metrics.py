"""Precision, recall and F1, defined once for every evaluation and cross-validation in callcoach."""

from __future__ import annotations


def prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    """(precision, recall, F1). Nothing predicted and nothing to find is perfect; nothing predicted
    while something was there has precision 0."""
    precision = tp / (tp + fp) if tp + fp else 1.0 if fn == 0 else 0.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1
