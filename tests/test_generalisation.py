"""What real agents say: viewings, soft invitations, arranging, facts, online tours, negations, listings — and
verdicts that say how sure they are and agree with each other."""

from __future__ import annotations

import json

import pytest

from pipeline.analysis import calibration
from pipeline.analysis.uncertainty import uncertain_verdicts
from pipeline.analyze import Analyzer
from pipeline.report.schema import Distraction, Meeting, TurnOut
from pipeline.training import calibration as calibration_fit
from pipeline.transcript import transcript_from_dict


@pytest.fixture(scope="module")
def analyze():
    analyzer = Analyzer()

    def run(language: str, *turns: str):
        data = {"language": language, "turns": [{"speaker": "rep" if t[0] == "R" else "customer", "text": t[2:]} for t in turns]}
        return analyzer.analyze_transcript(transcript_from_dict(data), "call")

    return run


@pytest.mark.parametrize("turns, pushed", [
    (("C:这个是毛坯还是装修的？", "R:装修的", "R:可以实地过来看一下"), True),  # soft invitation
    (("C:刚才那个房子的税费是买方出吗", "R:要不带你实地看一下那套房子，我们有钥匙"), True),
    (("C:想看这两间", "R:我帮您约好。", "R:明天几点?"), True),  # the rep arranging the viewing
    (("C:什么时候可以看房", "R:您啥时候方便"), True),  # asking the customer's time, the talk being about viewing
    (("C:那能看房吗", "R:可以，您现在在哪里，我来接您"), True),
    (("C:这一套方便看房吗", "R:这一套有钥匙方便看房"), False),  # a fact, not an invitation
    (("C:我想看看", "R:我在线上带您看看吧"), False),  # an online tour is not in person
    (("C:能看吗", "R:可以", "R:您方便留个电话吗"), False),  # agreeing, then only a contact request
    (("R:那到我们校区得一个钟头，带孩子跑一趟太折腾了，要不先别过来了，我发您个线上试听链接",), False),  # negated
    (("C:那周末能去看看吗？", "R:那边挺远的，您要不先看看视频"), False),
])
def test_real_agent_chat_pushes(analyze, turns, pushed):
    assert analyze("zh", *turns).meeting.pushed is pushed


@pytest.mark.parametrize("turns, pushed", [
    (("R:It's hard to tell on a screen. Feel free to pop into our showroom and see the boards.",), True),
    (("R:The easiest next step is for me to come round with our designer and measure up, Wednesday at 2?",), True),
    (("R:Whatever they quote, come back in Saturday morning and give me a shot at it in person.",), True),
    (("R:Right, so I won't drag you all the way into town for a viewing, it's a schlep. I'll film a walkthrough.",), False),
    (("R:For a team your size there's really no need for us to come in, onboarding is all self-serve.",), False),
    (("R:Okay, what can I do for you?", "C:I'm looking for a train to Cambridge."), False),
])
def test_english_pushes_and_negations(analyze, turns, pushed):
    assert analyze("en", *turns).meeting.pushed is pushed


@pytest.mark.parametrize("last_rep_turn, pushed", [
    ("R:那我后天下午三点，准时", False),  # restates the call-back's time (a turn the recogniser cut short)
    ("R:那我后天下午三点准时过去", True),  # the rep comes over at that time: a visit
])
def test_a_time_restated_after_a_call_back_confirms_the_call(analyze, last_rep_turn, pushed):
    call = analyze("zh", "R:您在开车是吧，那您先忙，我后天下午三点再给您打电话，行吗？", "C:行，后天下午三点。", last_rep_turn, "C:好。")
    assert call.meeting.pushed is pushed


def test_listings_and_contact_requests_are_downgrades_but_logistics_after_a_proposal_are_not(analyze):
    listings = analyze("zh", "C:这套还能便宜吗", "R:价格可以商量", "R:这几套您也可以考虑看下")
    assert listings.meeting.downgraded and listings.meeting.downgrade_channels == ["materials"]
    contact = analyze("zh", "C:中学呢", "R:市桥中学是电脑派位的", "R:好的方便留个电话给我吗")
    assert contact.meeting.downgrade_channels == ["phone"]
    logistics = analyze("zh", "C:首付多少", "R:可以的", "R:晚上有时间看吗？", "R:您留个电话微信，到时方便联系")
    assert logistics.meeting.pushed and not logistics.meeting.downgraded
    via_wechat = analyze("zh", "R:我想过去拜访您", "C:可以啊，你来吧。", "R:那我微信上跟您约个时间。")
    assert via_wechat.meeting.downgraded  # the time left to WeChat routes the push through it


@pytest.mark.parametrize("turns, pushed, concrete", [
    (("C:这两套什么时间能看呢？", "R:周六上午10点"), True, True),  # a bare time answering when to view
    (("C:这个月能交房吗", "R:要看看不嘛"), True, False),  # an A-not-A viewing question
    (("C:能看吗", "R:可以的", "R:您下午能过来吗？"), True, True),
    (("C:明天上午也顺便看看隔壁那套吧", "R:好的没问题我一起约了"), True, False),  # booking what was asked
    (("C:价格能谈吗", "R:好的，约好时间联系您"), True, False),  # arranged, the time to follow by phone
    (("C:这个朝向怎么样", "R:请问您是在看这套房子吗"), False, False),  # browsing, not an offer
    (("C:什么时候能交房", "R:您看吗", "R:线上可以"), False, False),  # the offer is of an online tour
    (("C:几点到？", "R:九点半到，带两个安装师傅"), False, False),  # a time, but no talk of meeting
])
def test_real_agent_chat_pushes_of_more_kinds(analyze, turns, pushed, concrete):
    meeting = analyze("zh", *turns).meeting
    assert (meeting.pushed, meeting.concrete) == (pushed, concrete)


@pytest.mark.parametrize("turns, channels", [
    (("C:物业费多少", "R:两块五", "R:金色家园考虑吗？"), ["materials"]),  # another listing offered by name
    (("C:有电梯吗", "R:没有", "R:你可以考虑买旁边小区的小户型"), ["materials"]),
    (("C:有车位吗", "R:有的", "R:方便留一下电话吗？我核实清楚联系您"), ["phone"]),
    (("C:能看吗", "R:可以，您什么时候有时间看房？", "R:提前一天通知我就好"), ["passive"]),
    (("C:还有带电梯的小区嘛？", "R:隔壁金色家园有一套三房"), []),  # the listing the customer asked for
    (("C:采光好吗", "R:你等下 我去vr看下"), []),  # the agent checking it himself
    (("C:要预约吗", "R:看房需要提前联系"), []),  # a fact about viewing
    (("C:中学呢？", "R:这几套都是朝南的"), []),  # speaking of listings already shown
])
def test_real_agent_chat_downgrades_of_more_kinds(analyze, turns, channels):
    assert analyze("zh", *turns).meeting.downgrade_channels == channels


def test_a_concrete_call_back_to_a_distracted_customer_is_the_second_best_move(analyze):
    report = analyze("zh", "R:王总您好，我是华工机械的小李，想跟您介绍一下我们的新款折弯机。", "C:我在开车呢，不方便。",
                     "R:好的您先开车，那我今天下午四点再给您打电话，行吗？", "C:行，四点吧。")
    verdicts = {(p.principle, p.verdict) for p in report.coaching}
    assert ("customer_state", "good") in verdicts and ("meeting_push", "warning") in verdicts
    assert ("meeting_push", "missed") not in verdicts and not any(p == "channel" for p, _ in verdicts)
    pitched_on = analyze("zh", "R:王总您好，我是华工机械的小李。", "C:我在开车呢，不方便。", "R:我们新款折弯机快两成，价格也好。",
                         "C:嗯嗯。", "R:那我回头再给您打电话吧。")
    assert ("meeting_push", "missed") in {(p.principle, p.verdict) for p in pitched_on.coaching}


def test_probabilities_follow_what_the_verdict_rests_on(analyze):
    strong = analyze("zh", "R:周四下午两点我去您厂里当面演示一下，您看行吗？", "C:行。").meeting
    nothing = analyze("zh", "R:这款机器速度快两成。", "C:价格多少？").meeting
    assert strong.pushed_basis == "meeting_words" and strong.pushed_probability > 0.9
    assert nothing.pushed_basis == "nothing" and nothing.pushed_probability < 0.1
    assert strong.concrete_basis == "clock" and strong.concrete_probability > 0.9


def test_the_calibration_is_counted_on_the_current_tuning_data():
    committed = json.loads(calibration.model_path().read_text("utf-8"))
    assert committed["training"]["data_sha256"] == calibration_fit.data_sha256(), (
        "tuning data changed: run `callcoach models prepare calibration` and commit pipeline/analysis/calibration.json")
    assert committed["training"]["calls"] >= 700


def _meeting(**values) -> Meeting:
    base = dict(pushed=True, concrete=False, outcome="none", downgraded=False, downgrade_channels=[], attempts=1,
                distance_excuse=False, invited_via_wechat=False, commitment_to_return=False, proposals=[], evidence=[],
                pushed_probability=0.99, pushed_basis="meeting_words", downgraded_probability=0.05,
                downgraded_basis="nothing", concrete_probability=None, concrete_basis=None)
    return Meeting(**{**base, **values})


def test_uncertain_verdicts_say_where_to_listen():
    from pipeline.report.schema import MeetingProposal

    calm = Distraction(distracted=False, score=0.05, threshold=0.35, rep_checked_availability=False, rep_adapted=None,
                       adapted_turn=None, signals=[], not_measured=[])
    proposal = MeetingProposal(turn=1, start=12.5, quote="q", kind="viewing", when=[], where=[], time=None)
    turns = [TurnOut(index=0, speaker="customer", start=0.0, end=3.0, text="a"),
             TurnOut(index=1, speaker="rep", start=12.5, end=15.0, text="b", asr_confidence=0.9)]
    assert uncertain_verdicts(_meeting(proposals=[proposal]), calm, turns) == []
    weak = uncertain_verdicts(_meeting(proposals=[proposal], pushed_probability=0.6, pushed_basis="viewing_offer"), calm, turns)
    assert [(u.finding, u.reason, u.start) for u in weak] == [("meeting.pushed", "weak_evidence", 12.5)]
    turns[1] = turns[1].model_copy(update={"asr_confidence": 0.4})
    misheard = uncertain_verdicts(_meeting(proposals=[proposal]), calm, turns)
    assert [(u.finding, u.reason) for u in misheard] == [("meeting.pushed", "low_asr_confidence")]
