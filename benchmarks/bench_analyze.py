"""Benchmark: `callcoach analyze` against plain faster-whisper on the same files, alternating, in one run.

Three processes, each loading its model once: the pipeline (the whole analysis: decoding plan, Whisper,
roles, findings, report), plain faster-whisper as its README calls it (``transcribe(audio, beam_size=B)`` on
the mono downmix), and plain faster-whisper with VAD and word timestamps (what the pipeline delivers). Same
model, compute type, beam and threads. Files go round A B C A B C … for ``--rounds`` rounds, so load drifts
on a shared machine hit all sides alike; per-file times are medians over the rounds. Prints totals, the
ratios, real-time factors and each process's peak resident memory. Usage:

    .venv/bin/python benchmarks/bench_analyze.py [FILES...] [--rounds 2] [--beam-size 5] [--threads 2]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import resource
import statistics
import time
from pathlib import Path

from pipeline.audio.formats import AUDIO_SUFFIXES

ROOT = Path(__file__).resolve().parent.parent
SIDES = ("pipeline", "plain", "plain-vad-words")


def _serve(side: str, beam_size: int, compute_type: str, threads: int, warm_up_file: str, connection) -> None:
    """A side's process: load once, then time each file it is sent; None ends it with the peak memory."""
    if side == "pipeline":
        from pipeline.analyze import AnalyzeOptions, Analyzer
        from pipeline.audio.asr import AsrSettings

        analyzer = Analyzer(AnalyzeOptions(asr=AsrSettings(beam_size=beam_size, compute_type=compute_type,
                                                           cpu_threads=threads)))
        analyzer.warm_up()  # Whisper, the VAD and both languages' text models load before timing

        def work(path: str) -> None:
            analyzer.analyze(Path(path))
    else:
        from faster_whisper import WhisperModel, decode_audio

        from pipeline.audio.whisper_models import resolve

        model = WhisperModel(resolve("base"), device="cpu", compute_type=compute_type, cpu_threads=threads)
        extras = {"vad_filter": True, "word_timestamps": True} if side == "plain-vad-words" else {}

        def work(path: str) -> None:
            segments, _ = model.transcribe(decode_audio(path), beam_size=beam_size, **extras)
            list(segments)

    work(warm_up_file)
    connection.send("ready")
    while (path := connection.recv()) is not None:
        started = time.perf_counter()
        work(path)
        connection.send(time.perf_counter() - started)
    connection.send(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("files", nargs="*", type=Path)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--beam-size", type=int, default=5)
    parser.add_argument("--compute-type", default="int8")
    parser.add_argument("--threads", type=int, default=2, help="CPU threads for every side")
    args = parser.parse_args()
    files = [str(f) for f in args.files] or sorted(
        str(p) for p in (ROOT / "samples").iterdir() if p.suffix in AUDIO_SUFFIXES
    )
    from pipeline.audio.decode import load_audio

    durations = {f: load_audio(Path(f)).duration_s for f in files}
    audio_s = sum(durations.values())
    print(f"{len(files)} files, {audio_s:.1f} s of audio; model base, {args.compute_type}, beam {args.beam_size}, "
          f"{args.threads} threads, {args.rounds} rounds alternating")

    context = mp.get_context("spawn")
    connections, processes = {}, []
    for side in SIDES:
        mine, theirs = context.Pipe()
        process = context.Process(target=_serve, args=(side, args.beam_size, args.compute_type, args.threads, files[0], theirs))
        process.start()
        processes.append(process)
        connections[side] = mine
    for connection in connections.values():
        assert connection.recv() == "ready"
    times: dict[str, dict[str, list[float]]] = {side: {f: [] for f in files} for side in SIDES}
    for _ in range(args.rounds):
        for f in files:
            for side in SIDES:
                connections[side].send(f)
                times[side][f].append(connections[side].recv())
    peaks = {}
    for side, connection in connections.items():
        connection.send(None)
        peaks[side] = connection.recv()
    for process in processes:
        process.join()

    median = {side: {f: statistics.median(times[side][f]) for f in files} for side in SIDES}
    print(f"\n{'file':42s} {'audio s':>8s} " + " ".join(f"{side:>16s}" for side in SIDES))
    for f in files:
        print(f"{Path(f).name:42s} {durations[f]:8.1f} " + " ".join(f"{median[side][f]:16.2f}" for side in SIDES))
    total = {side: sum(median[side].values()) for side in SIDES}
    print("\ntotal wall (median per file, summed): " + ", ".join(f"{side} {total[side]:.1f} s" for side in SIDES))
    for baseline in SIDES[1:]:
        per_file = [median["pipeline"][f] / median[baseline][f] for f in files]
        print(f"ratio pipeline / {baseline}: {total['pipeline'] / total[baseline]:.2f} "
              f"(median per file {statistics.median(per_file):.2f})")
    print("real-time factor: " + ", ".join(f"{side} {total[side] / audio_s:.3f}" for side in SIDES))
    print("peak memory: " + ", ".join(f"{side} {peaks[side]:.0f} MiB" for side in SIDES))


if __name__ == "__main__":
    main()
