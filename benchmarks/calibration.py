"""Do the verdicts' probabilities mean what they say? A reliability table on held-out labeled sets.

For meeting.pushed, meeting.downgraded and meeting.concrete (on calls labeled pushed) the calls are binned
by the report's probability; each bin shows how many calls, the mean probability and how often the label
was actually true, then the Brier score. The probabilities are counted on the tuning sets
(pipeline/analysis/calibration.json); the sets here are held out from that count.

    .venv/bin/python benchmarks/calibration.py [SET ...]

Default sets: the dev split, the unseen industries, the samples as Whisper heard them, and the beike held-out
part (when ../shared/realdata is there). Run the held-out beike part only at the end of a session.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.analyze import Analyzer  # noqa: E402
from pipeline.errors import CallcoachError  # noqa: E402
from pipeline.training.evaluate import load_labeled  # noqa: E402
from pipeline.transcript import transcript_from_dict  # noqa: E402

DEFAULT_SETS = ("tests/data/dev", "tests/data/unseen", "tests/data/asr/samples.jsonl", "tests/data/beike/heldout.jsonl",
                "tests/data/beike/heldout2.jsonl", "tests/data/beike/heldout3.jsonl",
                "tests/data/beike/heldout4.jsonl")
BINS = (0.0, 0.1, 0.3, 0.5, 0.7, 0.9, 1.0001)
FINDINGS = (("meeting.pushed", "pushed_probability", "pushed"), ("meeting.downgraded", "downgraded_probability", "downgraded"),
            ("meeting.concrete", "concrete_probability", "concrete"))


def main() -> None:
    names = sys.argv[1:] or list(DEFAULT_SETS)
    analyzer = Analyzer()
    rows: dict[str, list[tuple[float, bool]]] = {finding: [] for finding, _, _ in FINDINGS}
    for name in names:
        try:
            calls = load_labeled(ROOT / name)
        except CallcoachError as error:
            print(f"skipped {name}: {error}")
            continue
        for call in calls:
            if call.transcript is None or "meeting" not in call.labels:
                continue
            meeting = analyzer.analyze_transcript(transcript_from_dict(call.transcript, call.id), call.id).meeting
            truth = call.labels["meeting"]
            for finding, field, label in FINDINGS:
                probability = getattr(meeting, field)
                if probability is None or (finding == "meeting.concrete" and not truth["pushed"]):
                    continue
                rows[finding].append((probability, bool(truth[label])))
        print(f"read {name}: {len(calls)} calls")
    for finding, pairs in rows.items():
        print(f"\n{finding}: {len(pairs)} calls, Brier {sum((p - y) ** 2 for p, y in pairs) / max(1, len(pairs)):.3f}")
        print(f"  {'probability':>12} {'calls':>6} {'mean p':>7} {'observed':>9}")
        for low, high in zip(BINS, BINS[1:], strict=False):
            inside = [(p, y) for p, y in pairs if low <= p < high]
            if inside:
                mean = sum(p for p, _ in inside) / len(inside)
                observed = sum(y for _, y in inside) / len(inside)
                print(f"  {low:.1f}–{min(high, 1.0):.1f}{'':>4} {len(inside):6d} {mean:7.2f} {observed:9.2f}")


if __name__ == "__main__":
    main()
