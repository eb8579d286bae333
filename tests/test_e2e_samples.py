"""End to end on the bundled samples: real decoding, real Whisper, real analysis, real report files."""

import json
import subprocess
import sys

import jsonschema
import pytest

from .conftest import ROOT, SAMPLES, speakers_agree_with_timing

pytestmark = pytest.mark.whisper
SCHEMA = json.loads((ROOT / "pipeline" / "report" / "report.schema.json").read_text("utf-8"))


def _script(stem: str) -> dict:
    return json.loads((SAMPLES / "scripts" / f"{stem}.json").read_text("utf-8"))


def _sample(stem: str):
    found = [p for p in SAMPLES.glob(f"{stem}.*") if p.suffix != ".json"]
    assert found, f"sample {stem} missing: run samples/render.py"
    return found[0]


def test_cli_writes_a_complete_report_for_a_mandarin_call(tmp_path, sample_labels):
    stem = "zh_concrete_visit_accepted"
    result = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "analyze", str(_sample(stem)), "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=900,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads((tmp_path / f"{stem}.json").read_text("utf-8"))
    jsonschema.validate(report, SCHEMA)
    assert report["language"] == "zh" and report["duration_s"] > 20
    assert report["roles"]["method"] == "stereo_content"
    assert report["roles"]["rep_channel"] == _script(stem)["rep_channel"]
    speakers = {turn["speaker"] for turn in report["turns"]}
    assert speakers == {"rep", "customer"}
    assert len(report["turns"]) >= 6, "turns come from words, not 30-second segments"
    expected = sample_labels[stem]
    assert report["meeting"]["pushed"] is expected["meeting"]["pushed"]
    assert report["distraction"]["rep_checked_availability"] is expected["distraction"]["rep_checked_availability"]
    html = (tmp_path / f"{stem}.html").read_text("utf-8")
    assert "data:audio/mpeg;base64," in html and "<svg" in html
    markdown = (tmp_path / f"{stem}.md").read_text("utf-8")
    assert "销售" in markdown  # Chinese call, Chinese report


def test_distracted_english_caller_on_a_noisy_line(analyzer, sample_labels):
    stem = "en_distracted_driving"
    report = analyzer.analyze(_sample(stem)).report
    assert report.language == "en"
    assert report.roles.rep_channel == _script(stem)["rep_channel"]
    assert report.distraction.distracted and report.distraction.rep_adapted is False
    kinds = {signal.kind for signal in report.distraction.signals}
    assert "background_sound" in kinds, kinds  # traffic noise on the customer's channel
    assert report.acoustics and report.acoustics.customer_background_kind == "broadband"


def test_mono_and_fake_stereo_calls_are_diarised_end_to_end(analyzer, tmp_path):
    """Mono (and a stereo file carrying one signal twice) take the diarised path: rep and customer from one channel."""
    import numpy as np
    import soundfile as sf

    from pipeline.audio.decode import load_audio

    audio = load_audio(_sample("zh_engaged_thinking_pause"))
    mono = audio.mixed_to_mono().pcm[0]
    sf.write(tmp_path / "mono.wav", mono, audio.sample_rate_hz)
    sf.write(tmp_path / "fake_stereo.wav", np.stack([mono, mono], axis=1), audio.sample_rate_hz)
    reports = {}
    for name in ("mono.wav", "fake_stereo.wav"):
        report = reports[name] = analyzer.analyze(tmp_path / name).report
        assert report.roles.method == "diarised_mono" and report.roles.rep_channel is None
        assert report.roles.split_confidence is not None
        assert {turn.speaker for turn in report.turns} == {"rep", "customer"}
        assert speakers_agree_with_timing(report.turns, "zh_engaged_thinking_pause") >= 0.8
        assert report.distraction.not_measured, "background sound needs the customer's own channel"
        assert report.transcription.channels == 1
        assert report.transcription.fake_stereo is (name == "fake_stereo.wav")
    # One signal copied twice is the mono call: the same findings, whatever words this CPU's Whisper heard.
    # (Whether the push survives a mono mix is measured over all samples by `callcoach eval samples --mono`.)
    mono, fake = reports["mono.wav"], reports["fake_stereo.wav"]
    assert (mono.meeting, mono.distraction, mono.turns) == (fake.meeting, fake.distraction, fake.turns)


def test_a_recording_with_a_damaged_middle_yields_a_report_naming_the_lost_span(analyzer, tmp_path):
    """A tenth of an AAC file overwritten mid-call: the call is analysed past the damage, turns after it keep
    their times, and the report names the stretch that could not be decoded."""
    import numpy as np

    from pipeline.report.render import render_markdown

    source = _sample("zh_declined_then_wechat")
    data = bytearray(source.read_bytes())
    garbage = np.random.default_rng(0).integers(0, 256, len(data) // 10, dtype=np.uint8).tobytes()
    data[len(data) // 2 : len(data) // 2 + len(garbage)] = garbage
    damaged = tmp_path / source.name
    damaged.write_bytes(bytes(data))
    report = analyzer.analyze(damaged).report
    lost = report.transcription.lost_spans
    assert len(lost) >= 1 and 10 < lost[0].start_s < lost[0].end_s < 35
    assert any(turn.start is not None and turn.start > lost[0].end_s for turn in report.turns)  # speech after it
    assert report.duration_s > 35  # the call keeps its length
    assert "未能解码" in render_markdown(report)
