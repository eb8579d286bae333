"""Report views: Markdown and self-contained HTML rendered from a hand-built Report."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest

from pipeline.report.render import audio_data_uri, render_html, render_markdown
from pipeline.report.schema import (
    Acoustics,
    Coaching,
    Distraction,
    Evidence,
    Meeting,
    MeetingProposal,
    ProposedTime,
    Report,
    Roles,
    Signal,
    Transcription,
    TurnOut,
)
from pipeline.report.timefmt import mmss, secs

ZH_TURNS = [
    ("rep", 0.4, 5.893, "王总您好，我是华工机械的小李。王总，现在说话方便吗？"),
    ("customer", 6.593, 8.006, "方便，你说吧。"),
    ("rep", 8.506, 15.434, "上个月您问过我们的数控折弯机，现在新款出来了，速度快了两成，还更省电。"),
    ("customer", 16.034, 17.959, "哦，新款价格怎么样？"),
    (
        "rep",
        18.459,
        27.154,
        "比老款只贵一点。电话里说不清楚，周四下午两点我去您厂里，当面给您演示一下，您看行吗？",
    ),
    ("customer", 28.053, 30.806, "周四下午啊，行，你过来吧。"),
    ("rep", 31.206, 36.647, "好的，那我周四下午两点准时到，顺便把样品和报价单带上。"),
    ("customer", 37.246, 39.163, "好好好，对对对，我在开会，到了给我打电话。"),
    ("rep", 39.563, 42.07, "没问题，王总，那周四见。<script>alert(1)</script>"),
    ("customer", 42.57, 43.786, "好，周四见。"),
]
ZH_PROPOSAL = "周四下午两点我去您厂里"
ZH_ANSWER = "行，你过来吧"


def _turns(rows, timed: bool = True) -> list[TurnOut]:
    return [
        TurnOut(index=i, speaker=sp, start=start if timed else None, end=end if timed else None, text=text)
        for i, (sp, start, end, text) in enumerate(rows)
    ]


def zh_report(timed: bool = True) -> Report:
    turns = _turns(ZH_TURNS, timed)

    def t(i: int) -> float | None:
        return turns[i].start

    return Report(
        call_id="zh-0001",
        source="zh_concrete_visit_accepted.mp3",
        language="zh",
        duration_s=44.586 if timed else None,
        pipeline_version="0.1.0",
        analysis_fingerprint="0123456789abcdef",
        roles=Roles(
            method="stereo_content", rep_channel="left", confidence=0.92, basis="左声道先自报公司名并提出拜访"
        ),
        transcription=Transcription(
            model="base",
            compute_type="int8",
            device="cpu",
            beam_size=5,
            language_probability=0.98,
            channels=2,
            fake_stereo=False,
        )
        if timed
        else None,
        acoustics=Acoustics(
            customer_response_latency_median_s=0.6,
            customer_long_pauses=0,
            customer_background_level_dbfs=-58.0,
            customer_background_kind="quiet",
            overlap_s=0.4,
            customer_interruptions=0,
            customer_speech_rate=4.2,
        )
        if timed
        else None,
        turns=turns,
        meeting=Meeting(
            pushed=True,
            concrete=True,
            outcome="accepted",
            downgraded=False,
            downgrade_channels=[],
            attempts=1,
            distance_excuse=False,
            invited_via_wechat=False,
            commitment_to_return=False,
            proposals=[
                MeetingProposal(
                    turn=4,
                    start=t(4),
                    quote=ZH_PROPOSAL,
                    kind="visit_customer",
                    when=["周四下午两点"],
                    where=["厂里"],
                    time=ProposedTime(day="Thursday", daypart="afternoon", clock="14:00"),
                )
            ],
            evidence=[
                Evidence(turn=4, start=t(4), quote=ZH_PROPOSAL, kind="proposal", reason="visit_customer"),
                Evidence(turn=5, start=t(5), quote=ZH_ANSWER, kind="answer", reason="accepted"),
            ],
            pushed_probability=0.99, pushed_basis="meeting_words", downgraded_probability=0.07,
            downgraded_basis="nothing", concrete_probability=0.98, concrete_basis="clock",
        ),
        distraction=Distraction(
            distracted=False,
            score=0.25,
            threshold=0.4,
            rep_checked_availability=True,
            rep_adapted=None,
            adapted_turn=None,
            signals=[
                Signal(
                    kind="explicit_state",
                    turn=7,
                    start=t(7),
                    end=turns[7].end,
                    detail="客户说明自己在忙/不方便：“好好好，对对对，我在开会，到了给我打电话。”",
                )
            ],
            not_measured=[] if timed else ["sound signals: text-only input (no recording)"],
        ),
        coaching=[
            Coaching(
                principle="meeting_push",
                verdict="good",
                evidence_turns=[4],
                message=f"销售主动提出见面：“{ZH_PROPOSAL}”。见面三分情，电话一分情，微信没有情——方向对了。",
            ),
            Coaching(
                principle="concrete_proposal",
                verdict="good",
                evidence_turns=[4],
                message="提议很具体（周四下午两点、厂里），客户容易答应，也方便落实。",
            ),
            Coaching(
                principle="availability_check",
                verdict="good",
                evidence_turns=[0],
                message="开场先确认客户是否方便说话：“王总，现在说话方便吗？”。",
            ),
        ],
    )


EN_TURNS = [
    ("rep", 0.5, 4.0, "Hi Mr. Green, this is Amy from Northwind. Is now a good time?"),
    ("customer", 4.6, 6.0, "Uh huh, yeah yeah."),
    ("rep", 6.5, 12.0, "I'll send you the deck and we can set up a time by WeChat."),
    ("customer", 12.5, 14.0, "Sorry, what? I'm driving."),
    ("unknown", 14.5, 15.0, "[crosstalk] a < b & c > d"),
]


def en_report() -> Report:
    turns = _turns(EN_TURNS)
    return Report(
        call_id="en-7",
        source="calls/en_send_deck_wechat.wav",
        language="en",
        duration_s=16.0,
        pipeline_version="0.1.0",
        analysis_fingerprint="0123456789abcdef",
        roles=Roles(method="none", rep_channel=None, confidence=0.1, basis="mono recording"),
        transcription=None,
        acoustics=None,
        turns=turns,
        meeting=Meeting(
            pushed=False,
            concrete=False,
            outcome="none",
            downgraded=True,
            downgrade_channels=["wechat", "materials"],
            attempts=0,
            distance_excuse=False,
            invited_via_wechat=False,
            commitment_to_return=False,
            proposals=[],
            evidence=[
                Evidence(turn=2, start=6.5, quote="I'll send you the deck", kind="downgrade", channels=["materials"]),
                Evidence(turn=2, start=6.5, quote="set up a time by WeChat", kind="downgrade", channels=["wechat"]),
            ],
            pushed_probability=0.02, pushed_basis="nothing", downgraded_probability=0.97,
            downgraded_basis="channel_words", concrete_probability=None, concrete_basis=None,
        ),
        distraction=Distraction(
            distracted=True,
            score=0.74,
            threshold=0.4,
            rep_checked_availability=True,
            rep_adapted=False,
            adapted_turn=None,
            signals=[
                Signal(
                    kind="asked_to_repeat",
                    turn=3,
                    start=12.5,
                    end=14.0,
                    detail="customer asks to repeat: “Sorry, what?”",
                ),
                Signal(
                    kind="background_sound",
                    turn=None,
                    start=13.0,
                    end=15.5,
                    detail="noise (traffic/office) at -30 dBFS",
                ),
            ],
            not_measured=["response latency: mono recording"],
        ),
        coaching=[
            Coaching(
                principle="meeting_push",
                verdict="missed",
                evidence_turns=[],
                message="No in-person meeting was proposed.",
            ),
            Coaching(
                principle="channel",
                verdict="missed",
                evidence_turns=[2],
                message="The invitation was pushed into a chat message: “set up a time by WeChat”.",
            ),
            Coaching(
                principle="customer_state",
                verdict="missed",
                evidence_turns=[1, 3],
                message="The customer was clearly not listening (asked to repeat), yet the rep kept pitching.",
            ),
            Coaching(
                principle="roles",
                verdict="warning",
                evidence_turns=[],
                message="Unsure who the rep is: mono recording.",
            ),
        ],
    )


def _urls(html: str) -> list[str]:
    return re.findall(r"https?://", html)


# ----------------------------------------------------------------------------------------------- helpers


def test_time_formatting():
    assert mmss(12.3) == "00:12"
    assert mmss(125.9) == "02:05"
    assert mmss(None) == "—"
    assert secs(12.3) == "12.3"
    assert secs(0.0) == "0"
    assert secs(None) == ""


# ----------------------------------------------------------------------------------------------- markdown


def test_markdown_zh_headings_messages_quotes():
    report = zh_report()
    md = render_markdown(report)
    for heading in (
        "# 销售通话辅导报告",
        "## 总览",
        "## 角色判断",
        "## 辅导要点",
        "## 见面相关证据",
        "## 分心信号",
        "## 未能测量的信号",
        "## 通话记录",
    ):
        assert heading in md
    assert "Coaching points" not in md and "Transcript" not in md
    assert "zh_concrete_visit_accepted.mp3" in md
    assert "00:44" in md  # duration
    for point in report.coaching:
        assert point.message in md
    assert f"“{ZH_PROPOSAL}”" in md and f"“{ZH_ANSWER}”" in md
    assert "做得好" in md and "见面提议：上门拜访" in md
    assert "[00:18] 销售: " + ZH_TURNS[4][3] in md
    assert "[00:06] 客户: 方便，你说吧。" in md
    assert "| 提出见面 | 是（是的可能性 99%） |" in md
    assert "左声道" in md and "92%" in md


def test_markdown_en_headings_and_unknown_speaker():
    report = en_report()
    md = render_markdown(report)
    for heading in (
        "# Sales call coaching report",
        "## Summary",
        "## Who is who",
        "## Coaching points",
        "## Meeting evidence",
        "## Distraction signals",
        "## Signals not measured",
        "## Transcript",
    ):
        assert heading in md
    assert "辅导要点" not in md
    for point in report.coaching:
        assert point.message in md
    assert "“I'll send you the deck”" in md and "“set up a time by WeChat”" in md
    assert "[00:14] Unknown: [crosstalk] a < b & c > d" in md  # Markdown is not HTML-escaped
    assert "Missed" in md and "Warning" in md
    assert "Yes (WeChat, sending materials)" in md
    assert "response latency: mono recording" in md


def test_markdown_without_times():
    md = render_markdown(zh_report(timed=False))
    assert "仅文字转写" in md
    assert "[—] 销售: " in md


# ----------------------------------------------------------------------------------------------- html


@pytest.mark.parametrize("make", [zh_report, en_report])
def test_html_self_contained(make):
    report = make()
    html = render_html(report, None)
    assert _urls(html) == []
    assert "<svg" in html
    assert 'id="turn-0"' in html
    for turn in report.turns:
        assert f'data-t="{secs(turn.start)}"' in html
        assert f'id="turn-{turn.index}"' in html
    assert "<audio" not in html
    assert "<link" not in html and "src=" not in html  # no external stylesheet/script/image


def test_html_audio_src_is_the_only_url():
    src = "https://example.com/calls/zh-0001.mp3"
    html = render_html(zh_report(), src)
    assert '<audio id="player" controls' in html and f'src="{src}"' in html
    assert len(_urls(html)) == 1
    relative = render_html(zh_report(), "../audio/call one.mp3")
    assert _urls(relative) == []
    assert 'src="../audio/call one.mp3"' in relative


def test_html_escapes_transcript():
    html = render_html(zh_report(), None)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert" not in html
    en = render_html(en_report(), None)
    assert "a &lt; b &amp; c &gt; d" in en


def test_html_language_and_verdicts():
    zh = render_html(zh_report(), None)
    assert '<html lang="zh-CN">' in zh
    assert "辅导要点" in zh and "通话记录" in zh and "做得好" in zh
    assert "本报告来自文字转写" not in zh  # a recording exists, it is just not embedded
    en = render_html(en_report(), None)
    assert '<html lang="en">' in en
    assert "Coaching points" in en and "Missed" in en and "Warning" in en
    assert "辅导要点" not in en
    for point in en_report().coaching:
        # messages are escaped text; the curly quotes survive as-is
        assert point.message.replace("'", "&#39;") in en


def test_html_timeline_markers_and_highlights():
    report = zh_report()
    html = render_html(report, "data:audio/mpeg;base64,AAAA")
    svg = html[
        html.index('<svg id="timeline"') : html.index('<line id="playhead"')
    ]  # nested <svg> markers inside
    assert svg.count('class="bar ') == len(report.turns)
    assert svg.count('class="mk mk-meeting"') == len({e.start for e in report.meeting.evidence})
    assert svg.count('class="mk mk-signal"') == len({s.start for s in report.distraction.signals})
    assert "<title>" in svg
    # evidence quotes highlighted inside their transcript row
    row4 = html[html.index('id="turn-4"') : html.index('id="turn-5"')]
    assert f">{ZH_PROPOSAL}</mark>" in row4
    row5 = html[html.index('id="turn-5"') : html.index('id="turn-6"')]
    assert f">{ZH_ANSWER}</mark>" in row5
    # coaching evidence links to transcript rows and seeks
    assert 'href="#turn-4" data-t="18.459"' in html
    assert '<button class="ts" type="button" data-t="18.459">00:18</button>' in html


def test_html_markers_at_same_time_are_merged():
    html = render_html(en_report(), None)
    assert html.count('class="mk mk-meeting"') == 1  # both downgrade quotes start at 6.5 s
    assert "I&#39;ll send you the deck" in html and "set up a time by WeChat" in html


def test_html_highlight_escapes_quote_with_markup():
    report = en_report()
    report.turns[4].text = "say <b>meet</b> & go"
    report.meeting.evidence.append(
        Evidence(turn=4, start=14.5, quote="<b>meet</b>", kind="proposal", reason="unspecified")
    )
    html = render_html(report, None)
    assert "say <mark" in html
    assert ">&lt;b&gt;meet&lt;/b&gt;</mark> &amp; go" in html
    assert "<b>meet</b>" not in html


def test_html_without_times_has_no_timeline():
    report = zh_report(timed=False)
    html = render_html(report, None)
    assert "<svg" not in html
    assert "转写没有时间信息" in html
    assert "本报告来自文字转写，没有录音。" in html
    assert 'id="turn-0"' in html and 'class="ts"' not in html
    assert _urls(html) == []


def test_html_empty_report():
    report = en_report()
    report.turns = []
    report.coaching = []
    report.meeting.evidence = []
    report.distraction.signals = []
    html = render_html(report, None)
    assert "<svg" not in html and "No coaching points." in html
    assert render_markdown(report)


# ----------------------------------------------------------------------------------------------- audio


def test_audio_data_uri(tmp_path: Path):
    payload = b"ID3\x03\x00fake-mp3-bytes" * 10
    mp3 = tmp_path / "call.MP3"
    mp3.write_bytes(payload)
    uri = audio_data_uri(mp3)
    assert uri is not None and uri.startswith("data:audio/mpeg;base64,")
    assert base64.b64decode(uri.split(",", 1)[1]) == payload
    assert audio_data_uri(mp3, max_bytes=len(payload) - 1) is None
    assert audio_data_uri(mp3, max_bytes=len(payload)) is not None
    for suffix, mime in (
        (".wav", "audio/wav"),
        (".m4a", "audio/mp4"),
        (".ogg", "audio/ogg"),
        (".opus", "audio/ogg"),
        (".flac", "audio/flac"),
    ):
        other = tmp_path / f"call{suffix}"
        other.write_bytes(b"x")
        assert audio_data_uri(other).startswith(f"data:{mime};base64,")


def test_html_with_embedded_audio(tmp_path: Path):
    mp3 = tmp_path / "call.mp3"
    mp3.write_bytes(b"\xff\xfb" * 64)
    uri = audio_data_uri(mp3)
    html = render_html(zh_report(), uri)
    assert f'src="{uri}"' in html
    assert _urls(html) == []


def test_talk_and_customer_in_both_views():
    from pipeline.report.schema import Customer, Talk

    report = zh_report().model_copy(update={
        "talk": Talk(rep_talk_share=0.62, longest_rep_monologue_s=41.0, rep_questions=3, customer_questions=1,
                     customer_interruptions=0),
        "customer": Customer(name="王总", company="华宫机械", key="王总 · 华宫机械", turn=0, quote="王总"),
    })
    md, html = render_markdown(report), render_html(report, None)
    assert "## 说话情况" in md and "62%" in md and "41 s" in md and "王总 · 华宫机械" in md
    talk = re.search(r'<section id="talk">(.*?)</section>', html, re.S)
    assert talk is not None and "62%" in talk.group(1) and "王总 · 华宫机械" in talk.group(1)
    assert '<section id="talk">' not in render_html(zh_report(), None)  # nothing to show: no section
