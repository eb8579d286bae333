"""--redact end to end through the analysis: personal data never reaches the report (turns, quotes, the
search index), the spans are listed without values, and the HTML player mutes them."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from pipeline.analyze import AnalyzeOptions, Analyzer
from pipeline.fingerprint import analysis_fingerprint
from pipeline.privacy.redact_transcript import redact_transcript
from pipeline.report.render import render_html
from pipeline.transcript import Transcript, Turn, Word

PHONE = "13812345678"
TURNS = [
    ("rep", "王总您好，我是华工机械的小李，现在说话方便吗？"),
    ("customer", "方便，你说。"),
    ("rep", f"我手机是{PHONE}，周四下午两点我去您厂里当面演示，您看行吗？"),
    ("customer", "行，周四见。我邮箱是 wang.jun@huagong-jixie.cn，资料也发一份。"),
]


def _words_of(text: str, start_s: float) -> list[Word]:
    """One word per character, 0.2 s each (what a recogniser's words look like to the redaction)."""
    return [Word(start_s + 0.2 * i, start_s + 0.2 * (i + 1), ch) for i, ch in enumerate(text)]


def _transcript(with_words: bool) -> Transcript:
    turns, at = [], 0.0
    for index, (speaker, text) in enumerate(TURNS):
        words = _words_of(text, at) if with_words else []
        end = at + 0.2 * len(text)
        turns.append(Turn(index, speaker, text, start=at if with_words else None, end=end if with_words else None,  # type: ignore[arg-type]
                          words=words))
        at = end + 0.5
    return Transcript("zh", turns, duration_s=at if with_words else None)


@pytest.fixture(scope="module")
def redacted_report():
    return Analyzer(AnalyzeOptions(redact=True)).analyze_transcript(_transcript(with_words=True), source="call.json")


def test_no_value_reaches_the_report(redacted_report):
    text = redacted_report.model_dump_json()
    assert PHONE not in text and "wang.jun" not in text and "huagong-jixie" not in text
    assert "[PHONE]" in redacted_report.turns[2].text and "[EMAIL]" in redacted_report.turns[3].text


def test_spans_are_listed_with_their_time_and_kind_only(redacted_report):
    kinds = [(r.turn, r.kind) for r in redacted_report.redactions]
    assert kinds == [(2, "phone"), (3, "email")]
    phone = redacted_report.redactions[0]
    offset = TURNS[2][1].index(PHONE)
    start_of_turn = redacted_report.turns[2].start
    assert phone.start == pytest.approx(start_of_turn + 0.2 * offset)
    assert phone.end == pytest.approx(start_of_turn + 0.2 * (offset + len(PHONE)))
    assert set(json.loads(phone.model_dump_json())) == {"turn", "kind", "start", "end"}


def test_the_analysis_still_reads_the_call(redacted_report):
    """Redaction happens before analysis and must not cost the verdicts: the push and its evidence stay."""
    assert redacted_report.meeting.pushed and redacted_report.meeting.concrete
    for evidence in redacted_report.meeting.evidence:
        assert evidence.quote in redacted_report.turns[evidence.turn].text


def test_the_player_mutes_the_spans(redacted_report):
    html = render_html(redacted_report, "call.mp3")
    spans = json.loads(re.search(r'data-mute="([^"]+)"', html).group(1).replace("&#34;", '"'))
    assert len(spans) == 2 and spans[0][0] < redacted_report.redactions[0].start < spans[0][1]


def test_without_redact_nothing_changes_and_the_fingerprint_tells_them_apart():
    plain = Analyzer().analyze_transcript(_transcript(with_words=False), source="call.json")
    assert PHONE in plain.turns[2].text and plain.redactions == []
    assert analysis_fingerprint(AnalyzeOptions(), "audio") != analysis_fingerprint(AnalyzeOptions(redact=True), "audio")
    assert analysis_fingerprint(AnalyzeOptions(), "audio") == analysis_fingerprint(AnalyzeOptions(redact=False), "audio")


def test_text_input_has_spans_without_times():
    transcript, spans = redact_transcript(_transcript(with_words=False))
    assert [(s.turn, s.kind, s.start_s) for s in spans] == [(2, "phone", None), (3, "email", None)]
    assert PHONE not in transcript.turns[2].text


def test_redact_on_the_command_line(tmp_path):
    call = tmp_path / "call.json"
    call.write_text(json.dumps({"language": "zh", "turns": [{"speaker": s, "text": t} for s, t in TURNS]},
                               ensure_ascii=False), "utf-8")
    done = subprocess.run([sys.executable, "-m", "pipeline.cli", "analyze", str(call), "--out", str(tmp_path / "out"),
                           "--redact"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    for suffix in (".json", ".md", ".html"):
        assert PHONE not in (tmp_path / "out" / f"call{suffix}").read_text("utf-8")
