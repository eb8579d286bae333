"""Leave-one-industry-out cross-validation over the written calls of the train split.

For each industry: the text classifiers that learn from examples (proposals, answers) are retrained without
that industry — neither its labeled calls (nothing mined from them) nor the written examples tagged with it —
and the industry's calls are analysed with them. A cue or an example that only works in the industry it was
written for shows up as a drop here. The cue patterns are the same in every fold (they were written with all
industries in view), and untagged written examples stay in every fold: these figures are an upper bound
for the rules and a fair test of the classifiers.

    .venv/bin/python benchmarks/leave_one_industry_out.py [--industry auto ...]

Prints precision / recall / F1 of meeting.pushed and meeting.downgraded per industry left out, and the
accuracy of concrete and outcome on its pushed calls.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.analyze import Analyzer  # noqa: E402
from pipeline.language import classifiers  # noqa: E402
from pipeline.training import classifiers as training  # noqa: E402
from pipeline.training.data import labeled_calls  # noqa: E402
from pipeline.training.evaluate import LabeledCall, run  # noqa: E402

# Spellings of the same industry across the data sets -> one name per fold.
INDUSTRIES = {
    "real_estate": "real_estate", "commercial_real_estate": "real_estate", "office_leasing": "real_estate",
    "car_dealership": "auto", "auto": "auto",
    "home_decoration": "home", "home_decor": "home", "home_renovation": "home", "furniture_retail": "home",
    "home_appliance_retail": "home", "office_furniture": "home", "home": "home",
    "insurance": "insurance", "finance": "finance", "wealth_management": "finance",
    "b2b_equipment": "equipment", "machinery": "equipment", "industrial_equipment": "equipment", "equipment": "equipment",
    "saas": "saas",
    "training_education": "education", "education": "education", "corporate_training": "education",
    "medical_devices": "medical", "medical": "medical",
    "logistics": "logistics", "logistics_services": "logistics",
    "advertising": "advertising", "retail": "retail",
}
FOLD_TASKS = (classifiers.PROPOSALS, classifiers.ANSWERS)  # the ones that learn from industry-specific text
MIN_CALLS = 10


def industry_of(raw: str | None) -> str:
    return INDUSTRIES.get(raw or "", "other") if raw != "general" else "general"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--industry", action="append", help="only these folds")
    parser.add_argument("--mismatches", action="store_true", help="also list the calls whose meeting.pushed is wrong")
    args = parser.parse_args()
    calls = labeled_calls()
    by_industry: dict[str, list[dict]] = {}
    for call in calls:
        by_industry.setdefault(industry_of(call.get("industry")), []).append(call)
    folds = [name for name, members in sorted(by_industry.items()) if len(members) >= MIN_CALLS and name != "other"]
    if args.industry:
        folds = [name for name in folds if name in args.industry]
    print(f"{len(calls)} written calls of the train split; folds (>= {MIN_CALLS} calls): "
          + ", ".join(f"{name} {len(by_industry[name])}" for name in folds))
    print(f"{'industry left out':18} {'calls':>5} {'pushed P/R/F1':>20} {'downgraded P/R/F1':>20} {'concrete':>9} {'outcome':>8}")
    worst = 1.0
    for name in folds:
        with tempfile.TemporaryDirectory() as models:
            os.environ["CALLCOACH_MODELS_DIR"] = models
            keep = lambda raw, left_out=name: industry_of(raw) != left_out  # noqa: E731
            for task in classifiers.TASKS.values():
                for language in classifiers.LANGUAGES:
                    # The fold's classifiers: the learning ones without the industry, the others as shipped.
                    training.train(task, language, keep if task in FOLD_TASKS else None)
            analyzer = Analyzer()
            held_out = [LabeledCall(id=c["id"], labels=c["labels"], transcript=c) for c in by_industry[name]]
            result = run(held_out, None, analyzer.analyze_transcript)
            classifiers.load.cache_clear()
        pushed, down = result.binary["meeting.pushed"], result.binary.get("meeting.downgraded")
        worst = min(worst, pushed["f1"])

        def prf(row: dict | None) -> str:
            return "—" if row is None else f"{row['precision']:.2f}/{row['recall']:.2f}/{row['f1']:.3f}"

        concrete = result.accuracy.get("meeting.concrete", {}).get("accuracy")
        outcome = result.accuracy.get("meeting.outcome", {}).get("accuracy")
        print(f"{name:18} {len(held_out):5d} {prf(pushed):>20} {prf(down):>20} "
              f"{'—' if concrete is None else f'{concrete:.2f}':>9} {'—' if outcome is None else f'{outcome:.2f}':>8}")
        if args.mismatches:
            for miss in (m for m in result.mismatches if m.field == "meeting.pushed"):
                print(f"    {miss.call}: labeled {miss.expected}, said {miss.got}")
    print(f"lowest pushed F1 over the industries left out: {worst:.3f}")


if __name__ == "__main__":
    main()
