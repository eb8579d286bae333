"""Benchmark: text-only analysis (meeting + distraction + coaching) per transcript, after models are loaded.

Prints model loading time separately, then the median and 90th percentile per transcript over the
labeled written calls (the train split in models/training/calls and the dev split; every call analysed
`--repeat` times). Usage:

    .venv/bin/python benchmarks/bench_text.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    started = time.perf_counter()
    from pipeline.analyze import Analyzer
    from pipeline.language.nlp import load_nlp
    from pipeline.language.reading import corrected_reading
    from pipeline.transcript import transcript_from_dict

    import_s = time.perf_counter() - started
    started = time.perf_counter()
    for language in ("zh", "en"):
        load_nlp(language)("预热 warm up")
    load_s = time.perf_counter() - started

    calls = [
        json.loads(line)
        for path in sorted([*(ROOT / "models" / "training" / "calls").glob("*.jsonl"), *(ROOT / "tests" / "data" / "dev").glob("*.jsonl")])
        for line in path.read_text("utf-8").splitlines()
        if line.strip()
    ]
    analyzer = Analyzer()
    per_call_ms: list[float] = []
    for _ in range(args.repeat):
        for call in calls:
            corrected_reading.cache_clear()  # every call read afresh, as a new call would be
            t0 = time.perf_counter()
            analyzer.analyze_transcript(transcript_from_dict(call, call["id"]), call["id"])
            per_call_ms.append((time.perf_counter() - t0) * 1000)
    per_call_ms.sort()
    turns = statistics.median(len(c["turns"]) for c in calls)
    print(f"imports {import_s:.2f} s, spaCy + jieba + cue patterns loaded in {load_s:.2f} s")
    print(f"{len(calls)} transcripts (median {turns:.0f} turns) x {args.repeat}: "
          f"median {statistics.median(per_call_ms):.1f} ms, p90 {per_call_ms[int(0.9 * len(per_call_ms))]:.1f} ms, "
          f"max {per_call_ms[-1]:.1f} ms per transcript")


if __name__ == "__main__":
    main()
