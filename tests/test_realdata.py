"""Real calls nobody on the team wrote (../shared/realdata): no invented meeting pushes, sane roles."""

import json

import pytest

from pipeline.analyze import Analyzer
from pipeline.transcript import transcript_from_dict


def _seretod_calls(realdata):
    for call in json.loads((realdata / "seretod" / "example.json").read_text("utf-8")):
        turns = []
        for exchange in call["content"]:
            for key, speaker in (("[SPEAKER 1]", "rep"), ("[SPEAKER 2]", "customer")):
                text = exchange.get(key, "").replace("_", "，").strip("，")
                if text:
                    turns.append({"speaker": speaker, "text": text})
        yield call["id"], {"language": "zh", "turns": turns}


def test_no_meeting_push_on_real_customer_service_calls(realdata):
    analyzer = Analyzer()
    pushed = []
    for call_id, transcript in _seretod_calls(realdata):
        report = analyzer.analyze_transcript(transcript_from_dict(transcript, call_id), call_id)
        if report.meeting.pushed:
            pushed.append((call_id, [p.quote for p in report.meeting.proposals]))
    assert not pushed


@pytest.mark.whisper
def test_spokenwoz_calls_roles_no_push_and_few_distracted(realdata, analyzer):
    """Six real English phone calls: agent (B) on the right, caller on the left; no sales meeting anywhere."""
    calls = sorted((realdata / "spokenwoz").glob("*.flac"))
    assert len(calls) == 6
    reports = {path.stem: analyzer.analyze(path).report for path in calls}
    summary = {
        stem: (r.roles.rep_channel, r.meeting.pushed, r.distraction.distracted, r.distraction.score)
        for stem, r in reports.items()
    }
    print("\nspokenwoz (rep channel, pushed, distracted, score):", summary)
    assert all(r.language == "en" for r in reports.values())
    assert sum(r.roles.rep_channel == "right" for r in reports.values()) >= 5, summary
    assert not any(r.meeting.pushed for r in reports.values()), summary
    assert sum(r.distraction.distracted for r in reports.values()) <= 1, summary
