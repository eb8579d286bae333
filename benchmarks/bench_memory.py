"""Benchmark: peak memory and time of `callcoach analyze` on long recordings (memory must not grow past the target).

Builds a stereo FLAC of the given length from a bundled call: the call, then a minute of line noise, over and
over (a long call has long stretches of silence; Whisper only hears the speech), and a silent file of the
same length. Each is analysed by `callcoach analyze` in its own process; prints minutes, wall time and the
process's peak resident memory. Usage:

    .venv/bin/python benchmarks/bench_memory.py [--minutes 120] [--sample zh_concrete_visit_accepted]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.audio.decode import load_audio  # noqa: E402

RATE_HZ = 8000


def build(target: Path, minutes: float, sample: Path | None) -> None:
    """``minutes`` of stereo at 8 kHz: the sample and a minute of faint noise, repeated (or silence only)."""
    rng = np.random.default_rng(0)
    call = load_audio(sample).pcm[:, ::2].T if sample else None  # 16 kHz → 8 kHz (the samples are band-limited)
    total = int(minutes * 60 * RATE_HZ)
    with sf.SoundFile(target, "w", RATE_HZ, 2, format="FLAC", subtype="PCM_16") as out:
        written = 0
        while written < total:
            if call is not None:
                out.write(call[: total - written])
                written += min(len(call), total - written)
            gap = min(60 * RATE_HZ, total - written)
            noise = (rng.standard_normal((gap, 2)) * (30 if call is not None else 0)).astype(np.int16)
            out.write(noise)
            written += gap


def run(path: Path, out: Path, extra: list[str]) -> tuple[float, float, int, str]:
    """Wall seconds, peak RSS (MiB) of that one process (os.wait4), exit code and the last line it printed."""
    command = [sys.executable, "-m", "pipeline.cli", "analyze", str(path), "--out", str(out), *extra]
    with tempfile.TemporaryFile("w+") as errors:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=errors, cwd=ROOT, text=True)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        errors.seek(0)
        message = (errors.read().strip().splitlines() or [""])[-1]
    return wall, usage.ru_maxrss / 1024, process.returncode, message


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=120.0)
    parser.add_argument("--sample", default="zh_concrete_visit_accepted")
    args = parser.parse_args()
    sample = next(p for p in (ROOT / "samples").glob(f"{args.sample}.*") if p.suffix != ".json")
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        cases = [("speech", sample, []), ("silence", None, ["--max-minutes", str(args.minutes + 1)])]
        for name, source, extra in cases:
            path = folder / f"{name}.flac"
            build(path, args.minutes, source)
            wall, peak_mib, code, message = run(path, folder / "out", extra)
            size_mb = os.path.getsize(path) / 1e6
            print(f"{name:8} {args.minutes:5.0f} min stereo ({size_mb:.0f} MB FLAC): {wall:6.0f} s wall, "
                  f"peak RSS {peak_mib:6.0f} MiB, exit {code}  {message[:100]}", flush=True)
        # the default limit refuses six hours before decoding a sample
        path = folder / "six_hours.flac"
        build(path, 360, None)
        wall, peak_mib, code, message = run(path, folder / "out", [])
        print(f"silence   360 min: {wall:6.1f} s wall, peak RSS {peak_mib:6.0f} MiB, exit {code}  {message[:100]}")


if __name__ == "__main__":
    main()
