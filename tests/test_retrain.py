"""Corrections that retrain: a store's coach judgements become training calls, candidates are judged on
held-out sets against the trained classifiers, and a retrain that scores worse is refused with nothing changed."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.language.classifiers import LANGUAGES, TASKS, model_name
from pipeline.paths import models_dir
from pipeline.store import DiscoveredCall, Owner, Store
from pipeline.store import feedback as judged
from pipeline.training import retrain
from pipeline.training.data import read_jsonl
from pipeline.transcript import transcript_from_dict
from pipeline.web import accounts

ROOT = Path(__file__).resolve().parent.parent
DEV_ZH = ROOT / "tests" / "data" / "dev" / "zh.jsonl"
OWNER = Owner.current()
WRONG_OUTCOME = {"accepted": "declined", "declined": "accepted", "deferred": "accepted"}


def _store_with_judgements(path: Path, calls: list[dict], judge) -> None:
    """Each call analysed into the store; ``judge(item, report)`` gives (finding, verdict, corrected) to record."""
    from pipeline.analyze import Analyzer

    analyzer = Analyzer()
    with Store(path) as store:
        coach = accounts.add_user(store, "coach", "coach", "long-enough-1")
        for n, item in enumerate(calls):
            sha = hashlib.sha256(item["id"].encode()).hexdigest()
            call = DiscoveredCall(call_id=sha[:16], sha256=sha, source=f"/a/li/{item['id']}.json", kind="transcript",
                                  rep="li", call_date="2026-11-02", duration_s=None, report_path=f"/out/{n}")
            store.enqueue([call], {"transcript": "t" * 16})
            report = analyzer.analyze_transcript(transcript_from_dict(item, item["id"]), source=item["id"])
            assert store.claim(call.call_id, OWNER) and store.mark_done(call.call_id, OWNER, report, None, "json")
            for finding, verdict, corrected in judge(item, report):
                judged.record(store, call.call_id, report, coach.user_id, finding, verdict, corrected)


def test_corrected_calls_carry_the_coach_s_labels_and_no_names(tmp_path):
    calls = list(read_jsonl(DEV_ZH))[:3]
    _store_with_judgements(tmp_path / "s.db", calls, lambda item, report: [("meeting.pushed", "wrong", None)])
    with Store(tmp_path / "s.db") as store:
        corrected = retrain.corrected_calls(store)
    assert len(corrected) == 3
    for call in corrected:
        assert set(call) == {"id", "language", "turns", "labels"} and call["id"].startswith("feedback-")
        assert set(call["labels"]) == {"meeting"}


def test_merging_counts_only_new_or_changed_corrections():
    old = [{"id": "feedback-a", "labels": 1}, {"id": "feedback-b", "labels": 1}]
    merged, changed = retrain._merged(old, [{"id": "feedback-b", "labels": 2}, {"id": "feedback-c", "labels": 1}])
    assert changed == 2 and [c["id"] for c in merged] == ["feedback-a", "feedback-b", "feedback-c"]
    assert merged[1]["labels"] == 2
    assert retrain._merged(merged, merged[:1])[1] == 0


@pytest.fixture()
def models_copy(tmp_path, monkeypatch):
    """The trained text classifiers copied to a scratch models folder the test may change."""
    from pipeline.cli._util import prepare_text_models

    prepare_text_models()
    folder = tmp_path / "models"
    for task in TASKS.values():
        for language in LANGUAGES:
            shutil.copytree(models_dir() / model_name(task, language), folder / model_name(task, language))
    monkeypatch.setenv("CALLCOACH_MODELS_DIR", str(folder))
    return folder


def _digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            digest.update(path.relative_to(folder).as_posix().encode() + path.read_bytes())
    return digest.hexdigest()


@pytest.mark.refit
def test_a_retrain_that_worsens_heldout_figures_is_refused(tmp_path, models_copy):
    # Coaches "correct" every answer of the held-out calls to the wrong outcome: learning that must score worse.
    heldout = [item for item in read_jsonl(DEV_ZH)]
    poisoned = [item for item in heldout if item["labels"]["meeting"]["outcome"] in WRONG_OUTCOME]

    def judge(item, report):
        if not report.meeting.pushed:
            return [("meeting.pushed", "wrong", "true"),
                    ("meeting.outcome", "wrong", WRONG_OUTCOME[item["labels"]["meeting"]["outcome"]])]
        return [("meeting.outcome", "wrong", WRONG_OUTCOME[item["labels"]["meeting"]["outcome"]])]

    _store_with_judgements(tmp_path / "s.db", poisoned, judge)
    before = {name: _digest(models_copy / name) for name in os.listdir(models_copy)}
    run = subprocess.run([sys.executable, "-m", "pipeline.cli", "models", "prepare", "text", "--feedback",
                          str(tmp_path / "s.db"), "--heldout", str(DEV_ZH)], capture_output=True, text=True,
                         timeout=900, env={**os.environ, "CALLCOACH_MODELS_DIR": str(models_copy)})
    assert run.returncode == 1, run.stderr
    assert "refused" in run.stderr and "outcome accuracy" in run.stderr and "Traceback" not in run.stderr
    assert {name: _digest(models_copy / name) for name in os.listdir(models_copy)} == before  # nothing changed
    assert not (models_copy / "feedback").exists()


@pytest.mark.refit
def test_a_retrain_that_holds_is_kept_and_eval_shows_before_and_after(tmp_path, models_copy):
    # Coaches confirm the right labels of a few held-out calls: not worse, so the candidates replace the models.
    heldout = list(read_jsonl(DEV_ZH))

    def judge(item, report):
        truth = item["labels"]["meeting"]
        judgements = [("meeting.pushed", "correct" if report.meeting.pushed == truth["pushed"] else "wrong",
                       json.dumps(truth["pushed"]))]
        if truth["pushed"]:
            judgements.append(("meeting.outcome", "correct" if report.meeting.outcome == truth["outcome"] else "wrong",
                               truth["outcome"]))
        return judgements

    _store_with_judgements(tmp_path / "s.db", heldout, judge)
    with Store(tmp_path / "s.db") as store:
        outcome = retrain.retrain(store, [DEV_ZH])
    assert outcome.accepted, outcome.reason
    assert outcome.after["pooled"].pushed_f1 >= outcome.before["pooled"].pushed_f1
    accepted = list(read_jsonl(models_copy / "feedback" / "calls.jsonl"))
    assert len(accepted) == len(heldout)
    record = json.loads((models_copy / "proposals-zh" / "training.json").read_text())
    assert record["feedback"]["calls"] == len(heldout)
    from pipeline.training.classifiers import is_current
    assert all(is_current(task, "zh") for task in TASKS.values())  # no retrain on the next command
    with Store(tmp_path / "s.db") as store:
        assert not retrain.retrain(store, [DEV_ZH]).new_calls  # the same corrections again: nothing to do
    shown = subprocess.run([sys.executable, "-m", "pipeline.cli", "eval", str(DEV_ZH)], capture_output=True, text=True,
                           timeout=900, env={**os.environ, "CALLCOACH_MODELS_DIR": str(models_copy)})
    assert "proposals-zh includes" in shown.stdout and "→" in shown.stdout


def test_without_a_readable_heldout_set_nothing_is_retrained(tmp_path):
    calls = list(read_jsonl(DEV_ZH))[:2]
    _store_with_judgements(tmp_path / "s.db", calls, lambda item, report: [("meeting.pushed", "wrong", None)])
    with Store(tmp_path / "s.db") as store:
        outcome = retrain.retrain(store, [tmp_path / "missing.jsonl"])
    assert not outcome.accepted and "refused" in outcome.reason and outcome.skipped_sets


def test_the_gate_refuses_a_pooled_fall_or_a_large_fall_in_one_set():
    F = retrain.Figures
    before = {"a": F(0.80, 0.90, 100), "b": F(0.80, 0.90, 100), "pooled": F(0.80, 0.90, 200)}
    assert retrain._worse(before, before) == []
    small_trade = {"a": F(0.79, 0.90, 100), "b": F(0.81, 0.90, 100), "pooled": F(0.80, 0.90, 200)}
    assert retrain._worse(before, small_trade) == []  # within one set's tolerance, pool unchanged
    hidden_loss = {"a": F(0.70, 0.90, 100), "b": F(0.92, 0.90, 100), "pooled": F(0.81, 0.90, 200)}
    assert retrain._worse(before, hidden_loss) == ["meeting.pushed F1 on a 0.800 → 0.700"]
    pooled_fall = {"a": F(0.80, 0.89, 100), "b": F(0.80, 0.90, 100), "pooled": F(0.80, 0.895, 200)}
    assert retrain._worse(before, pooled_fall) == ["meeting.outcome accuracy on the held-out sets 0.900 → 0.895"]
