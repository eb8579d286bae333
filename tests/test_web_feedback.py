"""Coaches' judgements: stored per coach and finding, exported as labeled calls, read by `callcoach eval`;
and the `callcoach users` / `callcoach feedback` commands."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from pipeline.cli import app as cli_app
from pipeline.store import Store
from pipeline.store import feedback as fb
from pipeline.web.app import create_app
from pipeline.web.config import WebConfig
from tests.web_helpers import CONCRETE_PUSH, add_done_call, add_users, sign_in

runner = CliRunner()


@pytest.fixture(scope="module")
def text_analyzer():
    from pipeline.analyze import Analyzer

    return Analyzer()


@pytest.fixture
def judged(tmp_path, text_analyzer):
    db = tmp_path / "calls.db"
    with Store(db) as store:
        add_users(store)
        call_id = add_done_call(store, text_analyzer, CONCRETE_PUSH, "alice", tmp_path / "reports", source="alice-1.json",
                                uploader="alice", label="Hadley Thursday.mp3")
        other = add_done_call(store, text_analyzer, CONCRETE_PUSH, "bob", tmp_path / "reports", source="bob-1.json")
    config = WebConfig(db=db, data_dir=tmp_path / "web", start_worker=False)
    return {"db": db, "call_id": call_id, "other": other, "config": config, "tmp": tmp_path}


def judge(client, csrf, call_id, **form):
    return client.post(f"/calls/{call_id}/feedback", data={"csrf_token": csrf, **form}, headers={"Accept": "application/json"})


def test_findings_of_a_report(judged):
    with Store(judged["db"]) as store:
        report = store.report(judged["call_id"])
    keys = [f.key for f in fb.findings_of(report)]
    assert keys[:3] == ["meeting.pushed", "meeting.concrete", "meeting.outcome"]
    assert "distraction.rep_adapted" not in keys  # only judged on distracted calls
    assert any(key.startswith("coaching.") for key in keys)
    assert report.meeting.pushed and report.meeting.concrete and report.meeting.outcome == "accepted"


def test_coach_marks_findings_and_the_export_carries_them(judged):
    call_id = judged["call_id"]
    with TestClient(create_app(judged["config"])) as client:
        csrf = sign_in(client, "carol")
        page = client.get(f"/calls/{call_id}")
        assert 'data-finding="meeting.pushed"' in page.text and "/report" in page.text
        assert judge(client, csrf, call_id, finding="meeting.concrete", verdict="wrong", comment="no day was named").json()["saved"]
        assert judge(client, csrf, call_id, finding="meeting.outcome", verdict="wrong", corrected="deferred").status_code == 200
        assert judge(client, csrf, call_id, finding="meeting.pushed", verdict="correct").status_code == 200
        # a second judgement of the same finding by the same coach replaces the first
        assert judge(client, csrf, call_id, finding="meeting.pushed", verdict="correct", comment="clear visit ask").status_code == 200
        # bad input: one-line refusals, nothing stored
        assert judge(client, csrf, call_id, finding="meeting.pushed", verdict="maybe").status_code == 400
        assert judge(client, csrf, call_id, finding="meeting.nonsense", verdict="wrong").status_code == 400
        assert judge(client, csrf, call_id, finding="meeting.outcome", verdict="wrong", corrected="perhaps").status_code == 400
        assert judge(client, csrf, call_id, finding="meeting.pushed", verdict="wrong", comment="x" * 2001).status_code == 400
        # the plain form post (no JavaScript) lands back on the finding
        plain = client.post(f"/calls/{call_id}/feedback", data={"csrf_token": csrf, "finding": "meeting.downgraded",
                                                                 "verdict": "correct"}, follow_redirects=False)
        assert plain.status_code == 303 and plain.headers["location"].endswith("#finding-meeting-downgraded")
        download = client.get("/feedback.jsonl")
        assert download.status_code == 200 and download.headers["content-type"].startswith("application/x-ndjson")
    with TestClient(create_app(judged["config"])) as client:
        sign_in(client, "alice")  # the rep reads the coach's notes on her call
        page = client.get(f"/calls/{call_id}")
        assert "no day was named" in page.text and 'data-finding=' not in page.text

    with Store(judged["db"]) as store:
        rows = store.db.execute("SELECT finding, verdict, corrected, comment FROM feedback ORDER BY finding").fetchall()
        lines = list(fb.export_lines(store))
    assert [tuple(r) for r in rows] == [
        ("meeting.concrete", "wrong", "false", "no day was named"),
        ("meeting.downgraded", "correct", None, None),
        ("meeting.outcome", "wrong", '"deferred"', None),
        ("meeting.pushed", "correct", None, "clear visit ask"),
    ]
    assert len(lines) == 1 and [json.loads(line) for line in download.text.splitlines()] == lines
    line = lines[0]
    assert line["id"] == call_id and line["source"] == "Hadley Thursday.mp3" and line["rep"] == "alice"
    assert line["labels"]["meeting"]["pushed"] is True
    assert line["labels"]["meeting"]["concrete"] is False and line["labels"]["meeting"]["outcome"] == "deferred"
    assert [t["text"] for t in line["turns"]] == [t["text"] for t in CONCRETE_PUSH["turns"]]
    assert {f["finding"]: f["coach"] for f in line["feedback"]}["meeting.concrete"] == "carol"


def test_corrected_labels_stay_consistent(judged):
    with Store(judged["db"]) as store:
        report = store.report(judged["call_id"])
    not_pushed = fb.Judgement(judged["call_id"], "meeting.pushed", "wrong", True, False, None, "carol", 1.0)
    labels = fb.corrected_labels(report, [not_pushed])
    assert labels["meeting"] | {} == {**labels["meeting"], "pushed": False, "concrete": False, "outcome": "none", "attempts": 0}
    later = fb.Judgement(judged["call_id"], "meeting.pushed", "correct", True, None, None, "dave", 2.0)
    assert fb.corrected_labels(report, [not_pushed, later])["meeting"]["pushed"] is False  # "correct" changes nothing


def test_feedback_export_is_read_by_callcoach_eval(judged):
    """The whole loop: a coach says the push was not concrete; `callcoach eval` on the export counts the
    pipeline's answer as a mismatch."""
    with Store(judged["db"]) as store:
        report = store.report(judged["call_id"])
        carol = store.db.execute("SELECT user_id FROM users WHERE name = 'carol'").fetchone()[0]
        fb.record(store, judged["call_id"], report, carol, "meeting.concrete", "wrong", comment="no day was named")
        fb.record(store, judged["other"], store.report(judged["other"]), carol, "meeting.pushed", "correct")
    export = judged["tmp"] / "labels" / "feedback.jsonl"
    result = runner.invoke(cli_app, ["feedback", "export", "--db", str(judged["db"]), "--out", str(export)])
    assert result.exit_code == 0, result.output
    assert "2 judged call(s) exported" in result.output
    assert len(export.read_text().splitlines()) == 2
    figures = judged["tmp"] / "figures.json"
    result = runner.invoke(cli_app, ["eval", str(export), "--errors", "--json", str(figures)])
    assert result.exit_code == 0, result.output
    data = json.loads(figures.read_text())
    assert data["n_calls"] == 2
    # both calls are the same concrete push; the coach overruled the pipeline on one of them
    assert data["accuracy"]["meeting.concrete"] == {"correct": 1, "n": 2, "accuracy": 0.5}
    assert {"call": judged["call_id"], "field": "meeting.concrete", "expected": False, "got": True} in data["mismatches"]
    assert data["binary"]["meeting.pushed"]["tp"] == 2
    assert "meeting.pushed" in result.output  # the figures table


def test_users_and_feedback_commands_fail_in_one_line(tmp_path):
    db = tmp_path / "calls.db"
    ok = runner.invoke(cli_app, ["users", "add", "dana", "--role", "coach", "--db", str(db), "--password-stdin"],
                       input="dana-secret-9\n")
    assert ok.exit_code == 0 and "user dana added (coach)" in ok.output
    listed = runner.invoke(cli_app, ["users", "list", "--db", str(db)])
    assert listed.output.strip() == "dana\tcoach"
    for args, stdin, fragment in [
        (["users", "add", "dana", "--role", "rep"], "another-pass\n", "exists already"),
        (["users", "add", "eve", "--role", "rep"], "short\n", "password too short"),
        (["users", "add", "../eve", "--role", "rep"], "long-enough-1\n", "user name"),
        (["users", "passwd", "nobody"], "long-enough-1\n", "no user nobody"),
    ]:
        result = runner.invoke(cli_app, [*args, "--db", str(db), "--password-stdin"], input=stdin)
        assert result.exit_code == 2, args
        assert fragment in result.output and "Traceback" not in result.output
        assert len([line for line in result.output.splitlines() if line.strip()]) == 1, result.output
    bad_role = runner.invoke(cli_app, ["users", "add", "eve", "--role", "boss", "--db", str(db), "--password-stdin"], input="x" * 9)
    assert bad_role.exit_code == 2
    missing = runner.invoke(cli_app, ["feedback", "export", "--db", str(tmp_path / "none.db")])
    assert missing.exit_code == 2 and "no store at" in missing.output
    wrong_name = runner.invoke(cli_app, ["feedback", "export", "--db", str(db), "--out", str(tmp_path / "x.json")])
    assert wrong_name.exit_code == 2 and ".jsonl" in wrong_name.output
    runner.invoke(cli_app, ["users", "disable", "dana", "--db", str(db)])
    assert runner.invoke(cli_app, ["users", "list", "--db", str(db)]).output.strip() == "dana\tcoach\tdisabled"


def test_concrete_marked_wrong_on_a_no_push_call_reaches_the_export(tmp_path, text_analyzer):
    """The outside test: "concrete: wrong" on a call the pipeline saw no push in was shown as saved, then
    dropped from the export. A concrete proposal means the rep pushed: the export says both."""
    no_push = {"language": "en", "turns": [
        {"speaker": "rep", "text": "Hi, this is Sam from Northwind, do you have a minute?", "start": 0.0, "end": 3.0},
        {"speaker": "customer", "text": "Sure, go ahead.", "start": 3.2, "end": 4.0},
        {"speaker": "rep", "text": "Our new filters cut energy use by a fifth. I'll email you the brochure.", "start": 4.2, "end": 9.0},
        {"speaker": "customer", "text": "Okay, thanks.", "start": 9.2, "end": 10.0}]}
    db = tmp_path / "calls.db"
    with Store(db) as store:
        add_users(store)
        call_id = add_done_call(store, text_analyzer, no_push, "alice", tmp_path / "reports", source="alice-2.json")
        report = store.report(call_id)
        assert not report.meeting.pushed and not report.meeting.concrete
        carol = __import__("pipeline.web.accounts", fromlist=["get_user"]).get_user(store, "carol")
        fb.record(store, call_id, report, carol.user_id, "meeting.concrete", "wrong")
        (line,) = list(fb.export_lines(store))
        assert line["labels"]["meeting"]["pushed"] is True and line["labels"]["meeting"]["concrete"] is True
        # A coach who confirmed "no push" and then calls it concrete is told, not silently dropped.
        fb.record(store, call_id, report, carol.user_id, "meeting.pushed", "correct")
        with pytest.raises(fb.CallcoachError, match="no push"):
            fb.record(store, call_id, report, carol.user_id, "meeting.concrete", "wrong")
