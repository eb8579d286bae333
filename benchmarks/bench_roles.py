"""Benchmark: how often the rep/customer decision is right when diarisation misplaces parts of turns.

On a mono call the role decision sees two diarised voices, and some stretches of the rep's speech
land in the customer's voice (and back). This simulates that on written calls with known speakers
(pipeline.training.roles.as_two_sides: every turn cut into pieces of about a second, each piece moved
to the other side with probability p) and prints the share of calls where the decision
(speakers.decide_roles) picks the rep's side, per language and p.

The role model is fitted on the train split; run this on the dev split (the default) for held-out
figures. The audio check is benchmarks/bench_diarize.py ("roles ok").

    .venv/bin/python benchmarks/bench_roles.py [--set tests/data/dev] [--draws 20] [--errors]
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


from pipeline.analysis.call import parse_turns  # noqa: E402
from pipeline.analysis.roles import decide_roles  # noqa: E402
from pipeline.training.evaluate import load_labeled  # noqa: E402
from pipeline.training.roles import as_two_sides  # noqa: E402

MOVE_PROBABILITIES = (0.0, 0.1, 0.2, 0.3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--set", type=Path, default=ROOT / "tests" / "data" / "dev")
    parser.add_argument("--draws", type=int, default=20)
    parser.add_argument("--errors", action="store_true", help="list calls decided wrong with nothing misplaced")
    args = parser.parse_args()
    calls = [c.transcript for c in load_labeled(args.set) if c.transcript]
    print(f"{len(calls)} calls from {args.set}")
    for p in MOVE_PROBABILITIES:
        rng = random.Random(0)
        for language in ("zh", "en"):
            right = total = 0
            for _ in range(args.draws if p > 0 else 1):
                for call in (c for c in calls if c["language"] == language):
                    transcript = as_two_sides(call, p, rng)
                    decision = decide_roles(transcript, parse_turns(transcript), "auto", 2)
                    right += decision.rep_channel == 0
                    total += 1
                    if args.errors and p == 0 and decision.rep_channel != 0:
                        print(f"    wrong: {call['id']} {decision.basis}")
            print(f"p={p:.1f} {language}: roles right {right / total:6.1%} ({right}/{total})")


if __name__ == "__main__":
    main()
