"""The SQLite store: schema and migrations, the queue's decisions, claiming (also across processes),
taking back the claims of dead processes, and one-line errors."""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipeline import __version__
from pipeline.errors import CallcoachError
from pipeline.store import CRASHES_BEFORE_FAILED, SCHEMA_VERSION, DiscoveredCall, Owner, Store, report_metrics

# The v1 schema exactly as callcoach 0.1's first store wrote it. Frozen here on purpose: the migration test
# must start from the old layout, not from whatever MIGRATIONS[0] says today.
V1_SCHEMA = """
CREATE TABLE calls (
    call_id          TEXT PRIMARY KEY,
    sha256           TEXT NOT NULL UNIQUE,
    source           TEXT NOT NULL,
    rep              TEXT,
    call_date        TEXT,
    status           TEXT NOT NULL CHECK (status IN ('queued', 'processing', 'done', 'failed')),
    error            TEXT,
    worker_pid       INTEGER,
    claimed_at       REAL,
    pipeline_version TEXT,
    model            TEXT,
    duration_s       REAL,
    meeting_pushed   INTEGER,
    concrete         INTEGER,
    downgraded       INTEGER,
    distracted       INTEGER,
    report_json      TEXT,
    report_path      TEXT,
    updated_at       REAL NOT NULL
);
CREATE INDEX calls_status ON calls (status);
PRAGMA user_version = 1;
"""

TRANSCRIPT = {
    "language": "zh",
    "turns": [
        {"speaker": "rep", "text": "王总您好，我是华工机械的小李，现在说话方便吗？"},
        {"speaker": "customer", "text": "方便，你说。"},
        {"speaker": "rep", "text": "周四下午两点我去您厂里当面给您演示一下，您看行吗？"},
        {"speaker": "customer", "text": "行，周四见。"},
    ],
}

FINGERPRINTS = {"audio": "a" * 16, "transcript": "t" * 16}  # the analysis a run would do, by call kind


@pytest.fixture(scope="module")
def report():
    from pipeline.analyze import Analyzer
    from pipeline.transcript import transcript_from_dict

    return Analyzer().analyze_transcript(transcript_from_dict(TRANSCRIPT), source="call.json")


def discovered(n: int, kind: str = "transcript", out: str = "/out") -> DiscoveredCall:
    sha = f"{n:016x}" * 4
    return DiscoveredCall(
        call_id=sha[:16], sha256=sha, source=f"/archive/rep{n % 3}/call{n}.json", kind=kind,  # type: ignore[arg-type]
        rep=f"rep{n % 3}", call_date="2024-05-06", duration_s=None, report_path=f"{out}/rep{n % 3}/call{n}",
    )


def dead_owner() -> Owner:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return Owner(process.pid, Owner.current().host, None)


def columns(db: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in db.execute(f"PRAGMA table_info({table})")}


def test_fresh_store_is_current_and_in_wal_mode(tmp_path):
    with Store(tmp_path / "nested" / "calls.db") as store:
        assert store.schema_version == SCHEMA_VERSION
        assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        tables = {row[0] for row in store.db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert {"calls", "runs", "events", "files"} <= tables


def test_v1_store_is_upgraded_and_keeps_its_data(tmp_path, report):
    path = tmp_path / "old.db"
    old = sqlite3.connect(path)
    old.executescript(V1_SCHEMA)
    old.execute(
        "INSERT INTO calls (call_id, sha256, source, rep, call_date, status, pipeline_version, model, duration_s, "
        "meeting_pushed, concrete, downgraded, distracted, report_json, report_path, updated_at) "
        "VALUES ('aaaa', 'aaaa0', '/a/alice/x.json', 'alice', '2024-05-06', 'done', '0.0.9', 'base', NULL, 1, 1, 0, 0, ?, "
        "'/out/alice/x', 1.0)",
        (report.model_dump_json(),),
    )
    old.execute(
        "INSERT INTO calls (call_id, sha256, source, rep, status, error, updated_at) "
        "VALUES ('bbbb', 'bbbb0', '/a/bob/y.mp3', 'bob', 'failed', 'y.mp3: cannot decode audio', 2.0)"
    )
    old.commit()
    old.close()

    with Store(path) as store:
        assert store.schema_version == SCHEMA_VERSION
        done, failed = store.call("aaaa"), store.call("bbbb")
        assert done is not None and failed is not None
        assert (done.status, done.rep, done.call_date, done.report_path) == ("done", "alice", "2024-05-06", "/out/alice/x")
        assert done.meeting_pushed is True and done.concrete is True
        # v2 columns derived from the stored report
        assert done.kind == "transcript" and done.language == "zh" and done.outcome == "accepted"
        assert done.score == report_metrics(report)["score"] and done.formats == "json,md,html"
        assert store.report("aaaa") == report
        assert (failed.status, failed.error, failed.crashes) == ("failed", "y.mp3: cannot decode audio", 0)
        # an upgraded store has the same layout as a new one
        with Store(tmp_path / "new.db") as fresh:
            for table in ("calls", "runs", "events", "files"):
                assert columns(store.db, table) == columns(fresh.db, table)


def test_store_from_a_newer_callcoach_is_refused(tmp_path):
    path = tmp_path / "future.db"
    with Store(path):
        pass
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()
    with pytest.raises(CallcoachError, match="newer than this callcoach"):
        Store(path)


def test_unusable_paths_are_one_line_errors(tmp_path):
    blocker = tmp_path / "file.txt"
    blocker.write_text("x")
    with pytest.raises(CallcoachError, match="cannot open store") as error:
        Store(blocker / "calls.db")
    assert "\n" not in str(error.value)
    with pytest.raises(CallcoachError, match="no store at"):
        Store(tmp_path / "missing.db", create=False)
    not_sqlite = tmp_path / "notes.db"
    not_sqlite.write_text("this is not a database " * 100)
    with pytest.raises(CallcoachError, match="cannot use store"):
        Store(not_sqlite)


def test_queue_decisions(tmp_path, report):
    me = Owner.current()
    done_as = {kind: report.model_copy(update={"analysis_fingerprint": fp}) for kind, fp in FINGERPRINTS.items()}
    with Store(tmp_path / "q.db") as store:
        transcript, audio, broken, io_failure = discovered(1), discovered(2, "audio"), discovered(3, "audio"), discovered(4)
        calls = [transcript, audio, broken, io_failure]
        decisions = store.enqueue(calls, FINGERPRINTS)
        assert {d for d, _ in decisions.values()} == {"queued"}
        for call in calls:
            assert store.claim(call.call_id, me)
        store.mark_done(transcript.call_id, me, done_as["transcript"], None, "json")
        store.mark_done(audio.call_id, me, done_as["audio"], "base", "json")
        store.mark_failed(broken.call_id, me, "x.mp3: cannot decode audio", "input", __version__, "base", FINGERPRINTS["audio"])
        store.mark_failed(io_failure.call_id, me, "x.json: cannot write report (disk full)", "io", __version__, None,
                          FINGERPRINTS["transcript"])
        assert store.call(audio.call_id).fingerprint == FINGERPRINTS["audio"]

        def decide(fingerprints: dict[str, str] | None = None, **kwargs) -> dict[str, str]:
            return {cid: d for cid, (d, _) in store.enqueue(calls, {**FINGERPRINTS, **(fingerprints or {})}, **kwargs).items()}

        # io failures are retried at once; a broken input is not, unless asked
        assert decide() == {transcript.call_id: "done", audio.call_id: "done", broken.call_id: "failed_before",
                            io_failure.call_id: "queued"}
        assert store.claim(io_failure.call_id, me) and store.mark_done(io_failure.call_id, me, done_as["transcript"], None, "json")
        # another Whisper model or decoding: recordings again; transcripts are not transcribed, they stay done
        other_audio = {"audio": "b" * 16}
        assert decide(other_audio) == {transcript.call_id: "done", audio.call_id: "queued", broken.call_id: "queued",
                                       io_failure.call_id: "done"}
        for call in (audio, broken):
            assert store.claim(call.call_id, me)
        store.mark_done(audio.call_id, me, done_as["audio"], "base", "json")
        store.mark_failed(broken.call_id, me, "x.mp3: cannot decode audio", "input", __version__, "base", FINGERPRINTS["audio"])
        assert decide(retry_failed=True)[broken.call_id] == "queued"
        assert store.claim(broken.call_id, me)
        store.mark_failed(broken.call_id, me, "x.mp3: cannot decode audio", "input", __version__, "base", FINGERPRINTS["audio"])
        # another analysis of everything (patterns, fitted models, version), or --force: everything again
        assert set(decide({"audio": "c" * 16, "transcript": "d" * 16}).values()) == {"queued"}
        assert set(decide(force=True).values()) == {"queued"}


def test_force_does_not_touch_a_call_in_progress(tmp_path):
    with Store(tmp_path / "q.db") as store:
        call = discovered(1)
        store.enqueue([call], FINGERPRINTS)
        assert store.claim(call.call_id, Owner.current())
        decisions = store.enqueue([call], FINGERPRINTS, force=True)
        assert decisions[call.call_id][0] == "in_progress"
        assert store.call(call.call_id).status == "processing"


def test_a_call_is_claimed_once_and_finished_only_by_its_owner(tmp_path, report):
    me, other = Owner.current(), Owner(os.getppid(), Owner.current().host, None)
    with Store(tmp_path / "q.db") as store:
        call = discovered(1)
        store.enqueue([call], FINGERPRINTS)
        assert store.claim(call.call_id, me, report_path="/elsewhere/out/call1")  # a run with another --out
        assert store.call(call.call_id).report_path == "/elsewhere/out/call1"
        assert not store.claim(call.call_id, other)
        assert not store.mark_done(call.call_id, other, report, None, "json")
        assert store.mark_done(call.call_id, me, report, None, "json")
        assert not store.claim(call.call_id, other)
        assert [e.event for e in store.events(call.call_id)] == ["queued", "claimed", "done"]


def _claim_all(db: str, call_ids: list[str], start, queue) -> None:
    store = Store(db)
    start.wait()  # a barrier: everybody has its store open, go
    owner = Owner.current()
    won = []
    for call_id in call_ids:
        if store.claim(call_id, owner):
            won.append(call_id)
        time.sleep(0.002)  # a worker does something between claims; lets the others at the lock
    queue.put(won)


def test_processes_racing_for_the_same_calls_claim_each_once(tmp_path):
    db = str(tmp_path / "race.db")
    calls = [discovered(n) for n in range(300)]
    with Store(db) as store:
        store.enqueue(calls, FINGERPRINTS)
    ids = [call.call_id for call in calls]
    context = mp.get_context("spawn")
    # each process walks the calls in its own order, so they collide all the time
    orders = [ids, ids[::-1], ids[::2] + ids[1::2], ids[150:] + ids[:150]]
    start, queue = context.Barrier(len(orders)), context.Queue()
    processes = [context.Process(target=_claim_all, args=(db, order, start, queue)) for order in orders]
    for process in processes:
        process.start()
    claimed = [queue.get(timeout=120) for _ in processes]
    for process in processes:
        process.join(timeout=30)
    everything = [call_id for part in claimed for call_id in part]
    assert sorted(everything) == sorted(ids)  # every call claimed, none twice
    assert sum(1 for part in claimed if part) >= 2  # the processes really competed


def _open_at_once(db: str, start, queue) -> None:
    start.wait()
    try:
        Store(db).close()
        queue.put("ok")
    except CallcoachError as error:
        queue.put(str(error))


def test_processes_opening_a_new_store_at_once_all_get_it(tmp_path):
    """Two batch runs started together on a store that does not exist yet: switching the new file to WAL answers
    "database is locked" at once (SQLite does not wait there), which used to fail one run with exit 2."""
    context = mp.get_context("fork")  # already imported: the processes reach the file within microseconds
    for round_ in range(15):
        db = str(tmp_path / f"new{round_}.db")
        start, queue = context.Barrier(4), context.Queue()
        processes = [context.Process(target=_open_at_once, args=(db, start, queue)) for _ in range(4)]
        for process in processes:
            process.start()
        outcomes = [queue.get(timeout=120) for _ in processes]
        for process in processes:
            process.join(timeout=30)
        assert outcomes == ["ok"] * 4, outcomes


def test_claims_of_dead_processes_are_taken_back(tmp_path):
    host = Owner.current().host
    with Store(tmp_path / "q.db") as store:
        calls = [discovered(n) for n in range(4)]
        store.enqueue(calls, FINGERPRINTS)
        live, dead = Owner.current(), dead_owner()
        reused_pid = Owner(os.getpid(), host, "1")  # our pid, but a different process start: the owner died
        other_host_live = Owner(12345, "another-host", None)
        assert store.claim(calls[0].call_id, live)
        assert store.claim(calls[1].call_id, dead)
        assert store.claim(calls[2].call_id, reused_pid)
        assert store.claim(calls[3].call_id, other_host_live, lease_s=3600)
        reclaimed = {row.call_id for row in store.reclaim_stale()}
        assert reclaimed == {calls[1].call_id, calls[2].call_id}
        assert [store.call(c.call_id).status for c in calls] == ["processing", "queued", "queued", "processing"]
        assert store.call(calls[1].call_id).worker_pid is None
        assert store.live_report_paths() == {calls[0].report_path, calls[3].report_path}


def test_a_file_that_keeps_killing_workers_ends_up_failed(tmp_path):
    with Store(tmp_path / "q.db") as store:
        run_id = store.start_run("/archive", "/out", 1, __version__, "base")
        call = discovered(1)
        store.enqueue([call], FINGERPRINTS, run_id=run_id)
        for _ in range(CRASHES_BEFORE_FAILED):
            assert store.call(call.call_id).status == "queued"
            assert store.claim(call.call_id, dead_owner(), run_id)
            store.reclaim_stale(crashed_run=run_id)
        row = store.call(call.call_id)
        assert row.status == "failed" and row.error_kind == "crash"
        assert "worker process died" in row.error and "\n" not in row.error


def test_report_paths_are_unique_per_call(tmp_path, report):
    with Store(tmp_path / "q.db") as store:
        first, second = discovered(1), discovered(2)
        second = DiscoveredCall(**{**second.__dict__, "report_path": first.report_path})
        decisions = store.enqueue([first, second], FINGERPRINTS)
        assert decisions[first.call_id][1] == first.report_path
        assert decisions[second.call_id][1] == f"{first.report_path}-{second.call_id[:8]}"
        # a failed call wrote nothing: a later good copy may take its name
        me = Owner.current()
        assert store.claim(first.call_id, me)
        store.mark_failed(first.call_id, me, "bad", "input", __version__, None)
        third = DiscoveredCall(**{**discovered(3).__dict__, "report_path": first.report_path})
        assert store.enqueue([third], FINGERPRINTS)[third.call_id][1] == first.report_path


def test_runs_and_listing(tmp_path, report):
    with Store(tmp_path / "q.db") as store:
        run_id = store.start_run("/archive", "/out", 2, __version__, "base")
        calls = [discovered(n) for n in range(6)]
        store.enqueue(calls, FINGERPRINTS, run_id=run_id)
        me = Owner.current()
        for call in calls[:4]:
            store.claim(call.call_id, me, run_id)
            store.mark_done(call.call_id, me, report, None, "json,html")
        store.finish_run(run_id, "finished", done=4, skipped=0, failed=0, discovered=6, audio_s=0.0, wall_s=1.5)
        assert store.runs()[0]["done"] == 4 and store.runs()[0]["status"] == "finished"
        assert len(store.calls(status="done")) == 4 and len(store.calls(status="queued")) == 2
        assert {row.rep for row in store.calls(rep="rep1")} == {"rep1"}
        row = store.calls(status="done")[0]
        assert row.report_file("html") == Path(f"{row.report_path}.html") and row.report_file("md") is None
        json.dumps(row.as_dict())  # plain values, ready for a web API


def test_a_heartbeat_keeps_a_live_claim_on_another_host_from_being_taken(tmp_path):
    """A run on another host cannot see our process: only a renewed lease tells it the claim is live."""
    from pipeline.jobs.heartbeat import LeaseKeeper

    db = tmp_path / "q.db"
    remote = Owner(4242, "another-host", None)  # as a driver on another machine would hold the claim
    with Store(db) as store:
        calls = [discovered(n) for n in range(2)]
        store.enqueue(calls, FINGERPRINTS)
        assert store.claim(calls[0].call_id, remote, lease_s=2.0)
        assert store.claim(calls[1].call_id, remote, lease_s=2.0)
        keeper = LeaseKeeper(str(db), remote, lease_s=2.0)
        keeper.hold(calls[0].call_id)  # only the first is still being analysed
        try:
            time.sleep(4.0)  # twice the lease: renewed every 2/3 s since
            reclaimed = [row.call_id for row in store.reclaim_stale()]
        finally:
            keeper.close()
        assert reclaimed == [calls[1].call_id]
        assert store.call(calls[0].call_id).status == "processing"
        assert store.renew([calls[0].call_id, calls[1].call_id], remote) == 1  # the lost claim stays lost


def test_a_crash_counted_by_a_driver_keeps_its_claim(tmp_path):
    driver = Owner.current()
    with Store(tmp_path / "q.db") as store:
        call = discovered(1)
        store.enqueue([call], FINGERPRINTS)
        assert store.claim(call.call_id, driver)
        assert store.count_crash(call.call_id, driver) == 1
        assert store.count_crash(call.call_id, Owner(1, "elsewhere", None)) == 1  # not the holder: not counted
        row = store.call(call.call_id)
        assert row.status == "processing" and row.crashes == 1
