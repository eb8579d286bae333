"""Mono calls: diarisation into two voices, roles per voice, fake stereo, and what the report shows.

Fast tests use the bundled samples' timing truth as stand-in words (no Whisper); the ones marked
``whisper`` run the whole pipeline on a mono mix written to disk. Mono and fake stereo through the
Analyzer: tests/test_e2e_samples.py::test_mono_and_fake_stereo_calls_are_diarised_end_to_end.
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf

from pipeline.analysis.coaching import coach
from pipeline.audio.acoustics import measure
from pipeline.audio.decode import load_audio
from pipeline.audio.diarize import HOP_S, PIECE_MAX_S, diarise, pieces_of, quiet_frames, trimmed_to_speech
from pipeline.errors import CallcoachError
from pipeline.report.render import render_html, render_markdown
from pipeline.report.schema import Roles
from pipeline.transcript import Transcript, Turn, Word

from .conftest import SAMPLES, speakers_agree_with_timing
from .test_render import zh_report


def _sample(stem: str):
    return next(path for path in SAMPLES.iterdir() if path.stem == stem and path.suffix != ".json")


def _truth_words(stem: str) -> tuple[list[Word], list[str]]:
    """Words cut from the sample's timing truth (0.3 s each), with who said them."""
    turns = json.loads((SAMPLES / "timing" / f"{stem}.json").read_text("utf-8"))["turns"]
    words, speakers = [], []
    for turn in turns:
        start = turn["start_s"]
        while start < turn["end_s"] - 0.05:
            end = min(start + 0.3, turn["end_s"])
            words.append(Word(round(start, 2), round(end, 2), "w"))
            speakers.append(turn["speaker"])
            start = end + 0.02
    return words, speakers


def _attribution(voices: list[int], speakers: list[str]) -> float:
    """Share of words on the right side, for the better of the two voice-to-speaker mappings."""
    same = np.mean([(v == 0) == (s == "rep") for v, s in zip(voices, speakers, strict=True)])
    return float(max(same, 1 - same))


@pytest.mark.parametrize("stem", ["en_video_call", "zh_engaged_thinking_pause"])
def test_voices_of_a_mono_mix_are_told_apart(stem):
    audio = load_audio(_sample(stem)).mixed_to_mono()
    words, speakers = _truth_words(stem)
    result = diarise(audio.samples(0), audio.sample_rate_hz, words)
    assert result.method == "spectral"
    assert _attribution(result.speaker_of_word, speakers) >= 0.9
    assert 0.5 <= result.confidence <= 1.0
    assert result.second_voice_share > 0.2


def test_pieces_break_at_pauses_and_after_the_maximum_length():
    words = [Word(0.0, 0.3, "a"), Word(0.35, 0.6, "b"), Word(1.2, 1.5, "c")]  # 0.6 s pause before "c"
    assert pieces_of(words) == [[0, 1], [2]]
    steady = [Word(i * 0.3, i * 0.3 + 0.28, "w") for i in range(20)]  # 6 s without a pause
    assert all(steady[p[-1]].end - steady[p[0]].start <= PIECE_MAX_S for p in pieces_of(steady))


def test_a_pause_swallowed_by_a_whisper_word_cuts_the_piece():
    """Whisper stretched "好的" over the pause at a turn change; the audio shows the pause, so the piece is cut there."""
    sample_rate_hz = 16_000
    t = np.arange(int(3.0 * sample_rate_hz)) / sample_rate_hz
    voice = (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    voice[int(1.2 * sample_rate_hz) : int(1.6 * sample_rate_hz)] = 0.0  # 0.4 s pause: customer stops, rep starts
    voice += np.random.default_rng(0).normal(0, 1e-3, len(voice)).astype(np.float32)
    quiet = quiet_frames(voice, sample_rate_hz)
    assert quiet[int(1.4 / HOP_S)] and not quiet[int(0.5 / HOP_S)] and not quiet[int(2.0 / HOP_S)]
    words = [Word(0.5, 0.8, "开"), Word(0.8, 1.05, "会"), Word(1.05, 1.9, "好的"), Word(1.9, 2.4, "那您")]
    assert pieces_of(words) == [[0, 1, 2, 3]]
    trimmed = trimmed_to_speech(words, quiet)
    assert trimmed[2].start == pytest.approx(1.6, abs=0.05) and trimmed[2].end == 1.9 and trimmed[2].text == "好的"
    assert trimmed[:2] == words[:2] and trimmed[3] == words[3]
    assert pieces_of(trimmed) == [[0, 1], [2, 3]]
    inside_the_pause = Word(1.25, 1.55, "嗯")  # nothing voiced to trim to: left as Whisper gave it
    assert trimmed_to_speech([inside_the_pause], quiet) == [inside_the_pause]
    steady_noise = np.random.default_rng(1).normal(0, 0.1, len(voice)).astype(np.float32)
    assert not quiet_frames(steady_noise, sample_rate_hz).any()  # no level contrast: no pauses claimed


def test_too_little_speech_is_one_voice_with_no_confidence():
    samples = np.zeros(16_000 * 3, dtype=np.float32)
    result = diarise(samples, 16_000, [Word(0.5, 0.8, "hi"), Word(1.0, 1.2, "there")])
    assert result.speaker_of_word == [0, 0]
    assert result.confidence == 0.0 and result.second_voice_share == 0.0


def test_unknown_method_and_missing_extra_are_one_line_errors(monkeypatch):
    words = [Word(i * 0.6, i * 0.6 + 0.3, "w") for i in range(10)]  # ten pieces
    with pytest.raises(CallcoachError, match="unknown diarisation method"):
        diarise(np.zeros(16_000 * 6, dtype=np.float32), 16_000, words, method="magic")
    monkeypatch.setitem(sys.modules, "resemblyzer", None)  # as if the extra were not installed
    with pytest.raises(CallcoachError, match="speaker-embeddings") as error:
        diarise(np.random.default_rng(0).normal(size=16_000 * 6).astype(np.float32), 16_000, words, method="embedding")
    assert "\n" not in str(error.value)


def test_fake_stereo_becomes_one_channel(tmp_path):
    audio = load_audio(_sample("en_video_call"))
    mono = audio.mixed_to_mono().samples(0)
    sf.write(tmp_path / "fake.wav", np.stack([mono, mono * 0.98], axis=1), audio.sample_rate_hz)
    fake = load_audio(tmp_path / "fake.wav")
    assert fake.fake_stereo and fake.n_channels == 1
    real = load_audio(_sample("en_video_call"))
    assert not real.fake_stereo and real.n_channels == 2


def test_diarised_acoustics_measure_only_what_one_channel_shows():
    audio = load_audio(_sample("en_video_call")).mixed_to_mono()
    rep = Turn(0, "rep", "Do you have two minutes?", 0.4, 2.0, channel=0, words=[Word(0.4, 2.0, "Do you have two minutes?")])
    customer = Turn(1, "customer", "Sure, go ahead now.", 3.0, 4.5, channel=1,
                    words=[Word(3.0, 3.6, " Sure,"), Word(3.7, 4.0, " go"), Word(4.0, 4.5, " ahead now.")])
    evidence = measure(audio, Transcript("en", [rep, customer], 8.0), customer_channel=1, diarised=True)
    assert evidence.response_latencies_s == {1: 1.0}
    assert evidence.customer_speech_rate == pytest.approx(4 / 1.4, abs=0.01)
    assert evidence.background_kind is None and evidence.overlap_s is None and evidence.customer_interruptions is None
    assert evidence.not_measured == ["mono_shared_channel"]


def _mono_roles(split_confidence: float, role_confidence: float = 0.8) -> Roles:
    return Roles(method="diarised_mono", rep_channel=None, confidence=min(role_confidence, split_confidence),
                 basis="说话像销售的一方定为销售（可能性 63%）", split_confidence=split_confidence, diarisation="spectral")


def test_low_split_confidence_is_visible_in_report_and_coaching():
    report = zh_report()
    low = report.model_copy(update={"roles": _mono_roles(0.3)})
    for text in (render_markdown(low), render_html(low, None)):
        assert "单声道录音" in text and "30%" in text
    points = coach(Transcript("zh", [], None), low.roles, low.meeting, low.distraction)
    assert any(p.principle == "roles" and p.verdict == "warning" and "30%" in p.message for p in points)

    clear = report.model_copy(update={"roles": _mono_roles(0.9)})
    markdown = render_markdown(clear)
    assert "⚠" not in markdown and "单声道录音" in markdown  # still says roles come from a mono mix
    assert not any(p.principle == "roles" for p in coach(Transcript("zh", [], None), clear.roles, clear.meeting,
                                                          clear.distraction))

    # Clear voices, unclear rep (SpokenWOZ SNG0072: roles confidence 0.26): the coach is warned too.
    unsure = report.model_copy(update={"roles": _mono_roles(0.9, role_confidence=0.26)})
    points = coach(Transcript("zh", [], None), unsure.roles, unsure.meeting, unsure.distraction)
    assert [p.message for p in points if p.principle == "roles"] == [
        "无法确定谁是销售：说话像销售的一方定为销售（可能性 63%）。本报告中的角色判断可信度低，请教练核对。"]


@pytest.mark.whisper
def test_cli_analyses_a_mono_recording_end_to_end(tmp_path, sample_labels):
    """Real Whisper + diarisation on a mono mix of a bundled call: roles and findings as in stereo."""
    stem = "en_concrete_coffee_accepted"
    audio = load_audio(_sample(stem))
    sf.write(tmp_path / "call.wav", audio.mixed_to_mono().pcm[0], audio.sample_rate_hz)
    done = subprocess.run([sys.executable, "-m", "pipeline.cli", "analyze", str(tmp_path / "call.wav"), "--out",
                           str(tmp_path / "out")], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    report = json.loads((tmp_path / "out" / "call.json").read_text("utf-8"))
    assert report["transcription"]["channels"] == 1
    assert report["roles"]["method"] == "diarised_mono" and report["roles"]["diarisation"] == "spectral"
    assert report["roles"]["split_confidence"] >= 0.5
    assert speakers_agree_with_timing(report["turns"], stem) >= 0.8
    assert {t["speaker"] for t in report["turns"]} == {"rep", "customer"}
    labels = sample_labels[stem]
    assert report["meeting"]["pushed"] == labels["meeting"]["pushed"]
    assert report["meeting"]["concrete"] == labels["meeting"]["concrete"]
    assert report["distraction"]["distracted"] == labels["distraction"]["distracted"]
    assert report["acoustics"]["customer_response_latency_median_s"] is not None
    assert "Mono recording" in (tmp_path / "out" / "call.md").read_text("utf-8")


@pytest.mark.whisper
def test_spokenwoz_mono_mixes_put_most_words_on_the_right_side(realdata):
    """Six real calls mixed to mono; each turn is checked against who talks most during it (B = agent = rep)."""
    from pipeline.analyze import AnalyzeOptions, Analyzer

    analyzer = Analyzer(AnalyzeOptions(mix_to_mono=True, language="en"))
    right = total = 0
    for path in sorted((realdata / "spokenwoz").glob("*.flac")):
        truth = json.loads(path.with_suffix(".words.json").read_text("utf-8"))
        report = analyzer.analyze(path).report
        assert report.roles.method == "diarised_mono"
        for turn in report.turns:
            agent_s = sum(max(0.0, min(turn.end, w["end"]) - max(turn.start, w["start"])) * (1 if w["speaker"] == "B" else -1)
                          for w in truth)
            n = len(turn.text.split())
            total += n
            right += n * ((turn.speaker == "rep") == (agent_s > 0))
    print(f"\nspokenwoz mono: {right / total:.1%} of words on the right side")
    assert right / total >= 0.8
