"""Benchmark: does the retrain gate refuse poisoned corrections, and what does a retrain cost?

Copies the trained text classifiers to a scratch models folder, builds a scratch store whose calls are
those of a labeled set (``--poison``, default the first beike held-out set) with a coach "correcting" every
pushed call to not pushed (``--mode pushed``) or every answer to a wrong outcome (``--mode outcome``), runs
``callcoach models prepare text --feedback`` logic against ``--heldout`` sets (default: models/heldout.json)
and prints the figures before and after, the decision and the time taken. Nothing outside /tmp changes.
Usage:

    .venv/bin/python benchmarks/retrain_gate.py [--poison SET.jsonl] [--mode pushed|outcome] [--heldout SET.jsonl ...]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WRONG_OUTCOME = {"accepted": "declined", "declined": "accepted", "deferred": "accepted"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--poison", type=Path, default=ROOT / "tests" / "data" / "beike" / "heldout.jsonl")
    parser.add_argument("--mode", choices=("pushed", "outcome"), default="pushed")
    parser.add_argument("--heldout", type=Path, action="append")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="retrain_gate_"))
    from pipeline.cli._util import prepare_text_models
    from pipeline.language.classifiers import LANGUAGES, TASKS, model_name
    from pipeline.paths import models_dir

    prepare_text_models()
    for task in TASKS.values():
        for language in LANGUAGES:
            shutil.copytree(models_dir() / model_name(task, language), scratch / "models" / model_name(task, language))
    os.environ["CALLCOACH_MODELS_DIR"] = str(scratch / "models")

    from pipeline.analyze import Analyzer
    from pipeline.store import DiscoveredCall, Owner, Store
    from pipeline.store import feedback as judged
    from pipeline.training import retrain
    from pipeline.training.evaluate import load_labeled
    from pipeline.transcript import transcript_from_dict
    from pipeline.web import accounts

    analyzer, owner, poisoned = Analyzer(), Owner.current(), 0
    with Store(scratch / "store.db") as store:
        coach = accounts.add_user(store, "coach", "coach", "long-enough-1")
        for labeled in load_labeled(args.poison):
            truth = labeled.labels["meeting"]
            if not truth["pushed"] or (args.mode == "outcome" and truth["outcome"] not in WRONG_OUTCOME):
                continue
            sha = hashlib.sha256(labeled.id.encode()).hexdigest()
            call = DiscoveredCall(call_id=sha[:16], sha256=sha, source=f"/a/{labeled.id}.json", kind="transcript",
                                  rep="rep", call_date="2026-11-02", duration_s=None, report_path=f"/out/{labeled.id}")
            store.enqueue([call], {"transcript": "t" * 16})
            report = analyzer.analyze_transcript(transcript_from_dict(labeled.transcript or {}, labeled.id), labeled.id)
            store.claim(call.call_id, owner)
            store.mark_done(call.call_id, owner, report, None, "json")
            if args.mode == "pushed":
                judged.record(store, call.call_id, report, coach.user_id, "meeting.pushed", "wrong", "false")
            else:
                if not report.meeting.pushed:
                    judged.record(store, call.call_id, report, coach.user_id, "meeting.pushed", "wrong", "true")
                judged.record(store, call.call_id, report, coach.user_id, "meeting.outcome", "wrong",
                              WRONG_OUTCOME[truth["outcome"]])
            poisoned += 1
        started = time.perf_counter()
        outcome = retrain.retrain(store, args.heldout or retrain.default_heldout())
        took_s = time.perf_counter() - started
    print(f"{poisoned} calls of {args.poison.name} poisoned ({args.mode}); retrain and gate took {took_s:.0f} s")
    for name, before in outcome.before.items():
        after = outcome.after[name]
        print(f"  {name:<16} {before.calls:5d} calls  pushed F1 {before.pushed_f1:.3f} → {after.pushed_f1:.3f}  "
              f"outcome accuracy {before.outcome_accuracy:.3f} → {after.outcome_accuracy:.3f}")
    for skipped in outcome.skipped_sets:
        print(f"  skipped: {skipped}")
    print(outcome.reason)
    shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
