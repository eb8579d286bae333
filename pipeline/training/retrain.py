"""Corrections that retrain: coaches' judgements in a store folded into the text classifiers, behind a gate.

``callcoach models prepare text --feedback STORE`` exports every call a coach judged on a meeting finding
(``pipeline.store.feedback.export_lines``: the pipeline's labels with the coach's corrections), merges them
with the corrections accepted before, and trains candidate classifiers of the tasks that learn from labeled
calls (proposals, answers) into a scratch folder. Both the trained classifiers and the candidates then
analyse the held-out labeled sets; the candidates replace the trained ones only when the pooled figures the
gate watches are not worse, and no single set's fell by more than GATE_SET_TOLERANCE. Refused, nothing changes: not the classifiers, not the accepted corrections.

The held-out sets are those of the generalisation work (``models/heldout.json`` names them; ``--heldout``
overrides): sets the classifiers never train on. The figures before and after are kept in each accepted
classifier's training record, and ``callcoach eval`` prints them.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.errors import CallcoachError
from pipeline.language.classifiers import Task, candidates, model_name, model_path
from pipeline.paths import REPO_ROOT, models_dir
from pipeline.report.schema import Report
from pipeline.store.database import Store
from pipeline.store.feedback import export_lines
from pipeline.training.classifiers import (
    fit,
    mines_calls,
    save_model,
    trainable,
    training_digest,
    training_examples,
    training_facts,
)
from pipeline.training.data import feedback_calls, feedback_calls_path
from pipeline.training.evaluate import EvalResult, LabeledCall, load_labeled, score
from pipeline.transcript import Transcript, transcript_from_dict

HELDOUT_LIST = REPO_ROOT / "models" / "heldout.json"
# The gate: pooled over the held-out sets, neither may fall (the classifiers retrained only move these).
GATE_F1 = "meeting.pushed"
GATE_ACCURACY = "meeting.outcome"
_SAME = 1e-9  # figures equal up to float noise count as not worse
# ... and no single set may fall by more than this (a loss in one domain hidden by gains in another).
GATE_SET_TOLERANCE = 0.02


@dataclass(frozen=True)
class Figures:
    pushed_f1: float
    outcome_accuracy: float
    calls: int

    @classmethod
    def of(cls, result: EvalResult) -> Figures:
        accuracy = result.accuracy.get(GATE_ACCURACY, {"accuracy": 0.0})
        return cls(result.binary[GATE_F1]["f1"], accuracy["accuracy"], result.n_calls)

    def as_dict(self) -> dict:
        return {"meeting.pushed_f1": round(self.pushed_f1, 4),
                "meeting.outcome_accuracy": round(self.outcome_accuracy, 4), "calls": self.calls}


@dataclass
class Outcome:
    corrected_calls: int  # calls a coach judged on a meeting finding, in the store
    new_calls: int  # of those, not accepted before or judged differently since
    before: dict[str, Figures] = field(default_factory=dict)  # by held-out set, and "pooled"
    after: dict[str, Figures] = field(default_factory=dict)
    accepted: bool = False
    reason: str = ""
    skipped_sets: list[str] = field(default_factory=list)


def default_heldout() -> list[Path]:
    """The held-out sets named in models/heldout.json (paths relative to the checkout)."""
    if not HELDOUT_LIST.is_file():
        return []
    return [REPO_ROOT / path for path in json.loads(HELDOUT_LIST.read_text("utf-8"))["sets"]]


def corrected_calls(store: Store) -> list[dict]:
    """The store's coach-judged calls as labeled calls to learn from: turns and corrected labels only (no
    file names, reps or coaches' names leave the store)."""
    calls = []
    for line in export_lines(store):
        if not any(j["finding"].startswith("meeting.") for j in line["feedback"]):
            continue  # the retrained classifiers learn the meeting talk only
        calls.append({"id": f"feedback-{line['id']}", "language": line["language"],
                      "turns": [{"speaker": t["speaker"], "text": t["text"]} for t in line["turns"]],
                      "labels": {"meeting": line["labels"]["meeting"]}})
    return calls


def _merged(accepted: list[dict], new: list[dict]) -> tuple[list[dict], int]:
    """Accepted corrections updated with the store's (a call judged again replaces its old labels), by id;
    and how many of the store's are new or changed."""
    by_id = {call["id"]: call for call in accepted}
    changed = sum(by_id.get(call["id"]) != call for call in new)
    by_id.update({call["id"]: call for call in new})
    return [by_id[key] for key in sorted(by_id)], changed


def retrainable() -> list[tuple[Task, str]]:
    """The classifiers that learn from labeled calls and have their written examples here."""
    return [(task, language) for task, language in trainable() if mines_calls(task)]


def _score(sets: dict[str, list[LabeledCall]], analyze: Callable[[Transcript, str], Report]) -> dict[str, Figures]:
    pooled, figures = [], {}
    for name, calls in sets.items():
        pairs = [(call, analyze(transcript_from_dict(call.transcript or {}, call.id), call.id)) for call in calls]
        figures[name] = Figures.of(score(pairs))
        pooled += pairs
    figures["pooled"] = Figures.of(score(pooled))
    return figures


def _load_sets(paths: list[Path], outcome: Outcome) -> dict[str, list[LabeledCall]]:
    sets = {}
    for path in paths:
        try:
            calls = [call for call in load_labeled(path) if call.transcript is not None]
        except (CallcoachError, OSError) as error:
            outcome.skipped_sets.append(f"{path.name}: {error}")
            continue
        if calls:
            sets[path.name if path.name not in sets else str(path)] = calls
    return sets


def retrain(store: Store, heldout: list[Path], on_step: Callable[[str], None] = lambda _: None) -> Outcome:
    """Train candidates with the store's corrections, score them against the trained classifiers on the
    held-out sets, and keep them only when the gate's figures are not worse (see the module docstring)."""
    from pipeline.analyze import Analyzer

    new = corrected_calls(store)
    merged, changed = _merged(feedback_calls(), new)
    outcome = Outcome(corrected_calls=len(new), new_calls=changed)
    if not changed:
        outcome.reason = "no new corrections since the last accepted retrain" if new else \
            "no call in this store has a coach's judgement of a meeting finding"
        return outcome
    sets = _load_sets(heldout, outcome)
    if not sets:
        outcome.reason = "no held-out set could be read, so a retrain cannot be judged: refused"
        return outcome
    scratch = models_dir() / f".retrain-{os.getpid()}"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    try:
        trained = {}
        for task, language in retrainable():
            on_step(f"training {model_name(task, language)} with {changed} new corrected calls")
            pairs = training_examples(task, language, feedback=merged)
            folder = scratch / model_name(task, language)
            nlp = fit(task, language, pairs)
            nlp.to_disk(folder)
            trained[model_name(task, language)] = (task, language, folder, nlp, len(pairs))
        analyzer = Analyzer()
        on_step(f"scoring the trained classifiers on {sum(map(len, sets.values()))} held-out calls")
        outcome.before = _score(sets, analyzer.analyze_transcript)
        on_step("scoring the candidates on the same calls")
        with candidates({name: entry[2] for name, entry in trained.items()}):
            outcome.after = _score(sets, analyzer.analyze_transcript)
        before, after = outcome.before["pooled"], outcome.after["pooled"]
        worse = _worse(outcome.before, outcome.after)
        if worse:
            outcome.reason = f"refused: {'; '.join(worse)}; the classifiers are unchanged"
            return outcome
        _accept(merged, trained, outcome)
        outcome.accepted = True
        outcome.reason = (f"accepted: held-out {GATE_F1} F1 {before.pushed_f1:.3f} → {after.pushed_f1:.3f}, "
                          f"{GATE_ACCURACY} accuracy {before.outcome_accuracy:.3f} → {after.outcome_accuracy:.3f}")
        return outcome
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _worse(before: dict[str, Figures], after: dict[str, Figures]) -> list[str]:
    """What the gate refuses: a pooled figure lower at all, or one set's lower by more than the tolerance."""
    worse = []
    for name in before:
        allowed = _SAME if name == "pooled" else GATE_SET_TOLERANCE
        where = "on the held-out sets" if name == "pooled" else f"on {name}"
        for label, old, new in ((f"{GATE_F1} F1", before[name].pushed_f1, after[name].pushed_f1),
                                (f"{GATE_ACCURACY} accuracy", before[name].outcome_accuracy, after[name].outcome_accuracy)):
            if new < old - allowed:
                worse.append(f"{label} {where} {old:.3f} → {new:.3f}")
    return worse


def _accept(merged: list[dict], trained: dict, outcome: Outcome) -> None:
    """The corrections file first (the classifiers' data digest covers it), then each classifier in place."""
    path = feedback_calls_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = path.with_suffix(".tmp")
    staging.write_text("".join(json.dumps(call, ensure_ascii=False) + "\n" for call in merged), "utf-8")
    staging.replace(path)
    record = {"calls": len(merged), "accepted_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
              "heldout_before": {k: v.as_dict() for k, v in outcome.before.items()},
              "heldout_after": {k: v.as_dict() for k, v in outcome.after.items()}}
    for task, language, _, nlp, examples in trained.values():
        save_model(nlp, model_path(task, language), {**training_facts(task, examples), "feedback": record},
                   training_digest(task, language))
