"""Why the Mandarin initial_prompt makes Whisper slow (issue #14): per real magicdata utterance at 8 kHz,
the time plain faster-whisper takes with and without the pipeline's prompt, with and without word
timestamps, and the temperature every segment was decoded at (a fallback would show as > 0).

    .venv/bin/python benchmarks/asr_prompt_probe.py [UTTERANCE_ID ...]

Needs ../shared/realdata/magicdata_cs_zh (or $CALLCOACH_REALDATA). One run, one machine: compare the
columns with each other, not with another run.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import librosa  # noqa: E402
from faster_whisper import WhisperModel  # noqa: E402

from pipeline.audio.asr import PROMPTS  # noqa: E402
from pipeline.audio.whisper_models import resolve  # noqa: E402
from pipeline.training.realdata import realdata_dir  # noqa: E402

CASES = (("plain, words", None, True), ("prompt, words", "zh", True), ("plain, no words", None, False),
         ("prompt, no words", "zh", False))


def main() -> None:
    folder = realdata_dir() / "magicdata_cs_zh" / "audio"
    if not folder.is_dir():
        sys.exit(f"error: {folder} not found (the shared real data)")
    ids = sys.argv[1:] or [f"{i:06d}" for i in range(1, 9)]
    model = WhisperModel(resolve("base"), device="cpu", compute_type="int8", cpu_threads=2)
    print(f"{'utterance':10} " + " ".join(f"{name:>18}" for name, _, _ in CASES) + "  temperatures")
    for uid in ids:
        audio, _ = librosa.load(folder / f"{uid}.flac", sr=8000)  # telephone bandwidth, then Whisper's rate
        audio = librosa.resample(audio, orig_sr=8000, target_sr=16000)
        times, temperatures = [], set()
        for _, prompt, words in CASES:
            start = time.perf_counter()
            segments, _ = model.transcribe(audio, language="zh", beam_size=5, vad_filter=True, word_timestamps=words,
                                           condition_on_previous_text=False,
                                           initial_prompt=PROMPTS.get(prompt) if prompt else None)
            temperatures.update(segment.temperature for segment in segments)
            times.append(time.perf_counter() - start)
        print(f"{uid:10} " + " ".join(f"{t:17.1f}s" for t in times) + f"  {sorted(temperatures)}", flush=True)


if __name__ == "__main__":
    main()
