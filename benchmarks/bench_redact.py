"""Benchmark: redaction on the written set with hard negatives (P/R/F1 per kind), and its cost per call.

Accuracy: ``tests/data/redaction/written.jsonl`` (written by a helper who never saw the detector's code:
sentences with phone, ID, card numbers and e-mail addresses as Whisper writes them, and hard negatives —
prices, dates, order and contract numbers, quantities, numbers failing their checksum). Cost: the whole
redaction step (``redact_transcript``: every turn and word of the transcript) on the dev split's Mandarin
turns repeated to a 30-minute call's worth of turns, median of 20 runs. Usage:

    .venv/bin/python benchmarks/bench_redact.py [--set PATH] [--mistakes]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from pipeline.privacy.redact_transcript import redact_transcript
from pipeline.training.redaction import load_set, score
from pipeline.transcript import Transcript, Turn, Word

ROOT = Path(__file__).resolve().parent.parent
WRITTEN = ROOT / "tests" / "data" / "redaction" / "written.jsonl"
TURNS_PER_30_MIN = 360  # one turn every 5 s


def long_transcript() -> Transcript:
    """Sample transcripts' turns, each with word timings, repeated to a 30-minute call."""
    turns: list[Turn] = []
    texts = [turn["text"] for line in (ROOT / "tests" / "data" / "dev" / "zh.jsonl").read_text("utf-8").splitlines()
             for turn in json.loads(line)["turns"]]
    texts += ["我电话是13812345678，您记一下", "卡号6222021234567890128"]
    for n in range(TURNS_PER_30_MIN):
        text = texts[n % len(texts)]
        start = 5.0 * n
        step = 4.5 / max(1, len(text))
        words = [Word(start + i * step, start + (i + 1) * step, char, 0.9) for i, char in enumerate(text)]
        turns.append(Turn(n, "rep" if n % 2 == 0 else "customer", text, start, start + 4.5, words=words))
    return Transcript("zh", turns)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--set", type=Path, default=WRITTEN)
    parser.add_argument("--mistakes", action="store_true", help="list every false and missed span")
    args = parser.parse_args()
    items = load_set(args.set)
    figures = score(items)
    positives = sum(bool(item["pii"]) for item in items)
    print(f"{args.set.name}: {len(items)} sentences ({positives} with PII, {len(items) - positives} without)")
    print(f"{'kind':<10} {'P':>6} {'R':>6} {'F1':>6} {'tp':>4} {'fp':>4} {'fn':>4}")
    for kind, row in figures.items():
        if kind != "mistakes":
            print(f"{kind:<10} {row['precision']:6.3f} {row['recall']:6.3f} {row['f1']:6.3f} "
                  f"{row['tp']:4d} {row['fp']:4d} {row['fn']:4d}")
    if args.mistakes:
        for item_id, what, text in figures["mistakes"]["list"]:
            print(f"  {item_id}\t{what}\t{text}")
    transcript = long_transcript()
    timings = []
    for _ in range(20):
        started = time.perf_counter()
        redact_transcript(transcript)
        timings.append(time.perf_counter() - started)
    print(f"cost: {statistics.median(timings) * 1000:.1f} ms per 30-minute call ({len(transcript.turns)} turns, "
          f"word timings kept), median of 20")


if __name__ == "__main__":
    main()
