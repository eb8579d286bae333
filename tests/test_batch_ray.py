"""The nightly batch on a real Ray cluster (started here on 127.0.0.1): recordings sent through the object
store, a corrupt file failing alone, a Ray worker process SIGKILLed mid-call, the driver SIGKILLed and rerun,
a cluster that cannot be reached. Skipped without Ray (``pip install '.[ray]'``) unless CI asks for it."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from pipeline.store import Store

from .conftest import SAMPLES
from .test_batch import (
    CALLCOACH,
    _pid_gone,
    _statuses,
    add_broken_recording,
    excerpt,
    make_archive,
    run_cli,
    temp_files,
)

pytestmark = pytest.mark.whisper
# The test cluster listens on this machine only: no token to share between its processes.
RAY_ENV = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", "RAY_AUTH_MODE": "disabled"}


def _ray_bin() -> str:
    try:
        import ray  # noqa: F401
    except ImportError:
        if os.environ.get("CALLCOACH_REQUIRE_RAY"):
            raise
        pytest.skip("Ray is not installed (pip install '.[ray]')")
    return str(Path(sys.executable).with_name("ray"))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def ray_cluster():
    """A one-node Ray cluster with 2 CPUs, as `ray start --head` would run on a head node."""
    ray = _ray_bin()
    port = _free_port()
    temp = tempfile.mkdtemp(prefix="ray-")  # short: Ray's socket paths must stay under 107 characters
    started = subprocess.run(
        [ray, "start", "--head", f"--port={port}", "--node-ip-address=127.0.0.1", "--num-cpus=2",
         "--include-dashboard=false", "--disable-usage-stats", f"--temp-dir={temp}"],
        capture_output=True, text=True, timeout=120, env=RAY_ENV)
    assert started.returncode == 0, started.stderr[-2000:]
    try:
        yield f"127.0.0.1:{port}"
    finally:
        subprocess.run([ray, "stop", "--force"], capture_output=True, timeout=120, env=RAY_ENV)
        shutil.rmtree(temp, ignore_errors=True)


def _archive(root: Path) -> tuple[list[Path], Path]:
    """Two transcripts, two short real recordings, one corrupt file."""
    transcripts = make_archive(root, 2, reps=("alice",))
    sample = SAMPLES / "zh_concrete_visit_accepted.mp3"
    recordings = [excerpt(sample, root / "alice" / "2024-05-27_visit_start.flac", 0, 20),
                  excerpt(sample, root / "bob" / "2024-05-28_visit_middle.flac", 20, 40)]
    broken = add_broken_recording(root / "bob" / "2024-05-29_broken.mp3")
    return [*transcripts, *recordings], broken


def _command(archive: Path, db: Path, out: Path, address: str, workers: int = 1) -> list[str]:
    return [*CALLCOACH, "batch", str(archive), "--db", str(db), "--out", str(out), "--executor", "ray",
            "--ray-address", address, "--workers", str(workers), "--quiet"]


def _actor_pids(busy: bool = False) -> list[int]:
    """Processes of the actors that analyse calls: Ray titles them ray::CallAnalyst, and
    ray::CallAnalyst.analyse while they run that method (``busy``)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            title = (entry / "cmdline").read_bytes().split(b"\0")[0]
        except OSError:
            continue
        wanted = title == b"ray::CallAnalyst.analyse" if busy else title.startswith(b"ray::CallAnalyst")
        if wanted and not _pid_gone(int(entry.name)):
            pids.append(int(entry.name))
    return pids


def _wait_for(condition, what: str, timeout_s: float = 180):
    deadline = time.monotonic() + timeout_s
    while not (value := condition()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)
    return value


def _assert_every_good_call_done_once(db: Path, out: Path, good: list[Path], broken: Path) -> dict:
    with Store(db, create=False) as store:
        rows = {Path(row.source).name: row for row in store.calls()}
        assert {name: row.status for name, row in rows.items()} == {
            **{path.name: "done" for path in good}, broken.name: "failed"}
        for path in good:
            events = [e.event for e in store.events(rows[path.name].call_id)]
            assert events.count("done") == 1, (path.name, events)
    assert temp_files(out) == []
    for path in good:
        for suffix in (".json", ".md", ".html"):
            assert (out / path.parent.name / (path.stem + suffix)).is_file()
    return rows


def test_a_batch_on_ray_writes_every_report_and_fails_only_the_corrupt_file(tmp_path, ray_cluster):
    archive, db, out = tmp_path / "archive", tmp_path / "calls.db", tmp_path / "out"
    good, broken = _archive(archive)
    result = subprocess.run(_command(archive, db, out, ray_cluster, workers=2)[:-1], capture_output=True,
                            text=True, timeout=600, env=RAY_ENV)
    assert result.returncode == 1, result.stderr[-3000:]  # one failure
    assert "bob/2024-05-29_broken.mp3: " in result.stdout and "cannot decode audio" in result.stdout
    assert "done       4" in result.stdout
    rows = _assert_every_good_call_done_once(db, out, good, broken)
    assert "\n" not in rows[broken.name].error
    html = (out / "bob" / "2024-05-28_visit_middle.html").read_text("utf-8")
    assert "data:audio/" in html  # the driver embedded the recording it sent
    report = (out / "bob" / "2024-05-28_visit_middle.json").read_text("utf-8")
    assert str(archive / "bob" / "2024-05-28_visit_middle.flac") in report  # the archive's path, not the actor's copy


@pytest.mark.parametrize("kills", [1, 2])
def test_a_ray_worker_killed_mid_call(tmp_path, ray_cluster, kills):
    """Killed once, the call is analysed again and done exactly once; killed twice on the same file, that
    file is marked failed with the reason and the rest of the batch goes on."""
    archive, db, out = tmp_path / "archive", tmp_path / "calls.db", tmp_path / "out"
    good, broken = _archive(archive)
    victim = good[2]  # the first recording: transcripts are analysed first
    run = subprocess.Popen(_command(archive, db, out, ray_cluster), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, env=RAY_ENV)
    killed: list[int] = []
    for _ in range(kills):
        _wait_for(lambda: _statuses(db).get(victim.name, ("",))[0] == "processing", "the recording's claim")
        pid = _wait_for(lambda: [p for p in _actor_pids(busy=True) if p not in killed], "an actor at work")[0]
        time.sleep(1.0)  # mid-call
        assert _statuses(db)[victim.name][0] == "processing"
        os.kill(pid, signal.SIGKILL)
        killed.append(pid)
    stdout, stderr = run.communicate(timeout=600)
    assert run.returncode == 1, stderr[-3000:]  # the corrupt file (and, killed twice, the victim) failed
    if kills == 1:
        _assert_every_good_call_done_once(db, out, good, broken)
        with Store(db, create=False) as store:
            row = next(r for r in store.calls() if Path(r.source).name == victim.name)
            events = [e.event for e in store.events(row.call_id)]
            assert events.count("crashed") == 1 and events.count("claimed") == 1, events  # the claim was kept
    else:
        with Store(db, create=False) as store:
            row = next(r for r in store.calls() if Path(r.source).name == victim.name)
            assert row.status == "failed" and row.error_kind == "crash"
            assert "died while analysing this file (2 times)" in row.error
            assert sum(r.status == "done" for r in store.calls()) == len(good) - 1
        assert f"{victim.name}: the worker process died" in stderr


def test_the_driver_killed_mid_call_then_rerun_finishes_every_call_once(tmp_path, ray_cluster):
    archive, db, out = tmp_path / "archive", tmp_path / "calls.db", tmp_path / "out"
    good, broken = _archive(archive)
    victim = good[2]
    command = _command(archive, db, out, ray_cluster)
    run = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=RAY_ENV)
    _wait_for(lambda: _statuses(db).get(victim.name, ("",))[0] == "processing", "the recording's claim")
    _wait_for(lambda: _actor_pids(busy=True), "an actor at work")
    time.sleep(1.0)
    os.kill(run.pid, signal.SIGKILL)
    run.wait()
    assert _statuses(db)[victim.name][0] == "processing"  # the dead driver's claim
    # Ray takes the job's actors down with their driver: none may finish the call behind the rerun's back.
    _wait_for(lambda: not _actor_pids(), "the dead driver's actors to stop", timeout_s=60)

    rerun = subprocess.run(command[:-1], capture_output=True, text=True, timeout=600, env=RAY_ENV)
    assert rerun.returncode == 1, rerun.stderr[-3000:]
    assert "recovered  1 calls left by a crashed run" in rerun.stdout
    rows = _assert_every_good_call_done_once(db, out, good, broken)
    with Store(db, create=False) as store:
        assert [e.event for e in store.events(rows[victim.name].call_id)] == [
            "queued", "claimed", "reclaimed", "claimed", "done"]


def test_a_cluster_that_cannot_be_reached_is_one_line_and_exit_2(tmp_path):
    _ray_bin()
    archive = tmp_path / "archive"
    make_archive(archive, 1)
    result = run_cli("batch", str(archive), "--db", str(tmp_path / "calls.db"), "--executor", "ray",
                     "--ray-address", f"127.0.0.1:{_free_port()}")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "cannot reach the Ray cluster at 127.0.0.1:" in lines[0], result.stderr
    assert "Traceback" not in result.stderr


def test_the_ray_driver_keeps_the_transcription_cache(tmp_path, ray_cluster):
    """Actors get what the driver's cache holds and send back what Whisper wrote, so no node needs the folder."""
    import json

    from .test_asr_cache import tamper

    archive, db, out = tmp_path / "archive", tmp_path / "calls.db", tmp_path / "out"
    excerpt(SAMPLES / "zh_concrete_visit_accepted.mp3", archive / "alice" / "2024-05-27_visit.flac", 0, 20)
    first = subprocess.run(_command(archive, db, out, ray_cluster), capture_output=True, text=True, timeout=600,
                           env=RAY_ENV)
    assert first.returncode == 0, first.stderr[-3000:]
    assert tamper(tmp_path / "calls.asr-cache", "缓存里的话") == 1  # the driver stored the actor's transcription
    again = subprocess.run([*_command(archive, db, out, ray_cluster), "--force"], capture_output=True, text=True,
                           timeout=600, env=RAY_ENV)
    assert again.returncode == 0, again.stderr[-3000:]
    report = json.loads((out / "alice" / "2024-05-27_visit.json").read_text("utf-8"))
    assert "缓存里的话" in " ".join(turn["text"] for turn in report["turns"])
