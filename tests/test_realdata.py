"""Real calls nobody on the team wrote (../shared/realdata): no invented meeting pushes, sane roles."""

import json

import pytest

from pipeline.analyze import Analyzer
from pipeline.transcript import transcript_from_dict

from .conftest import ROOT


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


BEIKE_SETS = {"tune": ROOT / "models" / "training" / "beike" / "tune.jsonl",  # tunes rules and the calibration
              "heldout": ROOT / "tests" / "data" / "beike" / "heldout.jsonl"}  # evaluation only


def _beike_set(name: str):
    from pipeline.training import evaluate

    return evaluate.load_labeled(BEIKE_SETS[name])


def test_beike_labels_are_the_random_draw_split_before_anyone_read_them(realdata):
    """600 sessions drawn with seed 2026; the first 300 drawn tune, the other 300 are held out."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("select", ROOT / "tests" / "data" / "beike" / "select.py")
    select = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(select)
    drawn = dict(select.selection())
    for name in ("tune", "heldout"):
        calls = _beike_set(name)
        assert len(calls) == 300 and all(drawn[call.transcript["session"]] == name for call in calls)
        assert all(call.transcript["turns"][0]["speaker"] == "customer" for call in calls)


def test_real_agent_chat_tuning_part_floor(realdata):
    """The tuning part of the labeled beike chats (the held-out part is scored by `callcoach eval` only at the
    end of a session, never in a test that is run while tuning)."""
    from pipeline.training import evaluate

    analyzer = Analyzer()
    result = evaluate.run(_beike_set("tune"), None, analyzer.analyze_transcript)
    assert result.binary["meeting.pushed"]["f1"] >= 0.88
    assert result.binary["meeting.downgraded"]["f1"] >= 0.85
