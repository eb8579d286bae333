"""Scoring the redaction engine on a labeled set: JSON Lines of ``{"id", "language", "text", "pii": [{"kind",
"text"}]}`` (the PII values as exact substrings; ``[]`` for a hard negative). A found span is right when it
overlaps a labeled one of the same kind; precision, recall and F1 per kind and over all kinds."""

from __future__ import annotations

from pathlib import Path

from pipeline.errors import CallcoachError
from pipeline.privacy.redact import PLACEHOLDERS, find_pii
from pipeline.training.data import read_jsonl
from pipeline.training.metrics import prf


def load_set(path: Path) -> list[dict]:
    try:
        items = list(read_jsonl(path))
    except (OSError, ValueError) as error:
        raise CallcoachError(f"{path}: not a redaction set ({error})") from error
    for item in items:
        for pii in item["pii"]:
            if item["text"].count(pii["text"]) != 1 or pii["kind"] not in PLACEHOLDERS:
                raise CallcoachError(f"{path.name} {item['id']}: {pii!r} is not one labeled substring")
    return items


def _counts() -> dict[str, int]:
    return {"tp": 0, "fp": 0, "fn": 0}


def score(items: list[dict]) -> dict[str, dict]:
    """Per kind and ``all``: tp, fp, fn, precision, recall, f1; ``mistakes`` lists (id, what, text)."""
    counts = {kind: _counts() for kind in [*PLACEHOLDERS, "all"]}
    mistakes = []
    for item in items:
        truth = []
        for pii in item["pii"]:
            start = item["text"].index(pii["text"])
            truth.append((pii["kind"], start, start + len(pii["text"])))
        found = [(span.kind, span.start, span.end) for span in find_pii(item["text"], item["language"])]
        matched: set[int] = set()
        for kind, start, end in found:
            hit = next((i for i, (k, s, e) in enumerate(truth) if k == kind and s < end and start < e and i not in matched), None)
            outcome = "tp" if hit is not None else "fp"
            if hit is not None:
                matched.add(hit)
            else:
                mistakes.append((item["id"], f"false {kind}", item["text"][start:end]))
            counts[kind][outcome] += 1
            counts["all"][outcome] += 1
        for i, (kind, start, end) in enumerate(truth):
            if i not in matched:
                counts[kind]["fn"] += 1
                counts["all"]["fn"] += 1
                mistakes.append((item["id"], f"missed {kind}", item["text"][start:end]))
    figures: dict[str, dict] = {}
    for name, c in counts.items():
        precision, recall, f1 = prf(c["tp"], c["fp"], c["fn"])
        figures[name] = {**c, "precision": precision, "recall": recall, "f1": f1}
    figures["mistakes"] = {"list": mistakes}
    return figures
