"""Benchmark: what re-transcribing skipped speech costs (asr.missed_speech + a second Whisper pass).

For every bundled sample, each stereo channel and the mono mix: the time of the normal Whisper pass,
how many stretches it skipped, and the time of transcribing them again. Prints per-set totals and
the refill time as a share of the Whisper time.

    .venv/bin/python benchmarks/bench_asr_refill.py [--set stereo,mono]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.audio.asr import Transcriber, missed_speech  # noqa: E402
from pipeline.audio.decode import load_audio  # noqa: E402
from pipeline.audio.formats import AUDIO_SUFFIXES  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--set", default="stereo,mono")
    args = parser.parse_args()
    transcriber = Transcriber()
    files = sorted(p for p in (ROOT / "samples").iterdir() if p.suffix in AUDIO_SUFFIXES)
    for set_name in args.set.split(","):
        first_s = refill_s = audio_s = 0.0
        channels = refilled = stretches = 0
        for path in files:
            audio = load_audio(path)
            if set_name == "mono":
                audio = audio.mixed_to_mono()
            language = "zh" if path.stem.startswith("zh") else "en"
            for samples in audio.channels:
                started = time.perf_counter()
                words, _ = transcriber.transcribe_words(samples, language)
                missed = missed_speech(samples, words)
                first_s += time.perf_counter() - started
                if missed:
                    started = time.perf_counter()
                    transcriber.transcribe_words(samples, language, [t for span in missed for t in span])
                    refill_s += time.perf_counter() - started
                    refilled += 1
                    stretches += len(missed)
                channels += 1
                audio_s += audio.duration_s
        print(f"{set_name:<6} channels {channels:>3}  refilled {refilled:>3} ({stretches} stretches)  "
              f"whisper {first_s:6.1f}s  refill {refill_s:5.1f}s (+{refill_s / first_s:.1%})  "
              f"RTF {first_s / audio_s:.3f} → {(first_s + refill_s) / audio_s:.3f}", flush=True)


if __name__ == "__main__":
    main()
