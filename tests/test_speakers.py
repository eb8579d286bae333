from pipeline.analysis.call import parse_turns
from pipeline.analysis.roles import decide_roles
from pipeline.transcript import Transcript, Turn


def _call(rep_channel: int) -> Transcript:
    customer = 1 - rep_channel
    lines = [
        (customer, "喂，哪位？"),
        (rep_channel, "王总您好，我是华工机械的小李，现在说话方便吗？"),
        (customer, "方便，你说。"),
        (rep_channel, "我们的新款折弯机价格有优惠，周四下午我去您厂里当面演示一下？"),
        (customer, "行，周四见。"),
    ]
    turns = [Turn(i, "unknown", text, float(i), i + 0.9, channel=ch) for i, (ch, text) in enumerate(lines)]
    return Transcript("zh", turns, 5.0)


def test_rep_found_on_either_channel_from_what_they_say():
    for rep_channel in (0, 1):
        transcript = _call(rep_channel)
        decision = decide_roles(transcript, parse_turns(transcript), "auto", 2)
        assert decision.rep_channel == rep_channel and decision.method == "stereo_content"
        assert decision.confidence > 0.5 and "我是华工机械" in decision.basis
        assert [t.speaker for t in transcript.turns][:2] == ["customer", "rep"]


def test_forced_channel_wins_and_mono_stays_unknown():
    transcript = _call(0)
    forced = decide_roles(transcript, parse_turns(transcript), "right", 2)
    assert forced.rep_channel == 1 and forced.method == "stereo_forced"
    mono = _call(0)
    decision = decide_roles(mono, parse_turns(mono), "auto", 1)
    assert decision.method == "none" and decision.rep_channel is None
    assert {t.speaker for t in mono.turns} == {"unknown"}
