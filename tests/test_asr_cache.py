"""The transcription cache: what Whisper wrote is read back, keyed by the recording and everything that
decides a transcription; a re-analysis from it gives the same report without running Whisper."""

from __future__ import annotations

import gzip
from dataclasses import replace
from pathlib import Path

import pytest

from pipeline.audio.asr import ChannelWords
from pipeline.audio.asr_cache import AsrCache, beside_store, settings_key
from pipeline.options import AnalyzeOptions
from pipeline.transcript import Word

ROOT = Path(__file__).resolve().parent.parent
RESULT = ([ChannelWords([Word(0.5, 0.9, "您好", 0.93), Word(1.0, 1.4, "王总", 0.88)], 1.2),
           ChannelWords([Word(2.0, 2.3, "你好", 0.97)], 0.4)], "zh", 0.99)


def test_a_transcription_reads_back_exactly(tmp_path):
    cache = AsrCache(tmp_path / "c")
    assert cache.get("ab" * 32, "k") is None
    cache.put("ab" * 32, "k", RESULT)
    assert cache.get("ab" * 32, "k") == RESULT
    assert cache.get("ab" * 32, "other") is None and cache.get("cd" * 32, "k") is None


def test_an_unreadable_entry_is_a_miss_and_forget_removes_every_key(tmp_path):
    cache = AsrCache(tmp_path / "c")
    cache.put("ab" * 32, "k1", RESULT)
    cache.put("ab" * 32, "k2", RESULT)
    entry = next((tmp_path / "c").rglob("*k1.json.gz"))
    entry.write_bytes(gzip.compress(b'{"language": "zh"'))  # cut short
    assert cache.get("ab" * 32, "k1") is None
    entry.write_bytes(b"not gzip")
    assert cache.get("ab" * 32, "k1") is None
    assert cache.forget("ab" * 32) == 2 and cache.get("ab" * 32, "k2") is None


def test_the_key_follows_what_decides_a_transcription():
    base = AnalyzeOptions()
    assert settings_key(base) == settings_key(AnalyzeOptions())
    changed = [replace(base, asr=replace(base.asr, beam_size=1)), replace(base, asr=replace(base.asr, model="tiny.en")),
               replace(base, asr=replace(base.asr, compute_type="float32")), replace(base, language="zh"),
               replace(base, mix_to_mono=True), replace(base, asr=replace(base.asr, prompt=False))]
    assert len({settings_key(options) for options in [base, *changed]}) == len(changed) + 1
    # What the analysis does with the words is not part of it: a pattern edit or retrain hits the cache.
    assert settings_key(replace(base, rep_channel="left")) == settings_key(base)
    assert beside_store(Path("/srv/calls.db")) == Path("/srv/calls.asr-cache")


def test_no_cache_with_redact(tmp_path):
    from pipeline.analyze import Analyzer

    assert Analyzer(AnalyzeOptions(redact=True), AsrCache(tmp_path)).asr_cache is None


class _NoWhisper:
    def transcribe(self, audio, language):
        raise AssertionError("Whisper ran although the transcription was cached")


@pytest.mark.whisper
def test_a_reanalysis_from_the_cache_gives_the_same_report_without_whisper(analyzer, tmp_path):
    from pipeline.analyze import Analyzer

    sample = ROOT / "samples" / "zh_concrete_visit_accepted.mp3"
    cache = AsrCache(tmp_path / "cache")
    first = Analyzer(analyzer.options, cache)
    first._transcriber = analyzer.transcriber  # Whisper already loaded for the session
    before = first.analyze(sample).report
    assert len(list((tmp_path / "cache").rglob("*.json.gz"))) == 1
    again = Analyzer(analyzer.options, cache)
    again._transcriber = _NoWhisper()  # type: ignore[assignment]
    after = again.analyze(sample).report
    assert after.model_dump(exclude={"transcription"}) == before.model_dump(exclude={"transcription"})


def tamper(cache_dir: Path, text: str) -> int:
    """Rewrite the first word of every cached transcription, so that a report made from the cache shows it."""
    import json

    entries = sorted(cache_dir.rglob("*.json.gz"))
    for entry in entries:
        data = json.loads(gzip.decompress(entry.read_bytes()))
        channel = next(c for c in data["channels"] if c["words"])
        channel["words"][0][2] = text
        entry.write_bytes(gzip.compress(json.dumps(data, ensure_ascii=False).encode()))
    return len(entries)


@pytest.mark.whisper
def test_the_batch_reanalyses_from_the_cache(tmp_path):
    import json
    import subprocess
    import sys

    from tests.test_batch import excerpt

    archive, db, out = tmp_path / "archive", tmp_path / "calls.db", tmp_path / "out"
    (archive / "li").mkdir(parents=True)
    excerpt(ROOT / "samples" / "zh_concrete_visit_accepted.mp3", archive / "li" / "2024-05-27_visit.flac", 0, 20)

    def batch(*extra: str) -> None:
        run = subprocess.run([sys.executable, "-m", "pipeline.cli", "batch", str(archive), "--db", str(db), "--out",
                              str(out), "--workers", "1", "-q", *extra], capture_output=True, text=True, timeout=600)
        assert run.returncode == 0, run.stderr

    batch()
    assert tamper(tmp_path / "calls.asr-cache", "缓存里的话") == 1
    batch("--force")  # analysed again: the words come from the cache, not from Whisper
    report = json.loads((out / "li" / "2024-05-27_visit.json").read_text("utf-8"))
    assert "缓存里的话" in " ".join(turn["text"] for turn in report["turns"])
    batch("--force", "--no-asr-cache")  # without the cache Whisper runs again
    report = json.loads((out / "li" / "2024-05-27_visit.json").read_text("utf-8"))
    assert "缓存里的话" not in " ".join(turn["text"] for turn in report["turns"])
