"""The nightly batch: discovery by content, identity, incremental runs, failures, worker deaths, two runs on
one store, one-line errors, and a real `kill -9` in the middle of a Whisper batch."""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path, PurePosixPath

import pytest

from pipeline.batch import discover as discovery
from pipeline.batch.discover import call_date_of, compile_rep_pattern, discover, rep_of, sniff
from pipeline.batch.progress import format_summary
from pipeline.batch.run import BatchOptions, run_batch
from pipeline.errors import CallcoachError
from pipeline.jobs.executors import InlineCallExecutor
from pipeline.jobs.worker import CallResult
from pipeline.report.files import remove_stale_temp_files
from pipeline.store import Owner, Store

from .conftest import SAMPLES, all_labeled_calls

CALLCOACH = [sys.executable, "-m", "pipeline.cli"]
REPS = ("alice", "bob", "carol")


def run_cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([*CALLCOACH, *args], capture_output=True, text=True, timeout=timeout)


def labeled_transcripts() -> list[dict]:
    return [{"id": call["id"], "language": call["language"], "turns": call["turns"]} for call in all_labeled_calls()]


def make_archive(root: Path, n: int, reps: tuple[str, ...] = REPS, first_day: date = date(2024, 5, 6)) -> list[Path]:
    """``n`` labeled transcripts as ROOT/<rep>/<YYYY-MM-DD>_<id>.json, spread over reps and three weeks."""
    paths = []
    for i, call in enumerate(labeled_transcripts()[:n]):
        day = first_day + timedelta(days=(i * 5) % 21)
        path = root / reps[i % len(reps)] / f"{day.isoformat()}_{call['id']}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"language": call["language"], "turns": call["turns"]}, ensure_ascii=False), "utf-8")
        paths.append(path)
    return paths


def add_broken_recording(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(random.Random(7).randbytes(4000))
    return path


def temp_files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.name.endswith(".tmp")]


def done_events(db: Path) -> dict[str, int]:
    with Store(db, create=False) as store:
        counts: dict[str, int] = {}
        for event in store.events():
            if event.event == "done":
                counts[event.call_id] = counts.get(event.call_id, 0) + 1
        return counts


def options(tmp_path: Path, **kwargs) -> BatchOptions:
    return BatchOptions(archive=tmp_path / "archive", db=tmp_path / "calls.db", out=tmp_path / "out", **kwargs)


# ------------------------------------------------------------------------------------------- discovery


def test_call_date_from_the_file_name_then_folders_then_mtime():
    mtime = time.mktime((2023, 1, 2, 12, 0, 0, 0, 0, -1))
    assert call_date_of(PurePosixPath("alice/2024-05-06_acme.mp3"), mtime) == "2024-05-06"
    assert call_date_of(PurePosixPath("alice/rec_20240507_1530_13800138000.m4a"), mtime) == "2024-05-07"
    assert call_date_of(PurePosixPath("alice/20240508153000.wav"), mtime) == "2024-05-08"  # YYYYMMDDhhmmss
    assert call_date_of(PurePosixPath("alice/2024-05-09/call-7.mp3"), mtime) == "2024-05-09"
    assert call_date_of(PurePosixPath("alice/2024-13-45_x.mp3"), mtime) == "2023-01-02"  # not a date
    assert call_date_of(PurePosixPath("alice/13800138000.mp3"), mtime) == "2023-01-02"  # a phone number


def test_rep_from_the_folder_or_a_pattern():
    assert rep_of(PurePosixPath("alice/2024/x.mp3"), None) == "alice"
    assert rep_of(PurePosixPath("x.mp3"), None) is None
    pattern = compile_rep_pattern(r"_(?P<rep>[a-z]+)\.\w+$")
    assert rep_of(PurePosixPath("2024/05/0506_bob.mp3"), pattern) == "bob"
    assert rep_of(PurePosixPath("2024/05/0506.mp3"), pattern) is None
    with pytest.raises(CallcoachError, match="named group 'rep'"):
        compile_rep_pattern(r"^([^/]+)/")
    with pytest.raises(CallcoachError, match="not a valid regular expression"):
        compile_rep_pattern(r"(?P<rep>")


def test_files_are_sniffed_by_content(tmp_path):
    recording = next(p for p in sorted(SAMPLES.iterdir()) if p.suffix in {".mp3", ".m4a", ".ogg", ".flac", ".wav"})
    renamed = tmp_path / "recording.bin"
    renamed.write_bytes(recording.read_bytes())
    kind, duration, _ = sniff(renamed)
    assert kind == "audio" and duration is not None and duration > 5
    transcript = tmp_path / "t.json"
    transcript.write_text(json.dumps({"turns": [{"speaker": "rep", "text": "hi"}]}), "utf-8")
    assert sniff(transcript)[0] == "transcript"
    cases = {
        "notes.txt": (b"meeting notes", "not a recording or a transcript"),
        "meta.json": (b'{"rep": "alice"}', "JSON without turns"),
        "cut.json": (b'{"turns": [', "not valid JSON"),
        "empty.txt": (b"", "empty file"),
        "report.json": (b'{"pipeline_version": "0.1.0", "meeting": {}, "turns": []}', "a callcoach report"),
        "transcript.txt": (b'{"turns": []}', "transcript not named *.json"),
    }
    for name, (content, reason) in cases.items():
        (tmp_path / name).write_bytes(content)
        assert sniff(tmp_path / name) == ("other", None, reason), name
    # named like a recording but undecodable: kept, so that it is reported as failed rather than ignored
    assert sniff(add_broken_recording(tmp_path / "broken.mp3"))[0] == "audio"
    (tmp_path / "empty.m4a").write_bytes(b"")
    assert sniff(tmp_path / "empty.m4a")[0] == "audio"


def test_discovery_one_call_per_content_and_not_its_own_outputs(tmp_path):
    archive = tmp_path / "archive"
    first, second = make_archive(archive, 2)
    (archive / "bob" / "copy_of_first.json").write_bytes(first.read_bytes())
    (archive / ".hidden.json").write_bytes(second.read_bytes())
    out = archive / "reports"  # reports inside the archive must not be analysed again
    (out / "alice").mkdir(parents=True)
    (out / "alice" / "x.json").write_text(json.dumps({"turns": [{"speaker": "rep", "text": "hi"}]}), "utf-8")
    with Store(archive / "calls.db") as store:
        found = discover(archive, store, out)
    assert [Path(c.source).name for c in found.calls] == [first.name, second.name]
    assert found.duplicates == [("bob/copy_of_first.json", f"alice/{first.name}")]
    assert found.not_calls == []
    call = found.calls[0]
    assert call.rep == "alice" and call.call_date == first.name[:10] and call.kind == "transcript"
    assert call.call_id == call.sha256[:16] and call.report_path == str((out / "alice" / first.stem).resolve())


def test_unchanged_files_are_not_hashed_again(tmp_path, monkeypatch):
    archive = tmp_path / "archive"
    paths = make_archive(archive, 4)
    hashed: list[Path] = []
    real = discovery.sha256_of
    monkeypatch.setattr(discovery, "sha256_of", lambda path: hashed.append(path) or real(path))
    with Store(tmp_path / "calls.db") as store:
        discover(archive, store, tmp_path / "out")
        assert len(hashed) == 4
        discover(archive, store, tmp_path / "out")
        assert len(hashed) == 4
        paths[0].write_text(paths[0].read_text("utf-8").replace("}", " }", 1), "utf-8")
        found = discover(archive, store, tmp_path / "out")
        assert len(hashed) == 5 and len(found.calls) == 4


def test_only_stale_temporary_files_are_removed(tmp_path):
    out = tmp_path / "out"
    (out / "alice").mkdir(parents=True)
    stale = out / "alice" / ".a.html.k1ll3d00.tmp"
    live = out / "alice" / ".b.json.w0rk1ng0.tmp"
    unrelated = out / "alice" / ".notes.tmp"
    for path in (stale, live, unrelated):
        path.write_text("partial")
    assert remove_stale_temp_files(out, {str(out / "alice" / "b")}) == 1
    assert not stale.exists() and live.exists() and unrelated.exists()


# ------------------------------------------------------------------------------------------ batch runs


def test_batch_is_incremental_and_a_broken_file_only_fails_itself(tmp_path):
    paths = make_archive(tmp_path / "archive", 9)
    broken = add_broken_recording(tmp_path / "archive" / "bob" / "2024-05-10_broken.mp3")
    (tmp_path / "archive" / "carol" / "notes.txt").write_text("call back Tuesday")

    first = run_batch(options(tmp_path), executor_factory=InlineCallExecutor)
    assert first.done == 9 and first.exit_code == 1
    [(source, error)] = first.failures
    assert source == "bob/2024-05-10_broken.mp3" and error.startswith(f"{broken.name}: cannot decode audio")
    assert "\n" not in error
    for path in paths:
        rel = path.relative_to(tmp_path / "archive")
        for suffix in (".json", ".md", ".html"):
            assert (tmp_path / "out" / rel.parent / (path.stem + suffix)).is_file()
    assert not (tmp_path / "out" / "bob" / "2024-05-10_broken.json").exists()
    assert temp_files(tmp_path / "out") == []
    summary = format_summary(first)
    assert "done       9" in summary and "1 × not a recording or a transcript: carol/notes.txt" in summary

    again = run_batch(options(tmp_path), executor_factory=InlineCallExecutor)
    assert (again.done, again.exit_code, dict(again.skipped)) == (0, 0, {"done": 9, "failed_before": 1})
    forced = run_batch(options(tmp_path, force=True, formats=("json",)), executor_factory=InlineCallExecutor)
    assert forced.done == 9 and len(forced.failures) == 1
    assert set(done_events(tmp_path / "calls.db").values()) == {2}  # once, then once more only because forced


class DyingWorkers:
    """An executor whose worker dies on every call: it claims the call as a process that is gone, and the
    call comes back "lost" (what ProcessPoolCallExecutor reports after BrokenProcessPool)."""

    def __init__(self, config, workers):
        self.config = config
        self.store = Store(config.db)

    def run(self, tasks):
        for task in tasks:
            process = subprocess.Popen([sys.executable, "-c", "pass"])
            process.wait()
            assert self.store.claim(task.call_id, Owner(process.pid, Owner.current().host, None), self.config.run_id)
            yield CallResult(task.call_id, "lost", "a worker process died")

    def close(self, cancel=False):
        self.store.close()


def test_a_file_that_kills_its_worker_fails_without_stopping_the_batch(tmp_path):
    make_archive(tmp_path / "archive", 2)
    summary = run_batch(options(tmp_path), executor_factory=DyingWorkers)
    assert summary.exit_code == 1 and len(summary.failures) == 2
    assert all("worker process died while analysing this file (2 times)" in error for _, error in summary.failures)
    with Store(tmp_path / "calls.db") as store:
        assert {(row.status, row.error_kind) for row in store.calls()} == {("failed", "crash")}


def test_batch_command_end_to_end(tmp_path):
    archive, out, db = tmp_path / "archive", tmp_path / "out", tmp_path / "calls.db"
    make_archive(archive, 8)
    add_broken_recording(archive / "bob" / "2024-05-10_broken.mp3")
    result = run_cli("batch", str(archive), "--db", str(db), "--out", str(out), "--workers", "2")
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert "done       8" in result.stdout and "bob/2024-05-10_broken.mp3: cannot decode audio" in result.stdout
    assert "2 worker(s)" in result.stdout and "peak memory per worker" in result.stdout
    assert len(list(out.rglob("*.html"))) == 8 and temp_files(out) == []

    listed = json.loads(run_cli("calls", "--db", str(db), "--format", "json").stdout)
    assert len(listed) == 9 and set(listed[0]) == {
        "call_id", "source", "sha256", "rep", "date", "status", "error",
        "meeting_pushed", "concrete", "downgraded", "distracted", "duration_s", "fingerprint",
    }
    failed = json.loads(run_cli("calls", "--db", str(db), "--status", "failed", "--format", "json").stdout)
    assert [row["source"].endswith("broken.mp3") for row in failed] == [True]
    bobs = json.loads(run_cli("calls", "--db", str(db), "--rep", "bob", "--format", "json").stdout)
    assert {row["rep"] for row in bobs} == {"bob"} and len(bobs) == 4
    table = run_cli("calls", "--db", str(db), "--status", "done")
    assert table.returncode == 0 and "meeting_pushed" in table.stdout and "broken" not in table.stdout

    # cron: nothing but the failures
    quiet = run_cli("batch", str(archive), "--db", str(db), "--out", str(out), "--workers", "1", "--quiet", "--retry-failed")
    assert quiet.returncode == 1 and quiet.stdout == ""
    assert quiet.stderr.strip().splitlines() == [quiet.stderr.strip()] and quiet.stderr.startswith("failed: bob/2024-05-10_broken.mp3")
    assert run_cli("batch", str(archive), "--db", str(db), "--out", str(out), "--quiet").returncode == 0


def test_two_runs_on_one_store_never_analyse_a_call_twice(tmp_path):
    """Two batch runs on one store at once: every call done exactly once. Whether they overlap depends on the
    machine's load; a pair that did not overlap proves nothing about sharing, so it is tried again (a pair that
    overlaps and analyses a call twice fails at once)."""
    for attempt in range(3):
        folder = tmp_path / f"attempt{attempt}"
        archive, db = folder / "archive", folder / "calls.db"
        paths = make_archive(archive, 300)  # enough work that the second run starts before the first is through
        command = [*CALLCOACH, "batch", str(archive), "--db", str(db), "--out", str(folder / "out"), "--workers", "2"]
        runs = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
        outputs = [run.communicate(timeout=300) for run in runs]
        assert [run.returncode for run in runs] == [0, 0], outputs
        counts = done_events(db)
        assert len(counts) == len(paths) and set(counts.values()) == {1}
        with Store(db) as store:
            done_by_run = [run["done"] for run in store.runs()]
            assert sum(done_by_run) == len(paths)
            assert {row.status for row in store.calls()} == {"done"}
        assert temp_files(folder / "out") == []
        if all(done_by_run):
            return
    pytest.fail(f"the two runs never overlapped in 3 tries (last: {done_by_run}): the sharing was not exercised")


def assert_one_line_error(result: subprocess.CompletedProcess, fragment: str) -> None:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and fragment in lines[0], result.stderr


def test_errors_are_one_line(tmp_path):
    archive = tmp_path / "archive"
    make_archive(archive, 1)
    out, db = str(tmp_path / "out"), str(tmp_path / "calls.db")
    blocker = tmp_path / "file.txt"
    blocker.write_text("x")
    assert_one_line_error(run_cli("batch", str(tmp_path / "missing"), "--db", db, "--out", out), "not found")
    assert_one_line_error(run_cli("batch", str(blocker), "--db", db, "--out", out), "is not a folder")
    assert_one_line_error(run_cli("batch", str(archive), "--db", str(blocker / "calls.db"), "--out", out), "cannot open store")
    assert_one_line_error(run_cli("batch", str(archive), "--db", db, "--out", str(blocker / "out")), "cannot create output folder")
    assert_one_line_error(run_cli("batch", str(archive), "--db", db, "--out", out, "--rep-pattern", "x"), "named group 'rep'")
    assert_one_line_error(run_cli("calls", "--db", str(tmp_path / "none.db")), "no store at")
    assert_one_line_error(run_cli("team", "--db", str(tmp_path / "none.db"), "--out", out), "no store at")
    # a model that cannot load stops the run before any recording is touched, and leaves it queued
    add_broken_recording(archive / "alice" / "x.mp3")
    assert_one_line_error(run_cli("batch", str(archive), "--db", db, "--out", out, "--model", "no-such-model"), "no-such-model")
    with Store(db) as store:
        assert store.runs()[-1]["status"] == "aborted"
        assert {row.status for row in store.calls() if row.kind == "audio"} == {"queued"}


# ------------------------------------------------------------------------------------ crash, real Whisper


def excerpt(source: Path, target: Path, start_s: float, end_s: float) -> Path:
    """Part of a bundled call as a FLAC file: a real recording, short enough for a quick test."""
    import soundfile as sf

    from pipeline.audio.decode import load_audio

    audio = load_audio(source)
    target.parent.mkdir(parents=True, exist_ok=True)
    rate = audio.sample_rate_hz
    sf.write(target, audio.pcm[:, int(start_s * rate) : int(end_s * rate)].T, rate, format="FLAC")
    return target


def _statuses(db: Path) -> dict[str, tuple[str, int | None]]:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as connection:
            rows = connection.execute("SELECT source, status, worker_pid FROM calls").fetchall()
    except sqlite3.OperationalError:
        return {}
    return {Path(source).name: (status, pid) for source, status, pid in rows}


def _pid_gone(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except OSError:
        return True


@pytest.mark.whisper
def test_kill_9_in_the_middle_then_rerun_finishes_every_call_once(tmp_path):
    archive, out, db = tmp_path / "archive", tmp_path / "out", tmp_path / "calls.db"
    transcripts = make_archive(archive, 3, reps=("alice",))
    # Processing order (one worker, discovery order): transcripts, recording A, recording B, the broken file.
    sample = SAMPLES / "zh_concrete_visit_accepted.mp3"
    a = excerpt(sample, archive / "alice" / "2024-05-27_visit_start.flac", 0, 20)
    b = excerpt(sample, archive / "bob" / "2024-05-28_visit_middle.flac", 20, 40)
    add_broken_recording(archive / "bob" / "2024-05-29_broken.mp3")
    command = [*CALLCOACH, "batch", str(archive), "--db", str(db), "--out", str(out), "--workers", "1", "--quiet"]

    run = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 150
    while True:  # wait until A is done and B is being transcribed
        statuses = _statuses(db)
        if statuses.get(a.name, ("",))[0] == "done" and statuses.get(b.name, ("",))[0] == "processing":
            break
        assert run.poll() is None, run.communicate()
        assert time.monotonic() < deadline, statuses
        time.sleep(0.1)
    worker_pid = statuses[b.name][1]
    os.kill(run.pid, signal.SIGKILL)
    run.wait()
    # the worker must die with the batch, not finish B behind the rerun's back
    deadline = time.monotonic() + 10
    while not _pid_gone(worker_pid):
        assert time.monotonic() < deadline, "worker outlived the killed batch"
        time.sleep(0.1)
    assert _statuses(db)[b.name][0] == "processing"
    (out / "bob").mkdir(parents=True, exist_ok=True)
    leftover = out / "bob" / f".{b.stem}.html.k1ll3d00.tmp"  # as if killed while writing
    leftover.write_text("<html><body>half a rep")

    rerun = subprocess.run(command[:-1], capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 1, rerun.stderr  # only the broken file failed
    assert "recovered  1 calls left by a crashed run, 1 stale temporary files removed" in rerun.stdout
    assert "done       1" in rerun.stdout  # B only: nothing finished before the kill is analysed again
    assert "bob/2024-05-29_broken.mp3: cannot decode audio" in rerun.stdout

    good = [*transcripts, a, b]
    with Store(db) as store:
        rows = {Path(row.source).name: row for row in store.calls()}
        assert {name: row.status for name, row in rows.items()} == {
            **{path.name: "done" for path in good}, "2024-05-29_broken.mp3": "failed"
        }
        assert "\n" not in rows["2024-05-29_broken.mp3"].error
        for path in good:
            events = [e.event for e in store.events(rows[path.name].call_id)]
            assert events.count("done") == 1, (path.name, events)
        assert [e.event for e in store.events(rows[b.name].call_id)] == ["queued", "claimed", "reclaimed", "claimed", "done"]
        report = json.loads(store.report_json(rows[b.name].call_id))
        assert report["transcription"]["model"] == "base" and report["language"] == "zh"
        assert report["duration_s"] == pytest.approx(20, abs=0.5) and report["turns"]
    assert temp_files(out) == []
    for path in good:
        for suffix in (".json", ".md", ".html"):
            assert (out / path.parent.name / (path.stem + suffix)).is_file()
    html = (out / "bob" / f"{b.stem}.html").read_text("utf-8")
    assert "data:audio/" in html  # the recording is embedded: the report plays offline


def test_since_limits_the_run_to_recent_calls(tmp_path):
    make_archive(tmp_path / "archive", 9)  # dated 2024-05-06 … 2024-05-26
    recent = run_batch(options(tmp_path, since=date(2024, 5, 16)), executor_factory=InlineCallExecutor)
    with Store(tmp_path / "calls.db", create=False) as store:
        dates = sorted(row.call_date for row in store.calls())
    assert recent.done == len(dates) and 0 < recent.done < 9
    assert all(day >= "2024-05-16" for day in dates)
    assert recent.skipped["before_since"] == 9 - recent.done
    result = run_cli("batch", str(tmp_path / "archive"), "--db", str(tmp_path / "calls.db"), "--out",
                     str(tmp_path / "out"), "--since", "2024-05-01", "--workers", "1", "--quiet")
    assert result.returncode == 0, result.stderr
    with Store(tmp_path / "calls.db", create=False) as store:
        assert len(store.calls()) == 9


class _CapturingExecutor:
    """Records the worker configuration the batch hands its executor, and runs nothing."""

    configs: list = []

    def __init__(self, config, workers):
        _CapturingExecutor.configs.append(config)

    def run(self, tasks):
        return iter(())

    def close(self, cancel=False):
        pass


def test_every_analysis_option_reaches_the_workers(tmp_path):
    """Workers get the run's options with only the thread count changed (mono mixing and the
    diarisation method were dropped when the options were rebuilt field by field)."""
    from pipeline.audio.asr import AsrSettings
    from pipeline.options import AnalyzeOptions

    make_archive(tmp_path / "archive", 1)
    wanted = AnalyzeOptions(language="zh", rep_channel="right", asr=AsrSettings(beam_size=3), mix_to_mono=True,
                            diarisation="embedding")
    _CapturingExecutor.configs.clear()
    run_batch(options(tmp_path, analyze=wanted), executor_factory=_CapturingExecutor)
    (config,) = _CapturingExecutor.configs
    assert config.options == wanted.with_cpu_threads(config.options.asr.cpu_threads)
    assert config.options.asr.cpu_threads >= 1


def test_the_web_worker_gets_every_analysis_option(tmp_path):
    from pipeline.options import AnalyzeOptions
    from pipeline.web.config import WebConfig
    from pipeline.web.queue import worker_config

    wanted = AnalyzeOptions(language="en", mix_to_mono=True, diarisation="embedding")
    config = worker_config(WebConfig(db=tmp_path / "calls.db", data_dir=tmp_path / "web", analyze=wanted), run_id=1)
    assert config.options == wanted.with_cpu_threads(config.options.asr.cpu_threads)


def test_a_changed_analysis_re_analyses_calls_done_by_the_same_version(tmp_path):
    """The package version alone does not say what produced a report: another analysis setting (here the
    forced language; equally a pattern edit, a refit or other decoding settings) makes old reports stale."""
    from pipeline.options import AnalyzeOptions

    make_archive(tmp_path / "archive", 3)
    assert run_batch(options(tmp_path), executor_factory=InlineCallExecutor).done == 3
    assert run_batch(options(tmp_path), executor_factory=InlineCallExecutor).skipped["done"] == 3
    changed = run_batch(options(tmp_path, analyze=AnalyzeOptions(language="zh")), executor_factory=InlineCallExecutor)
    assert changed.done == 3
    listed = run_cli("calls", "--db", str(tmp_path / "calls.db"), "--format", "json")
    assert listed.returncode == 0, listed.stderr
    assert {len(call["fingerprint"] or "") for call in json.loads(listed.stdout)} == {16}
