"""The command line contract: outputs, exit codes and one-line errors (run as a real subprocess)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from .conftest import SAMPLES

CALLCOACH = [sys.executable, "-m", "pipeline.cli"]


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*CALLCOACH, *args], capture_output=True, text=True, cwd=cwd, timeout=600)


@pytest.fixture
def good_transcript(tmp_path) -> Path:
    path = tmp_path / "good.json"
    path.write_text(
        json.dumps(
            {
                "language": "zh",
                "turns": [
                    {"speaker": "rep", "text": "王总您好，我是华工机械的小李，现在说话方便吗？", "start": 0.0, "end": 3.0},
                    {"speaker": "customer", "text": "方便，你说。", "start": 3.5, "end": 4.2},
                    {"speaker": "rep", "text": "周四下午两点我去您厂里当面给您演示一下，您看行吗？", "start": 4.5, "end": 8.0},
                    {"speaker": "customer", "text": "行，周四见。", "start": 8.6, "end": 9.4},
                ],
            },
            ensure_ascii=False,
        ),
        "utf-8",
    )
    return path


def assert_one_line_error(result: subprocess.CompletedProcess, fragment: str) -> None:
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert lines and any(fragment in line for line in lines), result.stderr


def test_single_transcript_prints_json_report_on_stdout(good_transcript):
    result = run("analyze", str(good_transcript))
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["meeting"]["pushed"] and report["meeting"]["concrete"]
    assert report["meeting"]["outcome"] == "accepted"
    assert report["language"] == "zh" and report["duration_s"] is None


def test_out_dir_gets_all_three_formats(good_transcript, tmp_path):
    out = tmp_path / "reports"
    result = run("analyze", str(good_transcript), "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["good.html", "good.json", "good.md"]
    assert json.loads((out / "good.json").read_text("utf-8"))["schema_version"] == "2"


def test_format_option_limits_outputs(good_transcript, tmp_path):
    result = run("analyze", str(good_transcript), "--out", str(tmp_path / "o"), "--format", "md")
    assert result.returncode == 0
    assert [p.name for p in (tmp_path / "o").iterdir()] == ["good.md"]


def _bad_inputs(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    corrupt = tmp_path / "corrupt.mp3"
    corrupt.write_bytes(os.urandom(4000))
    malformed = tmp_path / "malformed.json"
    malformed.write_text('{"turns": [', "utf-8")
    wrong = tmp_path / "wrong.json"
    wrong.write_text('{"turns": [{"who": "rep", "said": "hi"}]}', "utf-8")
    return {
        "missing": (tmp_path / "missing.wav", "file not found"),
        "empty": (empty, "empty file"),
        "corrupt": (corrupt, "cannot decode audio"),
        "malformed": (malformed, "not valid JSON"),
        "wrong": (wrong, "not a callcoach transcript"),
    }


def test_bad_inputs_fail_alone_and_leave_nothing_behind(tmp_path, good_transcript):
    bad = _bad_inputs(tmp_path)
    out = tmp_path / "out"
    result = run("analyze", *(str(p) for p, _ in bad.values()), str(good_transcript), "--out", str(out))
    assert result.returncode == 1, result.stderr  # some failed, one succeeded
    for _, fragment in bad.values():
        assert_one_line_error(result, fragment)
    assert sorted(p.name for p in out.iterdir()) == ["good.html", "good.json", "good.md"]


def test_every_input_failing_exits_2(tmp_path):
    bad = _bad_inputs(tmp_path)
    result = run("analyze", str(bad["missing"][0]), str(bad["wrong"][0]), "--out", str(tmp_path / "o"))
    assert result.returncode == 2
    assert not any((tmp_path / "o").iterdir())


def test_unwritable_out_is_refused(good_transcript, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = run("analyze", str(good_transcript), "--out", str(blocker / "sub"))
    assert result.returncode == 2
    assert_one_line_error(result, "cannot create output folder")


def test_existing_report_survives_a_failed_rerun(tmp_path, good_transcript):
    out = tmp_path / "out"
    assert run("analyze", str(good_transcript), "--out", str(out)).returncode == 0
    before = (out / "good.json").read_text("utf-8")
    good_transcript.write_text("{broken", "utf-8")
    result = run("analyze", str(good_transcript), "--out", str(out))
    assert result.returncode == 2
    assert (out / "good.json").read_text("utf-8") == before


@pytest.mark.whisper
def test_silent_recording_is_a_clear_error(tmp_path):
    silent = tmp_path / "silent.wav"
    sf.write(silent, np.zeros((8000 * 5, 2), dtype=np.float32), 8000)
    result = run("analyze", str(silent), "--out", str(tmp_path / "o"))
    assert result.returncode == 2
    assert_one_line_error(result, "no speech")
    assert not any((tmp_path / "o").iterdir())


def test_models_list_shows_base():
    result = run("models")
    assert result.returncode == 0 and "base" in result.stdout


def test_eval_prints_precision_recall_f1(tmp_path):
    labeled = tmp_path / "set.jsonl"
    call = {
        "id": "x1",
        "language": "en",
        "turns": [
            {"speaker": "rep", "text": "Could I come by your office Thursday at ten?"},
            {"speaker": "customer", "text": "Sure, see you then."},
        ],
        "labels": {
            "meeting": {"pushed": True, "concrete": True, "outcome": "accepted", "downgraded": False},
            "distraction": {"distracted": False, "rep_checked_availability": False, "rep_adapted": None},
        },
    }
    labeled.write_text(json.dumps(call) + "\n", "utf-8")
    figures = tmp_path / "figures.json"
    result = run("eval", str(labeled), "--json", str(figures))
    assert result.returncode == 0, result.stderr
    assert "precision" in result.stdout and "meeting.pushed" in result.stdout
    data = json.loads(figures.read_text())
    assert data["binary"]["meeting.pushed"]["f1"] == 1.0
    assert data["accuracy"]["meeting.outcome"]["accuracy"] == 1.0


def test_samples_exist_for_the_demo():
    assert (SAMPLES / "labels.json").is_file()
