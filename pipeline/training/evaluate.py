"""`callcoach eval`: compare reports with labeled calls and print precision / recall / F1 and accuracies.

A labeled set is either a ``.jsonl`` file of labeled transcripts (one call per line, see docs/labels.md)
or a folder of recordings/transcripts with a ``labels.json`` mapping file stem -> labels. A line may
instead name a real conversation kept outside the repository (``"source": "beike", "session": N``): its
text is read from the shared real data (``pipeline.training.realdata``). A field is scored only on calls
that label it (the beike chats label ``meeting`` only).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.audio.formats import AUDIO_SUFFIXES
from pipeline.errors import CallcoachError
from pipeline.report.schema import Report
from pipeline.training.metrics import prf
from pipeline.training.realdata import beike_session
from pipeline.transcript import transcript_from_dict

BINARY_FIELDS = ("meeting.pushed", "meeting.downgraded", "distraction.distracted")
# field -> which items it is scored on (the label it depends on must hold)
ACCURACY_FIELDS: dict[str, Callable[[dict], bool]] = {
    "meeting.concrete": lambda labels: labels["meeting"]["pushed"],
    "meeting.outcome": lambda labels: labels["meeting"]["pushed"],
    "meeting.distance_excuse": lambda labels: "distance_excuse" in labels["meeting"],
    "distraction.rep_checked_availability": lambda labels: "rep_checked_availability" in labels["distraction"],
    "distraction.rep_adapted": lambda labels: labels["distraction"]["distracted"]
    and labels["distraction"].get("rep_adapted") is not None,
}


def _part(dotted: str) -> str:
    """The part of the labels a field needs: a set that does not label a part is not scored on its fields."""
    return dotted.split(".")[0]
ACCURACY_SCOPE = {
    "meeting.concrete": "calls labeled pushed",
    "meeting.outcome": "calls labeled pushed",
    "meeting.distance_excuse": "all calls",
    "distraction.rep_checked_availability": "all calls",
    "distraction.rep_adapted": "calls labeled distracted",
}


@dataclass
class LabeledCall:
    id: str
    labels: dict
    path: Path | None = None  # a recording or transcript file
    transcript: dict | None = None  # inline transcript (jsonl sets)


def _get(obj: dict, dotted: str):
    for part in dotted.split("."):
        obj = obj[part]
    return obj


def load_labeled(path: Path, labels_file: Path | None = None) -> list[LabeledCall]:
    """Read a labeled set (a .jsonl file, or a folder with labels.json)."""
    if path.is_file() and path.suffix == ".jsonl":
        calls = []
        for number, line in enumerate(path.read_text("utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
                if item.get("source") == "beike" and "turns" not in item:
                    item = {**item, **beike_session(int(item["session"]))}
                calls.append(LabeledCall(id=item["id"], labels=item["labels"], transcript=item))
            except (json.JSONDecodeError, KeyError, ValueError) as error:
                raise CallcoachError(f"{path.name}:{number}: not a labeled call ({error})") from error
        return calls
    if path.is_dir():
        labels_path = labels_file or path / "labels.json"
        if not labels_path.is_file():
            jsonl = sorted(path.glob("*.jsonl"))
            if jsonl:
                return [call for file in jsonl for call in load_labeled(file)]
            raise CallcoachError(f"{path}: no labels.json and no .jsonl labeled sets")
        labels = json.loads(labels_path.read_text("utf-8"))
        calls = []
        for file in sorted(path.iterdir()):
            if file.stem in labels and (file.suffix.lower() in AUDIO_SUFFIXES or file.suffix == ".json"):
                calls.append(LabeledCall(id=file.stem, labels=labels[file.stem], path=file))
        if not calls:
            raise CallcoachError(f"{path}: no file matches a stem in {labels_path.name}")
        return calls
    raise CallcoachError(f"{path}: not a .jsonl labeled set or a folder")


@dataclass
class Mismatch:
    call: str
    field: str
    expected: object
    got: object


@dataclass
class EvalResult:
    n_calls: int
    binary: dict[str, dict[str, float]] = field(default_factory=dict)  # field -> tp, fp, fn, tn, precision, recall, f1
    accuracy: dict[str, dict[str, float]] = field(default_factory=dict)  # field -> correct, n, accuracy
    mismatches: list[Mismatch] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "n_calls": self.n_calls,
            "binary": self.binary,
            "accuracy": self.accuracy,
            "failed": [{"call": c, "error": e} for c, e in self.failed],
            "mismatches": [m.__dict__ for m in self.mismatches],
        }


def score(pairs: list[tuple[LabeledCall, Report]]) -> EvalResult:
    result = EvalResult(n_calls=len(pairs))
    for name in BINARY_FIELDS:
        counts = {"tp": 0, "fp": 0, "fn": 0, "tn": 0}
        for call, report in pairs:
            if _part(name) not in call.labels:
                continue
            truth, got = bool(_get(call.labels, name)), bool(_get(report.model_dump(), name))
            counts[("t" if truth == got else "f") + ("p" if got else "n")] += 1
            if truth != got:
                result.mismatches.append(Mismatch(call.id, name, truth, got))
        n = sum(counts.values())
        if n == 0:
            continue
        precision, recall, f1 = prf(counts["tp"], counts["fp"], counts["fn"])
        accuracy = (counts["tp"] + counts["tn"]) / n
        result.binary[name] = {**counts, "precision": precision, "recall": recall, "f1": f1, "accuracy": accuracy}
    for name, applies in ACCURACY_FIELDS.items():
        correct = total = 0
        for call, report in pairs:
            if _part(name) not in call.labels or not applies(call.labels):
                continue
            truth, got = _get(call.labels, name), _get(report.model_dump(), name)
            total += 1
            correct += truth == got
            if truth != got:
                result.mismatches.append(Mismatch(call.id, name, truth, got))
        if total:
            result.accuracy[name] = {"correct": correct, "n": total, "accuracy": correct / total}
    return result


def run(calls: list[LabeledCall], analyze_file, analyze_inline, on_progress=None) -> EvalResult:
    """Analyse every labeled call (files through ``analyze_file``, inline transcripts through ``analyze_inline``)."""
    pairs: list[tuple[LabeledCall, Report]] = []
    failed: list[tuple[str, str]] = []
    for call in _each(calls, on_progress):
        try:
            if call.path is not None:
                pairs.append((call, analyze_file(call.path)))
            else:
                pairs.append((call, analyze_inline(transcript_from_dict(call.transcript, call.id), call.id)))
        except CallcoachError as error:
            failed.append((call.id, str(error)))
    result = score(pairs)
    result.failed = failed
    return result


def _each(calls: list[LabeledCall], on_progress) -> Iterator[LabeledCall]:
    for position, call in enumerate(calls):
        if on_progress:
            on_progress(position, len(calls), call.id)
        yield call
