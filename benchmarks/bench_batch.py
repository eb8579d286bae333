"""Benchmark: `callcoach batch` throughput, local worker processes against Ray actors, 1 and 2 of each.

Builds an archive of N calls (default 30) under /tmp from the bundled samples: the originals first, then
copies with half a second more silence per round (decoded and re-written as FLAC) so that every file has its
own content hash, spread over four reps and three weeks. Then runs the batch once per executor and worker
count, each against a fresh store and report folder, and prints audio minutes per wall minute, wall time,
the peak resident memory of each worker (each reports ru_maxrss with every result) and, for Ray, the
overhead per call against the local pool with as many workers. Ray runs on a local Ray started once before
its runs (as a cluster is, before a nightly batch); its actors start and load their models inside the
timed run, as local workers do. Usage:

    .venv/bin/python benchmarks/bench_batch.py [--calls 30] [--workers 1,2] [--executors local,ray] [--keep]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import soundfile as sf

from pipeline.audio.decode import load_audio
from pipeline.audio.formats import AUDIO_SUFFIXES
from pipeline.batch.run import BatchOptions, run_batch
from pipeline.jobs.executors import ProcessPoolCallExecutor
from pipeline.jobs.ray_executor import RayCallExecutor
from pipeline.options import AnalyzeOptions

ROOT = Path(__file__).resolve().parent.parent
REPS = ("alice", "bob", "carol", "dave")


def build_archive(folder: Path, calls: int) -> float:
    """Write ``calls`` distinct recordings into ``folder``; returns their total duration in seconds."""
    samples = sorted(p for p in (ROOT / "samples").iterdir() if p.suffix in AUDIO_SUFFIXES)
    total_s = 0.0
    for i in range(calls):
        sample = samples[i % len(samples)]
        rounds = i // len(samples)
        day = date(2024, 5, 6) + timedelta(days=(i * 3) % 21)
        rep_dir = folder / REPS[i % len(REPS)]
        rep_dir.mkdir(parents=True, exist_ok=True)
        audio = load_audio(sample)
        if rounds == 0:
            shutil.copyfile(sample, rep_dir / f"{day:%Y%m%d}_{sample.name}")
            total_s += audio.duration_s
            continue
        silence = np.zeros((audio.n_channels, int(0.5 * rounds * audio.sample_rate_hz)), dtype=np.int16)
        samples_out = np.concatenate([audio.pcm, silence], axis=1)
        target = rep_dir / f"{day:%Y%m%d}_{sample.stem}_v{rounds}.flac"
        sf.write(target, samples_out.T, audio.sample_rate_hz, format="FLAC")
        total_s += samples_out.shape[1] / audio.sample_rate_hz
    return total_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=30)
    parser.add_argument("--workers", default="1,2", help="comma-separated worker counts to try")
    parser.add_argument("--executors", default="local,ray", help="local, ray or both")
    parser.add_argument("--keep", action="store_true", help="keep the archive, stores and reports")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="callcoach-bench-batch-"))
    archive = folder / "archive"
    audio_s = build_archive(archive, args.calls)
    print(f"archive: {archive} — {args.calls} recordings, {audio_s / 60:.1f} audio min; "
          f"{os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f}")
    rows = []
    configurations = [(executor, int(w)) for executor in args.executors.split(",") for w in args.workers.split(",")]
    if any(executor == "ray" for executor, _ in configurations):
        import ray

        ray.init(num_cpus=os.cpu_count(), include_dashboard=False, log_to_driver=False)
    for executor, workers in configurations:
        options = BatchOptions(
            archive=archive,
            db=folder / f"store-{executor}-{workers}w.db",
            out=folder / f"reports-{executor}-{workers}w",
            analyze=AnalyzeOptions(),
            workers=workers,
        )
        factory = RayCallExecutor if executor == "ray" else ProcessPoolCallExecutor
        started = time.perf_counter()
        summary = run_batch(options, executor_factory=factory)
        wall_s = time.perf_counter() - started
        assert summary.done == args.calls and not summary.failures, summary.failures
        speed = (summary.done_audio_s / 60) / (wall_s / 60)
        peaks = ", ".join(f"{mib:.0f}" for _, mib in sorted(summary.peak_rss_mib.items()))
        rows.append((executor, workers, wall_s, summary.done_audio_s, speed, peaks))
        print(f"{executor} workers={workers}: {summary.done} calls, {summary.done_audio_s / 60:.1f} audio min in "
              f"{wall_s:.0f} s → {speed:.2f} audio min per wall min; peak RSS per worker (MiB): {peaks}", flush=True)

    print()
    print(f"{'executor':>8} {'workers':>7} {'cpu threads/worker':>18} {'wall s':>7} {'audio min':>9} "
          f"{'audio min / wall min':>20}  peak RSS per worker (MiB)")
    local_wall = {workers: wall_s for executor, workers, wall_s, *_ in rows if executor == "local"}
    for executor, workers, wall_s, done_s, speed, peaks in rows:
        threads = max(1, (os.cpu_count() or 1) // workers)
        print(f"{executor:>8} {workers:>7} {threads:>18} {wall_s:>7.0f} {done_s / 60:>9.1f} {speed:>20.2f}  {peaks}")
    for executor, workers, wall_s, *_ in rows:
        if executor == "ray" and workers in local_wall:
            extra_s = wall_s - local_wall[workers]
            print(f"ray with {workers} actor(s) vs the local pool with {workers} worker(s): "
                  f"{wall_s / local_wall[workers]:.2f}× the wall time, {extra_s / args.calls:+.2f} s per call")
    print(f"parent process peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    if args.keep:
        print(f"kept: {folder}")
    else:
        shutil.rmtree(folder)


if __name__ == "__main__":
    main()
