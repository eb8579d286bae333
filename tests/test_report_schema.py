"""The report JSON contract: the committed JSON Schema matches the models, and real reports validate."""

import json
from pathlib import Path

import jsonschema
import pytest

from pipeline.analyze import Analyzer
from pipeline.report.schema import json_schema
from pipeline.transcript import transcript_from_dict

from .conftest import labeled_calls

SCHEMA_FILE = Path(__file__).resolve().parent.parent / "pipeline" / "report" / "report.schema.json"


def test_committed_schema_matches_the_models():
    committed = json.loads(SCHEMA_FILE.read_text("utf-8"))
    assert committed == json_schema(), "regenerate: python -m pipeline.report.schema > pipeline/report/report.schema.json"


@pytest.fixture(scope="module")
def reports():
    analyzer = Analyzer()
    calls = labeled_calls("train") + labeled_calls("dev")
    assert len(calls) >= 100
    return [(call, analyzer.analyze_transcript(transcript_from_dict(call, call["id"]), call["id"])) for call in calls]


def test_every_report_validates_against_the_schema(reports):
    validator = jsonschema.Draft202012Validator(json.loads(SCHEMA_FILE.read_text("utf-8")))
    for _, report in reports:
        validator.validate(json.loads(report.model_dump_json()))


def test_every_evidence_quote_is_an_exact_substring_of_its_turn(reports):
    for call, report in reports:
        texts = {turn.index: turn.text for turn in report.turns}
        quotes = [(e.turn, e.quote) for e in report.meeting.evidence]
        quotes += [(p.turn, p.quote) for p in report.meeting.proposals]
        for turn, quote in quotes:
            assert quote and quote in texts[turn], (call["id"], turn, quote)
        for point in report.coaching:
            assert all(t in texts for t in point.evidence_turns)


def test_report_language_follows_the_call(reports):
    for call, report in reports:
        assert report.language == call["language"]
        if report.language == "zh":
            assert all(any("\u4e00" <= ch <= "\u9fff" for ch in p.message) for p in report.coaching)
