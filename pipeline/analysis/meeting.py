"""Did the rep push for an in-person meeting, concretely, and did he settle for a weaker channel?

Rules over cue spans (patterns/cues_<lang>.json), judged clause by clause so that "上次见面"
(a past meeting) or "腾讯会议" (video) next to a meeting word does not count as a push. The
customer's answer is read by a trained reply classifier, and rep turns the cues do not explain are
read by a trained proposal classifier (pipeline.language.classifiers).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from spacy.tokens import Span

from pipeline.analysis import calibration
from pipeline.analysis.call import Call
from pipeline.language import classifiers
from pipeline.language.nlp import QUOTE_TRIM, clauses, cue_labels, cues_in, quote_of
from pipeline.language.timeplace import parse_time
from pipeline.report.schema import (
    CHANNELS,
    Channel,
    ConcreteBasis,
    DowngradeBasis,
    Evidence,
    EvidenceKind,
    Meeting,
    MeetingKind,
    MeetingProposal,
    NoPushBasis,
    NotAPushReason,
    Outcome,
    ProposedTime,
    PushBasis,
)

MEETING_CUES: dict[str, MeetingKind] = {
    "MEET_VISIT": "visit_customer", "MEET_INVITE": "invite_to_our_site", "MEET_NEUTRAL": "neutral_place",
}
# A meeting word in the same clause as one of these is not a proposal to meet.
BLOCKERS: dict[str, NotAPushReason] = {
    "PAST": "past_meeting", "VIDEO": "video_meeting", "SERVICE": "service_logistics", "NEGATED": "negated_proposal",
}
CHANNEL_CUES: dict[str, Channel] = {
    "CONTACT": "phone",  # asking for or giving a number with no meeting: the next step is a call
    "LISTINGS": "materials",  # sending other listings instead of a viewing (chat)
    "WECHAT": "wechat",
    "PHONE_LATER": "phone",
    "EMAIL": "email",
    "VIDEO": "video",
    "MATERIALS": "materials",
    "PASSIVE": "passive",
}
# A rep turn the proposal classifier gives at least this is a near miss when no cue explains it.
NEAR_MISS_PROBABILITY = 0.5
# How many customer turns after the last proposal are read for the answer.
ANSWER_WINDOW_TURNS = 3


@dataclass
class _Proposal:
    turn: int
    clause: Span
    kind: MeetingKind
    when: list[str] = field(default_factory=list)
    where: list[str] = field(default_factory=list)
    time_text: str = ""  # the words the time is read from (this turn, or the rep's next turn)
    basis: PushBasis = "meeting_words"  # what made it a proposal (how sure that is: analysis/calibration.py)


def meeting_kind(labels: set[str]) -> MeetingKind | None:
    for cue, kind in MEETING_CUES.items():
        if cue in labels:
            return kind
    if "MEET_GENERIC" in labels:
        return "unspecified"
    if "PLACE" in labels and "TIME" in labels:  # "周四上午楼下星巴克" names a meeting without a verb
        return "neutral_place"
    return None


# What makes the talk about meeting or viewing (then asking for the customer's time is arranging it).
MEETING_TALK = {"MEET_VISIT", "MEET_INVITE", "MEET_NEUTRAL", "MEET_GENERIC", "VIEW_TOPIC", "VIEW_FACT", "ARRANGE", "PICKUP"}
# A turn that offers an online tour speaks of it throughout ("您方便线上看房吗？我可以带您看下"), unless a clause
# insists on being there in person.
IN_PERSON = {"实地", "当面", "现场", "到店", "过来", "面谈", "去看"}
# A time restated after a call-back is a visit after all when the rep says he comes over ("…准时过去").
COMES_OVER = IN_PERSON | {"过去"}
CONTEXT_TURNS = 3  # how many turns back the talk counts as the context of a rep's question
# Asking "when are you free?" next to these is about a call back or a contact, not a meeting.
NOT_ABOUT_MEETING = {"PHONE_LATER", "CONTACT", "WECHAT", "EMAIL"}
# A rep turn offering one of these is explained: the classifier does not get to call it a push.
# Nor does an agent's service phrase ("请您稍等", "what can I do for you?"): a service desk, not a sale.
OTHER_CHANNEL = {"VIDEO", "PHONE_LATER", "CONTACT", "WECHAT", "EMAIL", "MATERIALS", "LISTINGS", "SERVICE_OFFER"}


def clause_meeting_kind(labels: set[str], context: set[str]) -> tuple[MeetingKind, PushBasis] | None:
    """What a rep clause proposes and on what basis, read with its context (the labels of the last turns).

    Strong cues name the meeting themselves; a viewing word counts only as an offer or a question to the
    customer and not as a fact ("可以带您实地看一下" vs "看房很方便"); the rep booking it ("我约一下房东"),
    picking the customer up, or asking for their time while the talk is about meeting, counts too.
    """
    kind = meeting_kind(labels)
    if kind is not None:
        return kind, "meeting_words"
    viewing = bool((labels | context) & {"VIEW_TOPIC", "ARRANGE", "PICKUP"})
    if "PICKUP" in labels:
        return ("viewing" if viewing else "neutral_place"), "pickup"
    if "VIEW_TOPIC" in labels and "INVITE_ASK" in labels and not labels & {"VIEW_FACT", "BROWSING"}:
        return "viewing", "viewing_offer"
    if "ARRANGE" in labels:
        return ("viewing" if viewing else "unspecified"), "arranging"
    if "ASK_TIME" in labels and (context | labels) & MEETING_TALK and not labels & NOT_ABOUT_MEETING:
        return ("viewing" if viewing else "unspecified"), "asking_time"
    if "ASK_DAYTIME" in labels and not labels & NOT_ABOUT_MEETING:
        return ("viewing" if viewing else "unspecified"), "asking_time"
    if "ARRANGE_SOFT" in labels and (context | labels) & MEETING_TALK:
        return ("viewing" if viewing else "unspecified"), "arranging"
    return None


# A clause that is nothing but a time ("下午2点钟") answers "什么时间能看呢？": the agent sets the time. At most
# this many characters of it may be other words (钟, 吧, 呢).
TIME_ANSWER_OTHER_CHARS = 2


def _only_a_time(clause: Span, labels: set[str]) -> bool:
    if "TIME" not in labels or labels - {"TIME", "ACCEPT"}:
        return False
    said = sum(len(span.text) for span in cues_in(clause, "TIME"))
    return len(clause.text.strip(QUOTE_TRIM + "？?！!~")) - said <= TIME_ANSWER_OTHER_CHARS


def _last_customer_labels(call: Call, index: int) -> set[str]:
    """The cues of the customer's last turn before ``index``, however far back: in a chat the agent may send
    five messages after the customer asked "能看吗", and a time question in the fifth still answers it."""
    for turn in reversed(call.transcript.turns[:index]):
        if not call.rep_side(turn):
            return cue_labels(call.docs[turn.index])
    return set()


def _evidence(
    call: Call,
    turn: int,
    span: Span,
    kind: EvidenceKind,
    reason: MeetingKind | Outcome | NotAPushReason | None = None,
    channels: list[Channel] | None = None,
) -> Evidence:
    return Evidence(turn=turn, start=call.transcript.turns[turn].start, quote=quote_of(span), kind=kind,
                    reason=reason, channels=channels or [], reading=reading_of_span(span))


def reading_of_span(span: Span) -> str | None:
    """The corrected reading of a quoted span, when it differs from what the recogniser wrote."""
    quote = quote_of(span)
    read = span.doc._.reading[span.start_char : span.end_char].strip(QUOTE_TRIM) if span.doc._.reading else None
    return read if read and read != quote else None


def _unique(texts: list[str]) -> list[str]:
    return list(dict.fromkeys(texts))


def _find_proposals(call: Call, evidence: list[Evidence], use_classifier: bool = True) -> tuple[list[_Proposal], bool, bool]:
    """Rep clauses proposing an in-person meeting; also returns whether the rep used distance as an excuse,
    and whether a rep turn read half like a push to the classifier (a near miss)."""
    proposals: list[_Proposal] = []
    distance_excuse = near_miss = False
    for turn, doc in zip(call.transcript.turns, call.docs, strict=True):
        if not call.rep_side(turn):
            continue
        turn_labels = cue_labels(doc)
        talked_out = "SELF_CANCEL" in turn_labels
        proposed_here = blocked_here = False
        context = set().union(*(cue_labels(d) for d in call.docs[max(0, turn.index - CONTEXT_TURNS) : turn.index]))
        customer_labels = _last_customer_labels(call, turn.index)
        context |= customer_labels
        # "我可以VR" / "带您看一下", "您现在有空吗？" / "可以线上看房哦": one sentence over two messages
        before = call.transcript.turns[turn.index - 1] if turn.index else None
        previous_rep_labels = cue_labels(call.docs[before.index]) if before is not None and before.speaker == turn.speaker else set()
        after = call.transcript.turns[turn.index + 1] if turn.index + 1 < len(call.transcript.turns) else None
        next_rep_labels = cue_labels(call.docs[after.index]) if after is not None and after.speaker == turn.speaker else set()
        if after is not None and "先" in after.text:  # "那我先带你线上看一下": online first, the visit still stands
            next_rep_labels = set()
        # "什么时间能看呢？" answered with a bare time, unless the talk is of a service visit or a video call
        customer_asked_when = ("ASK_TIME" in customer_labels and bool(context & MEETING_TALK)
                               and not context & {"SERVICE", "VIDEO"})
        for clause in clauses(doc):
            labels = cue_labels(clause)
            read = clause_meeting_kind(labels, context | turn_labels)
            if read is None and customer_asked_when and _only_a_time(clause, labels):
                read = ("viewing" if context & {"VIEW_TOPIC", "VIEW_FACT"} else "unspecified"), "arranging"
            if read is None:
                continue
            kind, basis = read
            blocked = [why for cue, why in BLOCKERS.items() if cue in labels]
            # the next message's online tour explains a bare time question or offer ("您看吗" / "线上可以")
            video_next = "VIDEO" in next_rep_labels and basis in ("asking_time", "arranging", "viewing_offer")
            if ("VIDEO" in turn_labels | previous_rep_labels or video_next) and not blocked and not any(w in clause.text for w in IN_PERSON):
                blocked.append(BLOCKERS["VIDEO"])
            if "SERVICE" in labels and "REP_ALONGSIDE" in labels:
                blocked.remove(BLOCKERS["SERVICE"])  # "我带工程师去您厂里": the rep goes too
            if blocked:
                blocked_here = True
                evidence.append(_evidence(call, turn.index, clause, "not_a_push", blocked[0]))
                continue
            if talked_out:
                evidence.append(_evidence(call, turn.index, clause, "talked_out_of_meeting"))
                continue
            if proposed_here:
                continue  # one proposal per turn; the first clause is the quote
            proposed_here = True
            proposals.append(
                _Proposal(
                    turn.index,
                    clause,
                    kind,
                    when=_unique([s.text for s in cues_in(doc, "TIME")]),
                    where=_unique([s.text for s in cues_in(doc, "PLACE")]),
                    time_text=doc._.reading,
                    basis=basis,
                )
            )
        # What the cue lists miss ("fit down together", "过来坐坐聊聊?") the trained classifier may catch,
        # unless a cue already explained why this turn is not a push (an online tour, a weaker channel).
        # A turn that only restates a time right after a call-back was offered confirms the call ("我明天上午十点
        # 再给您打电话…" → "那我明天上午十点，准时"), unless it says the rep comes over ("…准时过去").
        confirms_callback = ("PHONE_LATER" in context and "TIME" in turn_labels and turn_labels <= {"TIME", "ACCEPT"}
                             and not any(word in turn.text for word in COMES_OVER))
        unexplained = not (proposed_here or blocked_here or talked_out or confirms_callback or turn_labels & OTHER_CHANNEL)
        push_probability = _push_probability(turn.text, call.transcript.language) if use_classifier and unexplained else 0.0
        near_miss = near_miss or push_probability >= NEAR_MISS_PROBABILITY
        if push_probability >= classifiers.PROPOSALS.min_confidence:
            proposed_here = True
            proposals.append(
                _Proposal(
                    turn.index,
                    doc[:],
                    meeting_kind(turn_labels) or "unspecified",
                    when=_unique([s.text for s in cues_in(doc, "TIME")]),
                    where=_unique([s.text for s in cues_in(doc, "PLACE")]),
                    time_text=doc._.reading,
                    basis="classifier",
                )
            )
        # Distance is an excuse only when the rep did not propose to meet anyway ("虽然远，但我周六过去").
        if "DISTANCE" in turn_labels and not proposed_here:
            distance_excuse = True
            span = cues_in(doc, "DISTANCE")[0]
            clause = next(c for c in clauses(doc) if c.start <= span.start < c.end)
            evidence.append(_evidence(call, turn.index, clause, "distance_excuse"))
    return proposals, distance_excuse, near_miss


def _push_probability(text: str, language: str) -> float:
    """The proposal classifier's probability that this rep turn asks to meet (0 without a classifier)."""
    return classifiers.scores(classifiers.PROPOSALS, text, language).get("push", 0.0)


def read_reply(text: str, labels: set[str], language: str) -> Outcome | Literal["other"]:
    """accepted / declined / deferred / other for one customer turn after a proposal.

    The trained reply classifier reads it first; when it is unsure, the explicit cues decide
    (benchmarks/text_models_cv.py compares the two orders on held-out replies).
    """
    label, probability = classifiers.classify(classifiers.ANSWERS, text, language)
    if probability >= classifiers.ANSWERS.min_confidence:
        return label  # type: ignore[return-value]  # the classifier's labels are these four
    if "DECLINE" in labels or (labels & set(CHANNEL_CUES) and meeting_kind(labels) is None):
        return "declined"  # a refusal, or a counter-offer of a weaker channel ("视频演示一下就行")
    if "DEFER" in labels:
        return "deferred"
    if "ACCEPT" in labels:
        return "accepted"
    return "other"


def _customer_answer(call: Call, after_turn: int) -> tuple[Outcome, int | None]:
    """The customer's answer to a proposal: the first of their next few turns that answers it."""
    seen = 0
    for turn, doc in zip(call.transcript.turns[after_turn + 1 :], call.docs[after_turn + 1 :], strict=True):
        if not call.customer_side(turn):
            continue
        answer = read_reply(turn.text, cue_labels(doc), call.transcript.language)
        if answer != "other":
            return answer, turn.index
        seen += 1
        if seen >= ANSWER_WINDOW_TURNS:
            break
    return "none", None


def proposal_turns(call: Call) -> list[int]:
    """Turns in which the rep proposes to meet in person, by the cue rules alone (used to mine training data)."""
    return [proposal.turn for proposal in _find_proposals(call, [], use_classifier=False)[0]]


def analyze(call: Call) -> Meeting:
    evidence: list[Evidence] = []
    proposals, distance_excuse, near_miss = _find_proposals(call, evidence)
    turns = call.transcript.turns

    # A later proposal counts as another attempt only after the customer pushed back;
    # proposals after an acceptance are confirmations ("好的，周四下午两点准时到").
    attempts = 0
    outcome: Outcome = "none"
    answer_turn: int | None = None
    counted: list[_Proposal] = []
    for proposal in proposals:
        if outcome == "accepted":
            break
        if not counted or outcome in ("declined", "deferred"):
            attempts += 1
        counted.append(proposal)
        outcome, answer_turn = _customer_answer(call, proposal.turn)
        evidence.append(_evidence(call, proposal.turn, proposal.clause, "proposal", proposal.kind))
        if answer_turn is not None:
            evidence.append(_evidence(call, answer_turn, call.docs[answer_turn][:], "answer", outcome))
    proposals = counted
    # A day/time named in the rep's next turn still makes the last proposal concrete ("周四下午两点吧").
    if proposals:
        last = proposals[-1]
        next_rep = next((t for t in turns[last.turn + 1 :] if t.speaker == "rep"), None)
        if next_rep is not None and not last.when:
            last.when = _unique([s.text for s in cues_in(call.docs[next_rep.index], "TIME")])
            last.time_text = call.docs[next_rep.index]._.reading if last.when else last.time_text

    invited_via_wechat = any("WECHAT" in cue_labels(call.docs[p.turn]) for p in proposals)
    commitment_to_return = False
    for turn, doc in zip(turns, call.docs, strict=True):
        if turn.speaker != "customer" and "COMMIT_RETURN" in cue_labels(doc):
            commitment_to_return = True
            span = cues_in(doc, "COMMIT_RETURN")[0]
            clause = next(c for c in clauses(doc) if c.start <= span.start < c.end)
            evidence.append(_evidence(call, turn.index, clause, "commitment_return"))

    accepted_at = answer_turn if outcome == "accepted" else None
    channels: set[Channel] = set()
    downgrade_cues: set[str] = set()
    logistics_only = False
    # Numbers and WeChat serve a proposed meeting unless the customer turned it down ("别来了…那加个微信吧").
    meeting_alive = bool(proposals) and outcome not in ("declined", "deferred")
    for turn, doc in zip(turns, call.docs, strict=True):
        # Sending the address of a meeting already agreed is logistics, not a downgrade; leaving its time to
        # WeChat is not ("那我微信上跟您约个时间").
        after_acceptance = accepted_at is not None and turn.index > accepted_at
        asked_for_others = "ASK_OTHERS" in _last_customer_labels(call, turn.index)  # "还有带电梯的嘛？"
        for clause in clauses(doc):
            labels = cue_labels(clause)
            if "PAST" in labels or (after_acceptance and "SCHEDULE_VIA" not in labels):
                continue
            found = [CHANNEL_CUES[cue] for cue in CHANNEL_CUES if cue in labels]
            if "CHANNEL_CONTRAST" in labels:  # "电话里说不清楚" argues for the meeting
                found = [c for c in found if c not in ("phone", "video", "materials")]
            address = "ADDRESS" in labels and not labels & {"PHONE_LATER", "VIDEO", "SCHEDULE_VIA"}  # "微信上给你发个位置"
            if "AGENT_CHECKS" in labels:  # "我去vr看下": the agent looks it up himself
                found = [c for c in found if c != "video"]
            if meeting_alive and (address or labels & {"CONTACT", "WECHAT"} and not labels & {"PHONE_LATER", "VIDEO", "MATERIALS", "LISTINGS", "SCHEDULE_VIA"}):
                logistics_only = True
                continue  # the number or WeChat to fix the time of the viewing proposed is logistics
            if (proposals or asked_for_others) and "LISTINGS" in labels and not labels & {"MATERIALS"}:
                found = [c for c in found if c != "materials"]  # other listings beside a real invitation, or asked for
            if not found:
                continue
            if call.rep_side(turn):
                channels.update(found)
                downgrade_cues.update(labels & set(CHANNEL_CUES))
                evidence.append(_evidence(call, turn.index, clause, "downgrade", channels=found))
            elif turn.speaker == "customer" and _rep_goes_along(call, turn.index):
                if "LISTINGS" in labels and "MATERIALS" not in labels:  # a customer naming listings offers nothing
                    found = [c for c in found if c != "materials"]
                if not found:
                    continue
                channels.update(found)
                downgrade_cues.add("went_along")
                evidence.append(_evidence(call, turn.index, clause, "downgrade_accepted", channels=found))

    concrete = any(p.when or p.where for p in proposals)
    times = [parse_time(p.time_text, call.transcript.language) if p.when else None for p in proposals]
    pushed_basis = _push_basis(proposals, evidence, near_miss)
    downgraded_basis = _downgrade_basis(downgrade_cues, logistics_only)
    concrete_basis = _concrete_basis(proposals, times)
    return Meeting(
        pushed=bool(proposals),
        concrete=concrete,
        outcome=outcome if proposals else "none",
        downgraded=bool(channels),
        downgrade_channels=[c for c in CHANNELS if c in channels],
        attempts=attempts,
        distance_excuse=distance_excuse,
        invited_via_wechat=invited_via_wechat,
        commitment_to_return=commitment_to_return,
        proposals=[
            MeetingProposal(
                turn=p.turn,
                start=turns[p.turn].start,
                quote=quote_of(p.clause),
                reading=reading_of_span(p.clause),
                kind=p.kind,
                when=p.when,
                where=p.where,
                time=time,
            )
            for p, time in zip(proposals, times, strict=True)
        ],
        evidence=evidence,
        pushed_probability=calibration.probability("meeting.pushed", pushed_basis),
        pushed_basis=pushed_basis,
        downgraded_probability=calibration.probability("meeting.downgraded", downgraded_basis),
        downgraded_basis=downgraded_basis,
        concrete_probability=None if concrete_basis is None else calibration.probability("meeting.concrete", concrete_basis),
        concrete_basis=concrete_basis,
    )


# How much each basis counts when several proposals rest on different ones (the strongest decides).
_BASIS_ORDER: tuple[PushBasis, ...] = ("meeting_words", "pickup", "viewing_offer", "arranging", "asking_time", "classifier")


def _push_basis(proposals: list[_Proposal], evidence: list[Evidence], near_miss: bool) -> PushBasis | NoPushBasis:
    if proposals:
        return min((p.basis for p in proposals), key=_BASIS_ORDER.index)
    if any(e.kind in ("not_a_push", "talked_out_of_meeting") for e in evidence):
        return "blocked"
    return "near_miss" if near_miss else "nothing"


def _downgrade_basis(cues: set[str], logistics_only: bool) -> DowngradeBasis:
    if cues - {"CONTACT", "LISTINGS", "went_along"}:
        return "channel_words"
    if "CONTACT" in cues:
        return "contact"
    if "LISTINGS" in cues:
        return "listings"
    if "went_along" in cues:
        return "went_along"
    return "logistics_only" if logistics_only else "nothing"


def _concrete_basis(proposals: list[_Proposal], times: list[ProposedTime | None]) -> ConcreteBasis | None:
    if not proposals:
        return None
    named = [t for p, t in zip(proposals, times, strict=True) if p.when]
    if any(t is not None and t.clock for t in named):
        return "clock"
    if any(t is not None and t.is_specific for t in named):
        return "day"
    if any(p.where for p in proposals):
        return "place"
    return "daypart" if named else "vague"




def _rep_goes_along(call: Call, customer_turn: int) -> bool:
    """The customer offered a weaker channel and the rep's next turn agreed instead of asking to meet."""
    for turn, doc in zip(call.transcript.turns[customer_turn + 1 :], call.docs[customer_turn + 1 :], strict=True):
        if turn.speaker != "rep":
            continue
        labels = cue_labels(doc)
        return "ACCEPT" in labels and meeting_kind(labels) is None
    return False
