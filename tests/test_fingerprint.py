"""The analysis fingerprint: it moves with everything that decides findings, and with nothing else."""

from __future__ import annotations

import shutil

import pytest

from pipeline import fingerprint as fp
from pipeline.audio.asr import AsrSettings
from pipeline.options import AnalyzeOptions


@pytest.fixture(autouse=True)
def fresh():
    fp.clear_cache()
    yield
    fp.clear_cache()


def test_same_options_same_fingerprint_and_decoding_matters_only_for_recordings():
    base = AnalyzeOptions()
    assert fp.analysis_fingerprint(base, "audio") == fp.analysis_fingerprint(AnalyzeOptions(), "audio")
    assert len(fp.analysis_fingerprint(base, "audio")) == 16
    beam3 = AnalyzeOptions(asr=AsrSettings(beam_size=3))
    assert fp.analysis_fingerprint(beam3, "audio") != fp.analysis_fingerprint(base, "audio")
    assert fp.analysis_fingerprint(beam3, "transcript") == fp.analysis_fingerprint(base, "transcript")
    mono = AnalyzeOptions(mix_to_mono=True)
    assert fp.analysis_fingerprint(mono, "audio") != fp.analysis_fingerprint(base, "audio")
    # the thread count changes speed, not findings
    assert fp.analysis_fingerprint(base.with_cpu_threads(1), "audio") == fp.analysis_fingerprint(base, "audio")


def test_a_pattern_edit_or_a_refit_changes_it(tmp_path, monkeypatch):
    before = fp.analysis_fingerprint(AnalyzeOptions(), "transcript")
    patterns = tmp_path / "patterns"
    shutil.copytree(fp.packaged("pipeline.language", "patterns"), patterns)
    real_packaged = fp.packaged
    monkeypatch.setattr(fp, "packaged", lambda package, name: patterns if name == "patterns" else real_packaged(package, name))
    fp.clear_cache()
    assert fp.analysis_fingerprint(AnalyzeOptions(), "transcript") == before  # same content, same fingerprint
    cues = patterns / "cues_zh.json"
    cues.write_text(cues.read_text("utf-8").replace("拜访", "拜訪", 1), "utf-8")
    fp.clear_cache()
    edited = fp.analysis_fingerprint(AnalyzeOptions(), "transcript")
    assert edited != before

    model = tmp_path / "role_model.json"
    model.write_text(fp.role_model_path().read_text("utf-8").replace('"C"', '"C" ', 1), "utf-8")
    monkeypatch.setattr(fp, "role_model_path", lambda: model)
    fp.clear_cache()
    assert fp.analysis_fingerprint(AnalyzeOptions(), "transcript") not in (before, edited)


def test_retrained_classifiers_change_it(monkeypatch):
    before = fp.analysis_fingerprint(AnalyzeOptions(), "transcript")
    monkeypatch.setattr(fp, "training_record", lambda task, language: {"data_sha256": "other data"})
    fp.clear_cache()
    assert fp.analysis_fingerprint(AnalyzeOptions(), "transcript") != before
