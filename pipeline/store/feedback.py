"""Coaches' judgements of a report's findings, and their export as labeled calls for `callcoach eval`.

A *finding* is one thing the analysis claims about a call: a label field (``meeting.pushed``,
``distraction.distracted`` … — the fields of docs/labels.md) or a coaching point (``coaching.<principle>``).
A coach marks it correct or wrong, optionally gives the right value and a comment. One judgement per
coach and finding (a second one replaces the first).

The export is JSON Lines in the labeled-transcript format `callcoach eval` reads (docs/labels.md): per
judged call, its transcript (the report's turns) and ``labels`` = what the pipeline said, with every
field a coach marked wrong replaced by the corrected value (the latest judgement wins). The raw
judgements ride along under ``feedback``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pipeline.errors import CallcoachError
from pipeline.report.schema import Report
from pipeline.store.database import Store

MAX_COMMENT_CHARS = 2000
OUTCOMES = ("accepted", "declined", "deferred", "none")


@dataclass(frozen=True)
class Finding:
    key: str  # "meeting.pushed", "coaching.channel", ...; what a coach reads for it: pipeline/web/i18n.py
    value: Any  # what the pipeline said (JSON-able)
    choices: tuple[Any, ...]  # the values a correction may take (empty: free, e.g. a coaching point)
    detail: str = ""


_LABEL_FIELDS = (
    ("meeting.pushed", (True, False)),
    ("meeting.concrete", (True, False)),
    ("meeting.outcome", OUTCOMES),
    ("meeting.downgraded", (True, False)),
    ("meeting.distance_excuse", (True, False)),
    ("distraction.distracted", (True, False)),
    ("distraction.rep_checked_availability", (True, False)),
    ("distraction.rep_adapted", (True, False)),
)
LABEL_KEYS = tuple(key for key, _ in _LABEL_FIELDS)


def _get(data: dict, dotted: str) -> Any:
    for part in dotted.split("."):
        data = data[part]
    return data


def findings_of(report: Report) -> list[Finding]:
    """The findings of a report a coach can judge, in reading order."""
    data = report.model_dump(mode="json")
    findings = []
    for key, choices in _LABEL_FIELDS:
        value = _get(data, key)
        if key == "distraction.rep_adapted" and value is None:
            continue  # only judged on distracted calls
        findings.append(Finding(key, value, choices))
    for point in report.coaching:
        findings.append(Finding(f"coaching.{point.principle}", point.verdict, (), point.message))
    return findings


def _parse_corrected(finding: Finding, verdict: str, corrected: str | None) -> Any:
    """The right value for a finding marked wrong: given by the coach, or implied (a yes/no flips)."""
    if verdict != "wrong":
        return None
    if corrected not in (None, ""):
        for choice in finding.choices:
            if json.dumps(choice) == corrected or str(choice).lower() == str(corrected).lower():
                return choice
        if finding.choices:
            raise CallcoachError(f"{finding.key}: {corrected!r} is not one of {', '.join(map(str, finding.choices))}")
        return None
    if isinstance(finding.value, bool):
        return not finding.value
    return None  # "wrong" without saying what is right: kept as a judgement, no label change


def record(store: Store, call_id: str, report: Report, user_id: int, finding_key: str, verdict: str,
           corrected: str | None = None, comment: str | None = None) -> None:
    """Store (or replace) one coach's judgement of one finding. Raises CallcoachError for bad input."""
    if verdict not in ("correct", "wrong"):
        raise CallcoachError("verdict must be 'correct' or 'wrong'")
    finding = next((f for f in findings_of(report) if f.key == finding_key), None)
    if finding is None:
        raise CallcoachError(f"this report has no finding {finding_key!r}")
    comment = (comment or "").strip()
    if len(comment) > MAX_COMMENT_CHARS:
        raise CallcoachError(f"comment too long: at most {MAX_COMMENT_CHARS} characters")
    value = _parse_corrected(finding, verdict, corrected)
    if finding_key in ("meeting.concrete", "meeting.outcome") and value not in (None, False, "none"):
        pushed = {j.finding: j for j in judgements(store, call_id) if j.user_id == user_id}.get("meeting.pushed")
        if pushed is not None and (pushed.corrected if pushed.verdict == "wrong" else pushed.pipeline_value) is False:
            raise CallcoachError("you marked this call as having no push: a concrete proposal or an answer to one "
                                 "needs a push (judge 'pushed' again first)")
    with store.transaction() as db:
        db.execute(
            "INSERT INTO feedback (call_id, finding, verdict, pipeline_value, corrected, comment, user_id, at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (call_id, finding, user_id) DO UPDATE SET "
            "verdict = excluded.verdict, pipeline_value = excluded.pipeline_value, corrected = excluded.corrected, "
            "comment = excluded.comment, at = excluded.at",
            (call_id, finding_key, verdict, json.dumps(finding.value), None if value is None else json.dumps(value),
             comment or None, user_id, time.time()),
        )


@dataclass(frozen=True)
class Judgement:
    call_id: str
    finding: str
    verdict: str
    pipeline_value: Any
    corrected: Any
    comment: str | None
    coach: str
    at: float
    user_id: int | None = None

    def as_dict(self) -> dict:
        return {"finding": self.finding, "verdict": self.verdict, "pipeline_value": self.pipeline_value,
                "corrected": self.corrected, "comment": self.comment, "coach": self.coach,
                "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.at))}


def judgements(store: Store, call_id: str | None = None) -> list[Judgement]:
    """Judgements, oldest first (of one call, or all)."""
    query = (
        "SELECT f.call_id, f.finding, f.verdict, f.pipeline_value, f.corrected, f.comment, u.name, f.at, f.user_id "
        "FROM feedback f JOIN users u USING (user_id)"
    )
    rows = store.db.execute(query + (" WHERE f.call_id = ?" if call_id else "") + " ORDER BY f.at, f.feedback_id",
                            (call_id,) if call_id else ())
    return [
        Judgement(r[0], r[1], r[2], json.loads(r[3]) if r[3] else None, json.loads(r[4]) if r[4] else None, r[5], r[6], r[7], r[8])
        for r in rows
    ]


def corrected_labels(report: Report, call_judgements: list[Judgement]) -> dict:
    """docs/labels.md labels: the pipeline's values, each field judged wrong replaced by its correction."""
    meeting, distraction = report.meeting, report.distraction
    labels: dict[str, dict[str, Any]] = {
        "meeting": {"pushed": meeting.pushed, "concrete": meeting.concrete, "outcome": meeting.outcome,
                    "downgraded": meeting.downgraded, "downgrade_channels": list(meeting.downgrade_channels),
                    "attempts": meeting.attempts, "distance_excuse": meeting.distance_excuse},
        "distraction": {"distracted": distraction.distracted,
                        "rep_checked_availability": distraction.rep_checked_availability,
                        "rep_adapted": distraction.rep_adapted},
    }
    judged: dict[str, Any] = {}
    for judgement in call_judgements:  # oldest first: the latest judgement of a field wins
        if judgement.finding not in LABEL_KEYS:
            continue
        if judgement.verdict == "correct":
            judged[judgement.finding] = judgement.pipeline_value
        elif judgement.corrected is not None:
            judged[judgement.finding] = judgement.corrected
            group, name = judgement.finding.split(".")
            labels[group][name] = judgement.corrected
    # A concrete proposal or an answer to one, where the pipeline saw no push, says the rep did push — unless a
    # coach confirmed there was none (then ``record`` refused the contradiction).
    implies_push = judged.get("meeting.concrete") is True or judged.get("meeting.outcome") not in (None, "none")
    if implies_push and judged.get("meeting.pushed") is not False:
        labels["meeting"]["pushed"] = True
    # Keep the labels consistent with each other (docs/labels.md).
    if not labels["meeting"]["pushed"]:
        labels["meeting"].update(concrete=False, outcome="none", attempts=0)
    elif labels["meeting"]["attempts"] == 0:
        labels["meeting"]["attempts"] = 1
    if not labels["distraction"]["distracted"]:
        labels["distraction"]["rep_adapted"] = None
    return labels


def export_lines(store: Store) -> Iterator[dict]:
    """One labeled call per judged call (see the module docstring), ordered by call id."""
    by_call: dict[str, list[Judgement]] = {}
    for judgement in judgements(store):
        by_call.setdefault(judgement.call_id, []).append(judgement)
    for call_id in sorted(by_call):
        report = store.report(call_id)
        if report is None:
            continue  # judged, then re-queued and not finished yet
        row = store.call(call_id)
        label = store.db.execute(
            "SELECT filename FROM uploads WHERE call_id = ? AND status = 'accepted' ORDER BY uploaded_at LIMIT 1", (call_id,)
        ).fetchone()
        yield {
            "id": call_id,
            "language": report.language,
            "source": label[0] if label else (row.source if row else report.source),
            "rep": row.rep if row else None,
            "call_date": row.call_date if row else None,
            "pipeline_version": report.pipeline_version,
            "turns": [{"speaker": t.speaker, "text": t.text, "start": t.start, "end": t.end} for t in report.turns if t.text.strip()],
            "labels": corrected_labels(report, by_call[call_id]),
            "feedback": [j.as_dict() for j in by_call[call_id]],
        }
