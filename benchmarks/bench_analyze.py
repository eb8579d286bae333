"""Benchmark: `callcoach analyze` vs plain faster-whisper on the same files, in one run.

Each side runs in its own fresh process (so peak memory is its own), with the same model,
compute type and beam size. Prints per-file times, totals, their ratio, real-time factors and
peak resident memory. Usage:

    .venv/bin/python benchmarks/bench_analyze.py [FILES...] [--beam-size 5] [--compute-type int8]
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


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_callcoach(files: list[str], beam_size: int, compute_type: str, queue) -> None:
    from pipeline.analyze import AnalyzeOptions, Analyzer
    from pipeline.audio.asr import AsrSettings

    started = time.perf_counter()
    analyzer = Analyzer(AnalyzeOptions(asr=AsrSettings(beam_size=beam_size, compute_type=compute_type)))
    analyzer.transcriber  # noqa: B018 - load the model before timing files
    load_s = time.perf_counter() - started
    times = {}
    for file in files:
        t0 = time.perf_counter()
        analyzer.analyze(Path(file))
        times[file] = time.perf_counter() - t0
    queue.put({"load_s": load_s, "times": times, "peak_mib": _peak_rss_mib()})


def run_faster_whisper(files: list[str], beam_size: int, compute_type: str, split_stereo: bool, queue) -> None:
    from faster_whisper import WhisperModel, decode_audio

    from pipeline.audio.whisper_models import resolve

    started = time.perf_counter()
    model = WhisperModel(resolve("base"), device="cpu", compute_type=compute_type)
    load_s = time.perf_counter() - started
    times = {}
    for file in files:
        t0 = time.perf_counter()
        audio = decode_audio(file, split_stereo=split_stereo)
        channels = audio if split_stereo else (audio,)
        for channel in channels:
            segments, _ = model.transcribe(channel, beam_size=beam_size, vad_filter=True, word_timestamps=True)
            list(segments)
        times[file] = time.perf_counter() - t0
    queue.put({"load_s": load_s, "times": times, "peak_mib": _peak_rss_mib()})


def _in_child(target, *args) -> dict:
    context = mp.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=target, args=(*args, queue))
    process.start()
    result = queue.get()
    process.join()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("files", nargs="*", type=Path)
    parser.add_argument("--beam-size", type=int, default=5)
    parser.add_argument("--compute-type", default="int8")
    args = parser.parse_args()
    files = [str(f) for f in args.files] or sorted(
        str(p) for p in (ROOT / "samples").iterdir() if p.suffix in AUDIO_SUFFIXES
    )
    from pipeline.audio.decode import load_audio

    durations = {f: load_audio(Path(f)).duration_s for f in files}
    audio_s = sum(durations.values())
    print(f"{len(files)} files, {audio_s:.1f} s of audio; model base, {args.compute_type}, beam {args.beam_size}")

    ours = _in_child(run_callcoach, files, args.beam_size, args.compute_type)
    plain_mono = _in_child(run_faster_whisper, files, args.beam_size, args.compute_type, False)
    plain_split = _in_child(run_faster_whisper, files, args.beam_size, args.compute_type, True)

    print(f"\n{'file':42s} {'audio s':>8s} {'analyze s':>10s} {'fw mono s':>10s} {'fw 2ch s':>9s}")
    for f in files:
        print(
            f"{Path(f).name:42s} {durations[f]:8.1f} {ours['times'][f]:10.2f} "
            f"{plain_mono['times'][f]:10.2f} {plain_split['times'][f]:9.2f}"
        )
    total = {name: sum(r["times"].values()) for name, r in (("ours", ours), ("mono", plain_mono), ("split", plain_split))}
    ratios_split = [ours["times"][f] / plain_split["times"][f] for f in files]
    print(f"\nmodel load: analyze {ours['load_s']:.2f} s, faster-whisper {plain_mono['load_s']:.2f} s")
    print(f"total wall: analyze {total['ours']:.1f} s | faster-whisper downmixed {total['mono']:.1f} s "
          f"| faster-whisper per channel {total['split']:.1f} s")
    print(f"ratio analyze / faster-whisper downmixed: {total['ours'] / total['mono']:.2f}")
    print(f"ratio analyze / faster-whisper per channel: {total['ours'] / total['split']:.2f} "
          f"(median per file {statistics.median(ratios_split):.2f})")
    print(f"real-time factor: analyze {total['ours'] / audio_s:.3f}, faster-whisper downmixed {total['mono'] / audio_s:.3f}, "
          f"per channel {total['split'] / audio_s:.3f}")
    print(f"peak memory: analyze {ours['peak_mib']:.0f} MiB, faster-whisper {plain_mono['peak_mib']:.0f} MiB "
          f"(per channel {plain_split['peak_mib']:.0f} MiB)")


if __name__ == "__main__":
    main()
