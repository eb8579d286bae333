"""The store's records: who holds a claim (``Owner``), what discovery found, a ``calls`` row, and the
report figures kept as columns."""

from __future__ import annotations

import os
import socket
import sqlite3
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Literal

from pipeline.report.schema import Report

Status = Literal["queued", "processing", "done", "failed"]
STATUSES: tuple[Status, ...] = ("queued", "processing", "done", "failed")
# Why a call failed: "input" = the file itself (same content + same pipeline fails again, so it is not
# retried unless asked); "io" = writing the report; "crash" = the worker process died on it; "bug" = an
# unexpected exception in callcoach.
ErrorKind = Literal["input", "io", "crash", "bug"]
# What enqueue decided for a discovered call.
Decision = Literal["queued", "done", "failed_before", "in_progress"]
CRASHES_BEFORE_FAILED = 2
# A claim's lease, renewed by its holder's heartbeat (pipeline.jobs.heartbeat) while the call is analysed:
# a run on another host takes a claim over once its holder has been silent this long.
DEFAULT_LEASE_S = 600.0
# Where a call's customer came from: a file-name pattern, the web upload form, or the call's own words.
CustomerSource = Literal["pattern", "upload", "spoken"]
VERDICT_POINTS = {"good": 1.0, "warning": 0.5, "missed": 0.0}



@dataclass(frozen=True)
class Owner:
    """The process that holds a claim. ``started`` (the process start time from /proc) tells a live owner
    apart from a new process that got the same pid after a crash."""

    pid: int
    host: str
    started: str | None

    @classmethod
    def current(cls) -> Owner:
        return cls(os.getpid(), socket.gethostname(), _process_start(os.getpid()))

    def is_alive(self) -> bool | None:
        """True/False for an owner on this host; None when it runs on another host (cannot tell)."""
        if self.host != socket.gethostname():
            return None
        return _pid_alive(self.pid, self.started)


def _process_stat(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # Fields after the command name, which is in parentheses and may itself contain spaces or parentheses.
    return raw[raw.rfind(")") + 2 :].split()


def _process_start(pid: int) -> str | None:
    stat = _process_stat(pid)
    return stat[19] if stat and len(stat) > 19 else None  # field 22: start time in clock ticks since boot


def _pid_alive(pid: int, started: str | None) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # exists, belongs to someone else
    stat = _process_stat(pid)
    if stat is None:
        return not Path("/proc/self/stat").exists()  # no /proc on this system: trust kill(0)
    if stat[0] in ("Z", "X"):  # zombie: dead, not yet reaped
        return False
    return started is None or stat[19] == started


@dataclass(frozen=True)
class DiscoveredCall:
    """A call found in an archive, before analysis."""

    call_id: str
    sha256: str
    source: str  # absolute path of the first file with this content
    kind: Literal["audio", "transcript"]
    rep: str | None
    call_date: str | None  # YYYY-MM-DD
    duration_s: float | None  # probed from the container; None for transcripts
    report_path: str  # where the reports go, without extension (.json/.md/.html are added)
    customer: str | None = None  # from --customer-pattern; None: as named in the call


@dataclass(frozen=True)
class CallRow:
    call_id: str
    sha256: str
    source: str
    kind: str | None
    rep: str | None
    call_date: str | None
    status: Status
    error: str | None
    error_kind: str | None
    pipeline_version: str | None
    model: str | None
    fingerprint: str | None
    language: str | None
    duration_s: float | None
    meeting_pushed: bool | None
    concrete: bool | None
    outcome: str | None
    downgraded: bool | None
    distracted: bool | None
    adapted: bool | None
    score: float | None
    report_path: str | None
    formats: str | None
    worker_pid: int | None
    worker_host: str | None
    worker_started: str | None
    claimed_at: float | None
    lease_until: float | None
    crashes: int
    run_id: int | None
    finished_at: float | None
    updated_at: float
    # Added by migration 6; default so a row built by hand needs only the older columns.
    customer: str | None = None
    customer_source: CustomerSource | None = None
    rep_talk_share: float | None = None
    longest_rep_monologue_s: float | None = None
    rep_questions: int | None = None
    customer_questions: int | None = None
    customer_interruptions: int | None = None
    agreed_when: str | None = None
    agreed_day: str | None = None
    agreed_clock: str | None = None
    mentions_past_meeting: bool | None = None

    @property
    def owner(self) -> Owner | None:
        if self.worker_pid is None or self.worker_host is None:
            return None
        return Owner(self.worker_pid, self.worker_host, self.worker_started)

    def report_file(self, fmt: str = "html") -> Path | None:
        """The report file of one format, if this call's reports were written in that format."""
        if not self.report_path or fmt not in (self.formats or "").split(","):
            return None
        return Path(f"{self.report_path}.{fmt}")

    def as_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}


_BOOL_COLUMNS = ("meeting_pushed", "concrete", "downgraded", "distracted", "adapted", "mentions_past_meeting")
_ROW_COLUMNS = tuple(f.name for f in fields(CallRow))
SELECT_ROWS = f"SELECT {', '.join(_ROW_COLUMNS)} FROM calls"  # not the report JSON: listings stay light


def row_of(values: sqlite3.Row) -> CallRow:
    data = {name: values[name] for name in _ROW_COLUMNS}
    for name in _BOOL_COLUMNS:
        if data[name] is not None:
            data[name] = bool(data[name])
    return CallRow(**data)


@dataclass(frozen=True)
class FileInfo:
    """What discovery learnt about one file (cached by path, size and mtime)."""

    path: str
    size: int
    mtime_ns: int
    sha256: str
    kind: Literal["audio", "transcript", "other"]
    duration_s: float | None
    detail: str | None  # why an "other" file is not a call


@dataclass(frozen=True)
class Event:
    call_id: str
    run_id: int | None
    event: str
    pid: int | None
    at: float
    detail: str | None


def report_metrics(report: Report) -> dict:
    """The report fields the store keeps as columns (for listing and the team view)."""
    verdicts = [VERDICT_POINTS[point.verdict] for point in report.coaching]
    return {
        "language": report.language,
        "duration_s": report.duration_s,
        "meeting_pushed": report.meeting.pushed,
        "concrete": report.meeting.concrete,
        "outcome": report.meeting.outcome,
        "downgraded": report.meeting.downgraded,
        "distracted": report.distraction.distracted,
        "adapted": report.distraction.rep_adapted,
        # Coaching score: mean of the coaching verdicts (good 1, warning 0.5, missed 0); None without any.
        "score": round(sum(verdicts) / len(verdicts), 4) if verdicts else None,
        **talk_columns(report),
        **agreed_meeting(report),
    }


def agreed_meeting(report: Report) -> dict:
    """When an accepted meeting is to happen (the last proposal that named a time, as said and normalised),
    and whether the call speaks of a meeting that already took place (上次您来店里的时候…)."""
    timed = [p for p in report.meeting.proposals if p.time is not None] if report.meeting.outcome == "accepted" else []
    last = timed[-1] if timed else None
    past = any(e.kind == "not_a_push" and e.reason == "past_meeting" for e in report.meeting.evidence)
    return {
        "agreed_when": " ".join(last.when) or None if last else None,
        "agreed_day": last.time.day if last and last.time else None,
        "agreed_clock": last.time.clock if last and last.time else None,
        "mentions_past_meeting": past,
    }


TALK_COLUMNS = ("rep_talk_share", "longest_rep_monologue_s", "rep_questions", "customer_questions",
                "customer_interruptions")


def talk_columns(report: Report) -> dict:
    talk = report.talk.model_dump() if report.talk else {}
    return {name: talk.get(name) for name in TALK_COLUMNS}
