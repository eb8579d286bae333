"""Whisper on noisy speech: stretches it skips are found with the VAD and transcribed again (real VAD, real Whisper)."""

from __future__ import annotations

import json

import pytest

from pipeline.audio.asr import MISSED_SPEECH_MIN_S, missed_speech
from pipeline.audio.decode import load_audio
from pipeline.audio.plan import speech_spans
from pipeline.transcript import Word

from .conftest import SAMPLES

# Mixed to mono, the customer's traffic sits under the rep's pitch; Whisper `base` then ends its
# first 30 s window after the greeting and skipped 5-40 s of speech before this was added.
STEM = "zh_dist_driving_pitch_on"


@pytest.fixture(scope="module")
def mono_mix():
    path = next(p for p in SAMPLES.iterdir() if p.stem == STEM and p.suffix != ".json")
    return load_audio(path).mixed_to_mono()


@pytest.fixture(scope="module")
def truth_turns():
    return json.loads((SAMPLES / "timing" / f"{STEM}.json").read_text("utf-8"))["turns"]


def test_speech_no_word_covers_is_found(mono_mix, truth_turns):
    greeting = truth_turns[0]
    only_greeting = [Word(greeting["start_s"], greeting["end_s"], "李总您好")]
    missed = missed_speech(speech_spans(mono_mix, 0), only_greeting)
    assert missed and all(end - start >= MISSED_SPEECH_MIN_S for start, end in missed)
    assert all(start >= greeting["end_s"] for start, _ in missed)
    # every later turn of 1 s or more lies (mostly) inside a missed stretch
    for turn in truth_turns[1:]:
        if turn["end_s"] - turn["start_s"] >= 1.5:
            middle = (turn["start_s"] + turn["end_s"]) / 2
            assert any(start <= middle <= end for start, end in missed), (turn, missed)


def test_nothing_is_missed_when_words_cover_the_speech(mono_mix, truth_turns):
    words = [Word(t["start_s"], t["end_s"], t["text"]) for t in truth_turns]
    assert missed_speech(speech_spans(mono_mix, 0), words) == []


def test_whisper_transcribes_the_skipped_stretches(analyzer, mono_mix, truth_turns):
    words = analyzer.transcriber.transcribe(mono_mix, "zh")[0][0].words
    assert words == sorted(words, key=lambda w: w.start)
    # speech in every third of the call, not only the greeting and the last line
    for turn in truth_turns[1:-1]:
        if turn["end_s"] - turn["start_s"] >= 2.0:
            assert any(turn["start_s"] - 0.5 <= w.start <= turn["end_s"] + 0.5 for w in words), turn
    # the customer's "你说啥？没听清" is heard, however this CPU's int8 kernels spell it
    asked = next(t for t in truth_turns if "没听" in t["text"])
    assert any(asked["start_s"] - 0.5 <= (w.start + w.end) / 2 <= asked["end_s"] + 0.5 for w in words), asked
