"""The team view: rates per rep and ISO week (each with its own denominator), chart geometry, best and worst
calls, and a page that is self-contained and whose links open the batch's reports."""

from __future__ import annotations

import subprocess
import sys
from html.parser import HTMLParser
from urllib.parse import unquote

from pipeline.batch.run import BatchOptions, run_batch
from pipeline.jobs.executors import InlineCallExecutor
from pipeline.report.team import (
    METRICS,
    Tally,
    iso_week,
    line_chart,
    render_team_html,
    team_context,
    week_span,
)
from pipeline.store import CallRow

from .test_batch import make_archive


def row(n: int, rep: str | None = "alice", day: str = "2024-05-06", status: str = "done", score: float | None = 0.5,
        pushed: bool = False, concrete: bool = False, downgraded: bool = False, distracted: bool = False,
        adapted: bool | None = None, report_path: str | None = None) -> CallRow:
    return CallRow(
        call_id=f"{n:016x}", sha256=f"{n:016x}" * 4, source=f"/archive/{rep}/{day}_{n}.json", kind="transcript",
        rep=rep, call_date=day, status=status, error=None if status == "done" else "x: broken", error_kind=None,  # type: ignore[arg-type]
        pipeline_version="0.1.0", model=None, fingerprint=None, language="zh", duration_s=120.0, meeting_pushed=pushed,
        concrete=concrete, outcome="none", downgraded=downgraded, distracted=distracted, adapted=adapted,
        score=score, report_path=report_path, formats="json,md,html", worker_pid=None, worker_host=None,
        worker_started=None, claimed_at=None, lease_until=None, crashes=0, run_id=1, finished_at=1.0, updated_at=1.0,
    )


def rates(tally: Tally) -> dict[str, tuple[int, int]]:
    return {metric.key: metric.count(tally) for metric in METRICS}


def test_iso_weeks():
    assert iso_week("2024-05-06") == "2024-W19" and iso_week("2024-05-12") == "2024-W19"
    assert iso_week("2024-12-30") == "2025-W01"  # ISO year, not calendar year
    assert iso_week(None) == "unknown" and iso_week("soon") == "unknown"
    assert week_span("2024-W19") == "2024-05-06 – 05-12"


def test_each_rate_has_its_own_denominator():
    tally = Tally()
    for r in [
        row(1, pushed=True, concrete=True),
        row(2, pushed=True, downgraded=True),
        row(3, distracted=True, adapted=True),
        row(4, distracted=True, adapted=False),
        row(5, distracted=True, adapted=None),  # adapting could not be judged: not in the adapted rate
    ]:
        tally.add(r)
    assert rates(tally) == {
        "push": (2, 5), "concrete": (1, 2), "downgrade": (1, 5), "distraction": (3, 5), "adapted": (1, 2),
        "talk_share": (0, 0),  # no call has talk figures: nothing to rate
    }


def test_talk_share_per_rep_and_week_is_weighted_by_call_length_and_medians_sit_beside_it(tmp_path):
    from dataclasses import replace

    rows = [replace(row(1, "alice", "2024-05-06"), rep_talk_share=0.8, duration_s=300.0, rep_questions=2),
            replace(row(2, "alice", "2024-05-07"), rep_talk_share=0.2, duration_s=100.0, rep_questions=6),
            replace(row(3, "bob", "2024-05-14"), rep_talk_share=0.5, duration_s=60.0, rep_questions=1),
            replace(row(4, "bob", "2024-05-14"), rep_talk_share=None, duration_s=None)]  # text input: not timed
    context = team_context(rows, tmp_path / "team.html")
    share = [m.key for m in METRICS].index("talk_share")
    reps = {rep["name"]: rep for rep in context["reps"]}
    assert reps["alice"]["weeks"][0]["cells"][share] == {"text": "65%", "title": "260/400", "pct": 65.0}
    assert reps["bob"]["cells"][share]["text"] == "50%"
    talk = {rep["name"]: rep["values"] for rep in context["talk"]["reps"]}
    assert talk["alice"][:3] == ["50%", "—", "4.0"]  # medians per call: share, monologue, rep questions
    assert context["talk"]["team"][0] == "50%"
    html = render_team_html(rows, tmp_path / "team.html")
    assert "销售说话占比" in html and "65%" in html


def test_context_per_rep_and_week(tmp_path):
    rows = [
        row(1, "alice", "2024-05-06", pushed=True, concrete=True),
        row(2, "alice", "2024-05-08", pushed=False),
        row(3, "alice", "2024-05-14", pushed=True),
        row(4, "bob", "2024-05-13", pushed=True, concrete=True),
        row(5, "bob", "2024-05-13", status="failed", score=None),
        row(6, None, "2024-05-07"),
    ]
    context = team_context(rows, tmp_path / "team.html")
    assert context["weeks"] == ["2024-W19", "2024-W20"]
    assert context["team"]["calls"] == 5 and context["failed"] == 1
    reps = {rep["name"]: rep for rep in context["reps"]}
    assert set(reps) == {"(no rep)", "alice", "bob"}
    alice = reps["alice"]
    assert alice["calls"] == 3 and [w["week"] for w in alice["weeks"]] == ["2024-W19", "2024-W20"]
    push = [m.key for m in METRICS].index("push")
    assert [w["cells"][push]["text"] for w in alice["weeks"]] == ["50%", "100%"]
    assert alice["weeks"][0]["cells"][push]["title"] == "1/2"
    assert reps["bob"]["failed"] == 1 and reps["bob"]["calls"] == 1
    concrete = [m.key for m in METRICS].index("concrete")
    assert reps["(no rep)"]["cells"][concrete]["text"] == "—"  # no pushes: nothing to rate, not 0 %


def test_chart_breaks_lines_where_a_week_has_nothing_to_rate():
    from pipeline.report.team import Series

    weeks = ["2024-W19", "2024-W20", "2024-W21", "2024-W22"]
    chart = line_chart(weeks, [Series("alice", "#2563eb", False, [(100.0, "1/1"), (50.0, "1/2"), (None, ""), (0.0, "0/3")])])
    series = chart["series"][0]
    assert len(series["points"]) == 3 and len(series["lines"]) == 1  # the lone last point is a dot, not a line
    top, bottom = chart["grid"][-1]["y"], chart["grid"][0]["y"]
    ys = [p["y"] for p in series["points"]]
    assert ys[0] == top and ys[2] == bottom and ys[1] == (top + bottom) / 2
    assert series["points"][1]["title"] == "alice · 2024-W20 · 1/2"
    assert [label["text"] for label in chart["xlabels"]] == weeks


def test_best_and_worst_calls(tmp_path):
    reports = tmp_path / "out" / "alice"
    reports.mkdir(parents=True)
    rows = []
    for n, score in enumerate([1.0, 0.0, 0.75, 0.25, 0.5, 1.0, None]):
        path = reports / f"call{n}"
        (reports / f"call{n}.html").write_text("<html></html>")
        rows.append(row(n, day=f"2024-05-{10 + n:02d}", score=score, report_path=str(path)))
    rep = team_context(rows, tmp_path / "site" / "team.html")["reps"][0]
    assert [c["score"] for c in rep["best"]] == ["100", "100", "75"]
    assert rep["best"][0]["date"] == "2024-05-15"  # equal scores: the most recent first
    assert [c["score"] for c in rep["worst"]] == ["0", "25", "50"]
    assert rep["worst"][0]["href"] == "../out/alice/call1.html"


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs: list[str] = []
        self.sources: list[str] = []
        self.tags: set[str] = set()

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        for name, value in attrs:
            if name == "href":
                self.hrefs.append(value or "")
            if name == "src":
                self.sources.append(value or "")


def test_team_page_is_self_contained_and_opens_the_reports(tmp_path):
    make_archive(tmp_path / "archive", 24)
    summary = run_batch(
        BatchOptions(archive=tmp_path / "archive", db=tmp_path / "calls.db", out=tmp_path / "reports"),
        executor_factory=InlineCallExecutor,
    )
    assert summary.done == 24
    page = tmp_path / "site" / "team.html"
    result = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "team", "--db", str(tmp_path / "calls.db"), "--out", str(page)],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    html = page.read_text("utf-8")
    links = _Links()
    links.feed(html)
    assert "script" not in links.tags and links.sources == []
    assert "http://" not in html and "https://" not in html and "url(" not in html
    assert html.count("<svg") == len(METRICS)
    assert "Push rate" in html and "推进见面率" in html
    reports = [href for href in links.hrefs if not href.startswith("#")]
    assert len(reports) == 3 * 6  # three reps, three best and three worst each
    for href in reports:
        target = (page.parent / unquote(href)).resolve()
        assert target.is_file() and target.suffix == ".html" and (tmp_path / "reports") in target.parents, href


def test_empty_store_renders(tmp_path):
    html = render_team_html([], tmp_path / "team.html")
    assert "No analysed calls" in html
