"""Benchmark: diarisation of mono calls against real truth, per method.

Every call is a stereo recording mixed down to mono in memory, so the truth is exact:
- the six real SpokenWOZ calls in ../shared/realdata/spokenwoz (word-level speaker labels;
  speaker B, the agent, plays the rep),
- the bundled samples (per-turn speaker spans in samples/timing/*.json),
- with --set train, the audio calls of the train split (models/training/audio): the diarisation settings
  (pause trimming, piece lengths) are chosen there, and the two sets above are the check.

Whisper runs once per mono mix and its words are cached under out/bench_diarize/ (Whisper is the
slow part; the cache makes comparing diarisation methods cheap). Prints per method and data set:
the share of Whisper words given the right speaker (best of the two cluster-to-speaker mappings,
i.e. the diarisation alone), the share given the right role after the content-based role decision
(what the report shows), role accuracy per call, and the real-time factor of the diarisation stage.

    .venv/bin/python benchmarks/bench_diarize.py [--methods spectral,embedding] [--set all|spokenwoz|samples]
        [--calls STEM,...] [--per-call] [--refresh]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.analysis.call import parse_turns  # noqa: E402
from pipeline.analysis.roles import decide_roles  # noqa: E402
from pipeline.audio import diarize  # noqa: E402
from pipeline.audio.decode import load_audio  # noqa: E402
from pipeline.audio.formats import AUDIO_SUFFIXES  # noqa: E402
from pipeline.transcript import Transcript, Word, build_turns  # noqa: E402

REALDATA = ROOT.parent / "shared" / "realdata"
CACHE = ROOT / "out" / "bench_diarize"


@dataclass
class Call:
    set_name: str
    stem: str
    path: Path
    truth: list[tuple[float, float, str]]  # (start_s, end_s, "rep" | "customer")


def spokenwoz_calls() -> list[Call]:
    folder = REALDATA / "spokenwoz"
    if not folder.is_dir():
        print(f"skipping spokenwoz: {folder} not present", file=sys.stderr)
        return []
    calls = []
    for path in sorted(folder.glob("*.flac")):
        words = json.loads(path.with_suffix(".words.json").read_text("utf-8"))
        truth = [(w["start"], w["end"], "rep" if w["speaker"] == "B" else "customer") for w in words]
        calls.append(Call("spokenwoz", path.stem, path, truth))
    return calls


def sample_calls(folder: Path = ROOT / "samples", set_name: str = "samples") -> list[Call]:
    calls = []
    for path in sorted(folder.iterdir()):
        timing = folder / "timing" / f"{path.stem}.json"
        if path.suffix in AUDIO_SUFFIXES and timing.is_file():
            turns = json.loads(timing.read_text("utf-8"))["turns"]
            calls.append(Call(set_name, path.stem, path, [(t["start_s"], t["end_s"], t["speaker"]) for t in turns]))
    return calls


def train_calls() -> list[Call]:
    """The audio calls of the train split: where the diarisation's settings are chosen."""
    return sample_calls(ROOT / "models" / "training" / "audio", "train")


def cached_words(call: Call, refresh: bool) -> tuple[str, list[Word]]:
    """Whisper words of the mono mix (language detected, as the pipeline does)."""
    cache = CACHE / f"{call.stem}.json"
    if cache.is_file() and not refresh:
        data = json.loads(cache.read_text("utf-8"))
        return data["language"], [Word(*w) for w in data["words"]]
    from pipeline.audio.asr import Transcriber

    global _TRANSCRIBER
    if _TRANSCRIBER is None:
        _TRANSCRIBER = Transcriber()
    audio = load_audio(call.path).mixed_to_mono()
    channels, language, _ = _TRANSCRIBER.transcribe(audio, None)
    words = channels[0].words
    CACHE.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps({"language": language, "words": [[w.start, w.end, w.text, w.probability] for w in words]},
                                ensure_ascii=False), "utf-8")
    return language, words


_TRANSCRIBER = None


def truth_of(word: Word, truth: list[tuple[float, float, str]]) -> str:
    """The truth speaker who talks most during the word; the nearest one when nobody does."""
    overlap = {"rep": 0.0, "customer": 0.0}
    for start, end, speaker in truth:
        overlap[speaker] += max(0.0, min(end, word.end) - max(start, word.start))
    if max(overlap.values()) > 0:
        return max(overlap, key=overlap.get)  # type: ignore[arg-type]
    middle = (word.start + word.end) / 2
    return min(truth, key=lambda t: min(abs(t[0] - middle), abs(t[1] - middle)))[2]


@dataclass
class Result:
    call: Call
    n_words: int
    diarised_correct: float  # share of words, best cluster mapping
    role_correct: float  # share of words with the right rep/customer label after the role decision
    roles_right: bool  # the cluster called "rep" is the one holding most of the rep's words
    confidence: float
    elapsed_s: float
    duration_s: float


def evaluate(call: Call, method: str, refresh: bool) -> Result:
    language, words = cached_words(call, refresh)
    audio = load_audio(call.path).mixed_to_mono()
    started = time.perf_counter()
    result = diarize.diarise(audio.samples(0), audio.sample_rate_hz, words, method=method)
    elapsed_s = time.perf_counter() - started
    truth = [truth_of(w, call.truth) for w in words]
    speakers = np.array(result.speaker_of_word)
    is_rep = np.array([t == "rep" for t in truth])
    straight = float(np.mean((speakers == 0) == is_rep)) if len(words) else 0.0
    diarised_correct = max(straight, 1 - straight)

    by_speaker = [[w for w, s in zip(words, result.speaker_of_word, strict=True) if s == k] for k in (0, 1)]
    transcript = Transcript(language=language, turns=build_turns(by_speaker, language), duration_s=audio.duration_s)  # type: ignore[arg-type]
    roles = decide_roles(transcript, parse_turns(transcript), "auto", 2)
    rep_words = {id(w) for t in transcript.turns if t.speaker == "rep" for w in t.words}
    labelled_rep = np.array([id(w) in rep_words for w in words])
    role_correct = float(np.mean(labelled_rep == is_rep)) if len(words) else 0.0
    rep_share = [float(np.mean(is_rep[speakers == k])) if np.any(speakers == k) else 0.0 for k in (0, 1)]
    truth_rep_cluster = int(np.argmax(rep_share))
    return Result(call, len(words), diarised_correct, role_correct, roles.rep_channel == truth_rep_cluster,
                  result.confidence, elapsed_s, audio.duration_s)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--methods", default=",".join(diarize.available_methods()))
    parser.add_argument("--set", default="all", choices=["all", "spokenwoz", "samples", "train"],
                        help="all = the held-out sets (spokenwoz, samples); train = models/training/audio, for choosing settings")
    parser.add_argument("--calls", default="", help="only these stems (comma-separated)")
    parser.add_argument("--per-call", action="store_true")
    parser.add_argument("--refresh", action="store_true", help="re-run Whisper instead of using the cache")
    args = parser.parse_args()

    calls = (spokenwoz_calls() if args.set in ("all", "spokenwoz") else []) + (
        sample_calls() if args.set in ("all", "samples") else []
    ) + (train_calls() if args.set == "train" else [])
    if args.calls:
        wanted = set(args.calls.split(","))
        calls = [c for c in calls if c.stem in wanted]
    for call in calls:  # fill the cache first so timings below are diarisation only
        cached_words(call, args.refresh)

    print(f"{'method':<10} {'set':<10} {'calls':>5} {'words':>6} {'word attr.':>10} {'after roles':>11} "
          f"{'roles ok':>8} {'min call':>8} {'RTF':>7}")
    for method in args.methods.split(","):
        results = [evaluate(call, method, False) for call in calls]
        for set_name in dict.fromkeys(c.set_name for c in calls):
            subset = [r for r in results if r.call.set_name == set_name]
            words = sum(r.n_words for r in subset)
            attributed = sum(r.diarised_correct * r.n_words for r in subset) / words
            after_roles = sum(r.role_correct * r.n_words for r in subset) / words
            roles_ok = sum(r.roles_right for r in subset)
            worst = min(r.diarised_correct for r in subset)
            rtf = sum(r.elapsed_s for r in subset) / sum(r.duration_s for r in subset)
            print(f"{method:<10} {set_name:<10} {len(subset):>5} {words:>6} {attributed:>10.1%} {after_roles:>11.1%} "
                  f"{roles_ok:>4}/{len(subset):<3} {worst:>8.1%} {rtf:>7.4f}")
            if args.per_call:
                for r in subset:
                    print(f"    {r.call.stem:<36} words {r.n_words:>4}  attr {r.diarised_correct:6.1%}  "
                          f"after roles {r.role_correct:6.1%}  roles {'ok' if r.roles_right else 'WRONG'}  "
                          f"confidence {r.confidence:.2f}  rtf {r.elapsed_s / r.duration_s:.4f}")
        print(f"{method:<10} {'median confidence':>21} {statistics.median(r.confidence for r in results):.2f}")


if __name__ == "__main__":
    main()
