"""Turn findings into coaching points, quoting the call, in the call's language."""

from __future__ import annotations

from pipeline.report.schema import (
    LOW_SPLIT_CONFIDENCE,
    Coaching,
    Distraction,
    Evidence,
    EvidenceKind,
    Meeting,
    Principle,
    Roles,
    Verdict,
)
from pipeline.report.strings import CHANNEL_NAMES, LIST_SEPARATOR, SIGNAL_NAMES, coaching_message
from pipeline.transcript import Transcript


def _first(evidence: list[Evidence], *kinds: EvidenceKind) -> Evidence | None:
    return next((e for e in evidence if e.kind in kinds), None)


def _concrete_callback(meeting: Meeting, distraction: Distraction) -> bool:
    """The rep adapted to a distracted customer by fixing a concrete call-back (not a meeting)."""
    if not (distraction.distracted and distraction.rep_adapted and distraction.adapted_turn is not None):
        return False
    if meeting.pushed:
        return False
    later_calls = [e for e in meeting.evidence if e.kind == "downgrade" and e.turn >= distraction.adapted_turn]
    return any("phone" in e.channels for e in later_calls) or not meeting.downgraded


def coach(transcript: Transcript, roles: Roles, meeting: Meeting, distraction: Distraction) -> list[Coaching]:
    """One point per principle that applies, each tied to the turns that show it."""
    lang = transcript.language
    sep = LIST_SEPARATOR[lang]
    points: list[Coaching] = []

    def point(principle: Principle, verdict: Verdict, key: str, turns: list[int], **values: str) -> None:
        points.append(
            Coaching(principle=principle, verdict=verdict, message=coaching_message(lang, key, **values), evidence_turns=turns)
        )

    if roles.split_confidence is not None and roles.split_confidence < LOW_SPLIT_CONFIDENCE:
        point("roles", "warning", "roles.mono_low_split", [], confidence=f"{roles.split_confidence:.0%}")
    elif roles.method == "none" or roles.confidence < 0.2:
        point("roles", "warning", "roles.warning", [], quote=roles.basis)
    elif roles.method == "diarised_mono" and roles.confidence < LOW_SPLIT_CONFIDENCE:
        # The voices separate, but which one is the rep is unclear: on a mono call a wrong guess
        # reads the whole call backwards, so the coach is told even at moderate doubt.
        point("roles", "warning", "roles.warning", [], quote=roles.basis)

    # A distracted customer and a rep who stops and fixes a time to call back: the right second-best move
    # (docs/coaching.md), neither a missed push nor a downgrade to reproach.
    callback = _concrete_callback(meeting, distraction)
    if meeting.pushed:
        first, last = meeting.proposals[0], meeting.proposals[-1]
        point("meeting_push", "good", "meeting_push.good", [first.turn], quote=first.quote)
        if meeting.outcome == "declined" and meeting.attempts < 2:
            answer = _first(meeting.evidence, "answer")
            point("meeting_push", "missed", "meeting_push.missed_declined", [answer.turn] if answer else [],
                  quote=answer.quote if answer else last.quote)
        if meeting.concrete:
            named = [*last.when, *last.where] or [w for p in meeting.proposals for w in (*p.when, *p.where)]
            point("concrete_proposal", "good", "concrete_proposal.good", [last.turn], when=sep.join(named))
        else:
            point("concrete_proposal", "missed", "concrete_proposal.missed", [last.turn], quote=last.quote)
    elif callback:
        point("meeting_push", "warning", "meeting_push.callback_instead", [distraction.adapted_turn or 0],
              quote=transcript.turns[distraction.adapted_turn or 0].text)
    else:
        point("meeting_push", "missed", "meeting_push.missed", [])

    if meeting.downgraded and not (callback and set(meeting.downgrade_channels) <= {"phone"}):
        downgrade = _first(meeting.evidence, "downgrade", "downgrade_accepted")
        turns = [downgrade.turn] if downgrade else []
        quote = downgrade.quote if downgrade else ""
        if meeting.invited_via_wechat:
            point("channel", "missed", "channel.wechat_invite", turns, quote=quote)
        else:
            names = sep.join(CHANNEL_NAMES[lang][c] for c in meeting.downgrade_channels)
            point("channel", "missed", "channel.missed", turns, quote=quote, channels=names)

    if meeting.distance_excuse:
        excuse = _first(meeting.evidence, "distance_excuse")
        point("distance", "missed", "distance.missed", [excuse.turn] if excuse else [], quote=excuse.quote if excuse else "")

    if meeting.commitment_to_return:
        commit = _first(meeting.evidence, "commitment_return")
        point("commitment_return", "good", "commitment_return.good", [commit.turn] if commit else [],
              quote=commit.quote if commit else "")

    if distraction.rep_checked_availability:
        check = next((t for t in transcript.turns if t.speaker in ("rep", "unknown")), None)
        point("availability_check", "good", "availability_check.good", [check.index] if check else [],
              quote=check.text if check else "")
    elif distraction.distracted:
        point("availability_check", "missed", "availability_check.missed", [])

    if distraction.distracted:
        kinds = list(dict.fromkeys(s.kind for s in distraction.signals))
        signs = sep.join(SIGNAL_NAMES[lang].get(k, k) for k in kinds)
        sign_turns = sorted({s.turn for s in distraction.signals if s.turn is not None})
        if roles.method == "none":
            point("customer_state", "warning", "customer_state.unknown_roles", sign_turns)
        if distraction.rep_adapted and distraction.adapted_turn is not None:
            point("customer_state", "good", "customer_state.adapted", [*sign_turns[:3], distraction.adapted_turn],
                  signs=signs, quote=transcript.turns[distraction.adapted_turn].text)
        else:
            point("customer_state", "missed", "customer_state.missed", sign_turns[:5], signs=signs)
    return points
