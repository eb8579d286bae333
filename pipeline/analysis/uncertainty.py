"""Which verdicts a coach should check by ear, and where to listen.

A verdict is uncertain when its calibrated probability is far from both 0 and 1 (weak evidence), or when
the turn it rests on was recognised with low confidence (Whisper's word probabilities). The report then says
"uncertain — listen at 01:23" instead of stating a confident answer.
"""

from __future__ import annotations

from pipeline.report.schema import Distraction, Meeting, TurnOut, Uncertain

WEAK_BETWEEN = (0.25, 0.75)  # calibrated probabilities in here are weak evidence either way
LOW_ASR_CONFIDENCE = 0.55  # mean word probability below this: the words may not be what was said
DISTRACTION_MARGIN = 0.1  # a fused score this close to its threshold could go either way


def _weak(probability: float) -> bool:
    return WEAK_BETWEEN[0] <= probability <= WEAK_BETWEEN[1]


def uncertain_verdicts(meeting: Meeting, distraction: Distraction, turns: list[TurnOut]) -> list[Uncertain]:
    by_index = {turn.index: turn for turn in turns}

    def at(turn: int | None) -> tuple[int | None, float | None]:
        found = by_index.get(turn) if turn is not None else None
        return (turn, found.start) if found else (None, None)

    def check(finding, probability: float, turn: int | None) -> Uncertain | None:
        where, start = at(turn)
        heard = by_index[where].asr_confidence if where is not None else None
        if heard is not None and heard < LOW_ASR_CONFIDENCE:
            return Uncertain(finding=finding, probability=probability, reason="low_asr_confidence", turn=where, start=start)
        if _weak(probability):
            return Uncertain(finding=finding, probability=probability, reason="weak_evidence", turn=where, start=start)
        return None

    first_proposal = meeting.proposals[0].turn if meeting.proposals else None
    blocked = next((e.turn for e in meeting.evidence if e.kind in ("not_a_push", "talked_out_of_meeting")), None)
    downgrade = next((e.turn for e in meeting.evidence if e.kind in ("downgrade", "downgrade_accepted")), None)
    sign = next((s.turn for s in distraction.signals if s.turn is not None), None)
    found = [
        check("meeting.pushed", meeting.pushed_probability, first_proposal if meeting.pushed else blocked),
        check("meeting.downgraded", meeting.downgraded_probability, downgrade),
    ]
    if meeting.concrete_probability is not None:
        found.append(check("meeting.concrete", meeting.concrete_probability, meeting.proposals[-1].turn))
    if abs(distraction.score - distraction.threshold) < DISTRACTION_MARGIN:
        where, start = at(sign)
        found.append(Uncertain(finding="distraction.distracted", probability=distraction.score, reason="weak_evidence",
                               turn=where, start=start))
    return [item for item in found if item is not None]
