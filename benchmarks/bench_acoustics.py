"""Benchmark: cost of the sound-feature stage (pipeline.audio.acoustics.measure) relative to the audio's duration.

Uses the bundled samples with their rendered turn timings (samples/timing/*.json) as the turns, so no
Whisper run is needed. Prints per file the stage's time as a share of the audio duration, and the
median — the target is under 2 % on a 2-core machine. Usage:

    .venv/bin/python benchmarks/bench_acoustics.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from pipeline.audio.acoustics import measure
from pipeline.audio.decode import load_audio
from pipeline.transcript import Transcript, Turn

SAMPLES = Path(__file__).resolve().parent.parent / "samples"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    shares = []
    for timing_path in sorted((SAMPLES / "timing").glob("*.json")):
        timing = json.loads(timing_path.read_text("utf-8"))
        audio = load_audio(SAMPLES / f"{timing['stem']}.{timing['format']}")
        rep_channel = 0 if timing["rep_channel"] == "left" else 1
        turns = [
            Turn(i, t["speaker"], t["text"], t["start_s"], t["end_s"], channel=rep_channel if t["speaker"] == "rep" else 1 - rep_channel)
            for i, t in enumerate(timing["turns"])
        ]
        transcript = Transcript(timing["language"], turns, audio.duration_s)
        times = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            measure(audio, transcript, customer_channel=1 - rep_channel)
            times.append(time.perf_counter() - started)
        share = statistics.median(times) / audio.duration_s
        shares.append(share)
        print(f"{timing['stem']:38s} {audio.duration_s:6.1f} s audio  {statistics.median(times) * 1000:7.1f} ms  {share:7.3%}")
    print(f"median share of audio duration: {statistics.median(shares):.3%} (max {max(shares):.3%}) over {len(shares)} files")


if __name__ == "__main__":
    main()
