"""The real server: `callcoach serve` in a subprocess, its worker process running real Whisper on bundled
samples, killed with SIGKILL while it works and started again: every upload still ends done, once."""

from __future__ import annotations

import httpx
import pytest

from pipeline.store import Store
from tests.conftest import SAMPLES
from tests.web_helpers import Server, add_users, pid_gone, sign_in, wait_for

pytestmark = pytest.mark.whisper
UPLOADS = [SAMPLES / "en_dist_kids_adapts.mp3", SAMPLES / "en_video_call.mp3"]  # two of the shortest (37 s, 43 s)


def statuses(db) -> dict[str, tuple[str, int | None]]:
    with Store(db) as store:
        return {row.call_id: (row.status, row.worker_pid) for row in store.calls()}


def test_a_killed_server_resumes_its_queued_uploads_after_a_restart(tmp_path):
    db, data = tmp_path / "calls.db", tmp_path / "web"
    with Store(db) as store:
        add_users(store)
    server = Server(db, data, tmp_path / "server.log").start()
    try:
        with httpx.Client(base_url=server.url, follow_redirects=True, timeout=30) as client:
            csrf = sign_in(client, "alice")
            call_ids = []
            for sample in UPLOADS:
                response = client.post("/uploads", content=sample.read_bytes(),
                                       headers={"X-CSRF-Token": csrf, "X-Filename": sample.name})
                assert response.status_code == 201, response.text
                call_ids.append(response.json()["call_id"])
        # Kill the server while the worker is analysing the first upload (the second still waits in the queue).
        # Polled often: the claim covers loading Whisper and transcribing (seconds even on a fast machine).
        first = wait_for(lambda: statuses(db).get(call_ids[0], ("", None))[0] == "processing" and statuses(db)[call_ids[0]],
                         120, "the worker to claim the first upload", interval_s=0.05)
        worker_pid = first[1]
        server.kill()
        wait_for(lambda: pid_gone(worker_pid), 30, "the worker process to die with the server")
        before = statuses(db)
        assert before[call_ids[0]][0] == "processing" and before[call_ids[1]][0] == "queued"
    finally:
        server.stop()

    restarted = Server(db, data, tmp_path / "server2.log").start()
    try:
        wait_for(lambda: all(statuses(db)[c][0] in ("done", "failed") for c in call_ids), 400, "both uploads to finish")
        with httpx.Client(base_url=restarted.url, follow_redirects=True, timeout=30) as client:
            sign_in(client, "alice")
            listed = {c["call_id"]: c for c in client.get("/api/calls").json()["calls"]}
            report = client.get(f"/calls/{call_ids[0]}/report")
            audio = client.get(f"/calls/{call_ids[0]}/audio", headers={"Range": "bytes=1000-1999"})
    finally:
        restarted.stop()
    assert [listed[c]["status"] for c in call_ids] == ["done", "done"], listed
    assert listed[call_ids[0]]["name"] == UPLOADS[0].name
    assert report.status_code == 200 and f"/calls/{call_ids[0]}/audio" in report.text and "<audio" in report.text
    assert audio.status_code == 206 and len(audio.content) == 1000  # the player can seek
    with Store(db) as store:
        events = [(e.call_id, e.event) for e in store.events()]
        runs = store.runs()
        rows = {c: store.call(c) for c in call_ids}
    assert (call_ids[0], "reclaimed") in events  # given back by the restarted server, not by hand
    assert [e for c, e in events if c == call_ids[0]].count("done") == 1
    assert [e for c, e in events if c == call_ids[1]].count("done") == 1
    assert all(run["archive"] == "web uploads" for run in runs) and len(runs) == 2
    for row in rows.values():
        assert row.model == "base" and row.report_file("json").is_file() and row.report_file("html").is_file()
    reports = data / "reports"
    assert not [p for p in reports.iterdir() if p.name.endswith(".tmp")]
    assert not list((data / "uploads" / ".incoming").glob("*"))
