"""Benchmark: the pipeline's recogniser against plain faster-whisper, same model, in one run, at telephone quality.

Sets (real speech unless said):
- ``magicdata``: the 100 Mandarin utterances of ../shared/realdata/magicdata_cs_zh, CER. Split before any
  tuning by position in id order: every 5th and the one after it (40) are ``tune``, the other 60 ``held``.
- ``spokenwoz``: the 6 English two-channel calls of ../shared/realdata/spokenwoz, WER against the word
  truth in ``*.words.json`` (machine-made in places: approximate).
- ``samples``: the 30 bundled synthetic calls (speech synthesis, not real voices), CER/WER against their
  scripts, and **key-term recall**: of the meeting words in the Mandarin scripts (the cue phrases of
  pipeline/language/patterns/cues_zh.json, days, times of day, clock times), the share the recogniser
  writes in that call. ``train_audio``: the same for the training calls' recordings (models/training/audio),
  the part decoding is tuned on; ``samples`` stay for reporting.

Conditions: ``8k`` (PCM at 8 kHz), ``amr`` (AMR-NB 12.2 kbit/s round trip, each channel coded on its own as a
phone network does), ``mulaw`` (G.711 μ-law round trip). Encoded with PyAV's FFmpeg libraries.

Systems, all on one loaded model (same compute type; plain at ``--beam-size``, the pipeline at its own):
- ``plain``: ``WhisperModel.transcribe(audio, beam_size=B)`` on the mono downmix (faster-whisper's defaults);
- ``plain-vad-words``: the same with ``vad_filter=True, word_timestamps=True`` (the speed benchmark's baseline);
- ``pipeline``: callcoach's Transcriber (decoding plan over the channels, batched windows).

Text is compared after the same normalisation for every system (Simplified characters, no punctuation or
spaces for Mandarin; lower case words for English). Usage:

    .venv/bin/python benchmarks/bench_asr.py [--sets magicdata,spokenwoz,samples] [--conditions 8k,amr]
        [--split held|tune|all] [--beam-size 5] [--pipeline-beam-size B] [--no-prompt] [--limit N]
"""

from __future__ import annotations

import argparse
import io
import json
import re
import sys
import tempfile
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import av
import jiwer
import numpy as np
import soundfile

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.audio.asr import AsrSettings, Transcriber  # noqa: E402
from pipeline.audio.decode import load_audio  # noqa: E402
from pipeline.language.text import to_simplified  # noqa: E402
from pipeline.training.realdata import realdata_dir  # noqa: E402

REALDATA = realdata_dir()
SAMPLES = ROOT / "samples"
TRAIN_AUDIO = ROOT / "models" / "training" / "audio"
RATE_8K = 8000
_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)
_TIME_TERMS = re.compile(r"(周|星期|礼拜)[一二三四五六日天]|[上下]午|晚上|明天|后天|[一二三四五六七八九十两]{1,3}点(半)?")
SYSTEMS = ("plain", "plain-vad-words", "pipeline")


def magicdata_split(ids: list[str]) -> dict[str, str]:
    """Fixed before tuning: position k in id order is tune when k % 5 is 0 or 1."""
    return {id_: ("tune" if k % 5 in (0, 1) else "held") for k, id_ in enumerate(sorted(ids))}


# -- telephone conditions


def _read_8k(path: Path) -> np.ndarray:
    """(channels, samples) int16 at 8 kHz, whatever the file's rate."""
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        layout = "stereo" if (stream.codec_context.channels or 1) >= 2 else "mono"
        resampler = av.AudioResampler(format="s16p", layout=layout, rate=RATE_8K)
        parts = [out.to_ndarray() for frame in container.decode(stream) for out in resampler.resample(frame)]
        parts += [out.to_ndarray() for out in resampler.resample(None)]
    return np.concatenate(parts, axis=1)


def _round_trip(channel: np.ndarray, codec: str, container_format: str, bit_rate: int | None) -> np.ndarray:
    """One channel (int16, 8 kHz) through an encoder and back."""
    buffer = io.BytesIO()
    with av.open(buffer, "w", format=container_format) as out:
        stream = out.add_stream(codec, rate=RATE_8K, layout="mono")
        if bit_rate:
            stream.bit_rate = bit_rate
        frame = av.AudioFrame.from_ndarray(channel[None, :], format="s16", layout="mono")
        frame.sample_rate = RATE_8K
        for packet in stream.encode(frame):
            out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    buffer.seek(0)
    with av.open(buffer) as back:
        resampler = av.AudioResampler(format="s16", layout="mono", rate=RATE_8K)
        parts = [out.to_ndarray()[0] for frame in back.decode(audio=0) for out in resampler.resample(frame)]
    decoded = np.concatenate(parts)
    return np.pad(decoded, (0, max(0, len(channel) - len(decoded))))[: len(channel)]


CONDITIONS = {
    "8k": None,
    "amr": ("libopencore_amrnb", "amr", 12200),
    "mulaw": ("pcm_mulaw", "wav", None),
}


def telephone_copy(source: Path, condition: str, folder: Path) -> Path:
    target = folder / condition / f"{source.stem}.wav"
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    channels = _read_8k(source)
    if CONDITIONS[condition] is not None:
        channels = np.stack([_round_trip(channel, *CONDITIONS[condition]) for channel in channels])
    soundfile.write(target, channels.T, RATE_8K, subtype="PCM_16")
    return target


# -- items and scoring


@dataclass
class Item:
    name: str
    path: Path
    language: str
    truth: str
    key_terms: list[str] = field(default_factory=list)


def normalise(text: str, language: str) -> str:
    if language == "zh":
        return _NON_WORD.sub("", to_simplified(text)).lower()
    return " ".join(_NON_WORD.sub(" ", text.lower()).split())


@lru_cache(maxsize=1)
def _cue_phrases() -> frozenset[str]:
    cues = json.loads((ROOT / "pipeline/language/patterns/cues_zh.json").read_text("utf-8"))
    return frozenset(p for value in cues.values() if isinstance(value, dict) for p in value.get("phrases", []))


def key_terms_of(text: str) -> list[str]:
    terms = [p for p in _cue_phrases() if len(p) >= 2 and p in text]
    terms = [t for t in terms if not any(t != other and t in other for other in terms)]  # the longest only
    return sorted(terms + [m.group(0) for m in _TIME_TERMS.finditer(text)])


def items_of(set_name: str, split: str) -> list[Item]:
    if set_name == "magicdata":
        folder = REALDATA / "magicdata_cs_zh"
        rows = [json.loads(line) for line in (folder / "transcripts.jsonl").read_text("utf-8").splitlines() if line]
        parts = magicdata_split([row["id"] for row in rows])
        return [Item(row["id"], folder / "audio" / f"{row['id']}.flac", "zh", row["text"],
                     key_terms_of(normalise(row["text"], "zh")))
                for row in rows if split == "all" or parts[row["id"]] == split]
    if set_name == "spokenwoz":
        items = []
        for path in sorted((REALDATA / "spokenwoz").glob("*.flac")):
            words = json.loads(path.with_suffix(".words.json").read_text("utf-8"))
            truth = " ".join(w["word"] for w in sorted(words, key=lambda w: w["start"]))
            items.append(Item(path.stem, path, "en", truth))
        return items
    folder = SAMPLES if set_name == "samples" else TRAIN_AUDIO
    items = []
    for script in sorted((folder / "scripts").glob("*.json")):
        data = json.loads(script.read_text("utf-8"))
        audio = next(p for p in folder.glob(f"{script.stem}.*") if p.suffix != ".json")
        truth = " ".join(turn["text"] for turn in data["turns"])
        terms = key_terms_of(normalise(truth, "zh")) if data["language"] == "zh" else []
        items.append(Item(script.stem, audio, data["language"], truth, terms))
    return items


# -- systems


def plain_text(model, path: Path, beam_size: int, vad_and_words: bool) -> str:
    from faster_whisper import decode_audio

    segments, _ = model.transcribe(decode_audio(str(path)), beam_size=beam_size,
                                   vad_filter=vad_and_words, word_timestamps=vad_and_words)
    return " ".join(segment.text for segment in segments)


def pipeline_text(transcriber: Transcriber, path: Path) -> str:
    channels, _, _ = transcriber.transcribe(load_audio(path), None)
    words = sorted((w for channel in channels for w in channel.words), key=lambda w: w.start)
    return " ".join(w.text for w in words)


def score(items: list[Item], hypotheses: list[str]) -> float:
    language = items[0].language
    refs = [normalise(item.truth, language) for item in items]
    hyps = [normalise(h, language) for h in hypotheses]
    if language == "zh":
        return jiwer.cer(refs, hyps)
    return jiwer.wer(refs, hyps)


def key_term_recall(items: list[Item], hypotheses: list[str]) -> tuple[int, int, int]:
    """(found, wanted, invented): key terms of the scripts the recogniser wrote, and terms it wrote that the
    script does not have (a prompt that names the domain's words must not put them in people's mouths)."""
    found = total = invented = 0
    for item, hypothesis in zip(items, hypotheses, strict=True):
        heard = normalise(hypothesis, "zh")
        for term in set(item.key_terms):
            wanted = item.key_terms.count(term)
            total += wanted
            found += min(wanted, heard.count(term))
        heard_terms = key_terms_of(heard)
        for term in set(heard_terms):
            invented += max(0, heard_terms.count(term) - item.key_terms.count(term))
    return found, total, invented


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", default="magicdata,spokenwoz,samples")
    parser.add_argument("--conditions", default="8k,amr")
    parser.add_argument("--split", default="held", choices=["held", "tune", "all"], help="magicdata part")
    parser.add_argument("--beam-size", type=int, default=5)
    parser.add_argument("--pipeline-beam-size", type=int, default=AsrSettings().beam_size,
                        help="the pipeline's beam (default: the product's own); --beam-size is plain's")
    parser.add_argument("--no-prompt", action="store_true", help="the pipeline without its Mandarin prompt")
    parser.add_argument("--limit", type=int, default=0, help="at most this many items per set")
    parser.add_argument("--systems", default=",".join(SYSTEMS))
    args = parser.parse_args()

    systems = args.systems.split(",")
    transcriber = Transcriber(AsrSettings(beam_size=args.pipeline_beam_size, prompt=not args.no_prompt))
    model = transcriber.model
    run = {
        "plain": lambda path: plain_text(model, path, args.beam_size, vad_and_words=False),
        "plain-vad-words": lambda path: plain_text(model, path, args.beam_size, vad_and_words=True),
        "pipeline": lambda path: pipeline_text(transcriber, path),
    }
    print(f"model base int8, plain beam {args.beam_size}, pipeline beam {args.pipeline_beam_size}, pipeline prompt {'off' if args.no_prompt else 'on'}; "
          f"magicdata part: {args.split}")
    with tempfile.TemporaryDirectory() as scratch:
        for set_name in args.sets.split(","):
            items = items_of(set_name, args.split)
            if args.limit:
                items = items[: args.limit]
            if not items or not items[0].path.exists():
                print(f"{set_name}: no data (needs ../shared/realdata)")
                continue
            for condition in args.conditions.split(","):
                copies = [telephone_copy(item.path, condition, Path(scratch)) for item in items]
                texts: dict[str, list[str]] = {system: [] for system in systems}
                seconds = dict.fromkeys(systems, 0.0)
                for copy in copies:  # systems alternate per item: load drifts hit each the same
                    for system in systems:
                        started = time.perf_counter()
                        texts[system].append(run[system](copy))
                        seconds[system] += time.perf_counter() - started
                for language in ("zh", "en"):
                    chosen = [k for k, item in enumerate(items) if item.language == language]
                    if not chosen:
                        continue
                    metric = "CER" if language == "zh" else "WER"
                    for system in systems:
                        hyps = [texts[system][k] for k in chosen]
                        line = (f"{set_name:9} {condition:5} {language} n={len(chosen):3} {system:15} "
                                f"{metric} {score([items[k] for k in chosen], hyps):6.1%}")
                        if language == "zh":
                            found, total, invented = key_term_recall([items[k] for k in chosen], hyps)
                            line += f"  key terms {found}/{total} = {found / max(total, 1):.1%}, {invented} invented"
                        print(line + f"  ({seconds[system]:.0f} s for the set)", flush=True)


if __name__ == "__main__":
    main()
