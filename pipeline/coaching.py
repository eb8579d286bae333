"""Turn findings into coaching points, quoting the call, in the call's language."""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources

from pipeline.report.schema import LOW_SPLIT_CONFIDENCE, Coaching, Distraction, Meeting, Roles
from pipeline.transcript import Transcript

CHANNEL_NAMES = {
    "zh": {"wechat": "微信", "phone": "回头电话", "email": "邮件", "video": "视频会议", "materials": "发资料", "passive": "等客户联系"},
    "en": {"wechat": "WeChat", "phone": "a later call", "email": "email", "video": "a video call", "materials": "sending materials", "passive": "waiting for the customer to call"},
}
SIGNAL_NAMES = {
    "zh": {"explicit_state": "说自己在忙", "side_activity": "在做别的事", "asked_to_repeat": "要求重复", "talking_to_someone_else": "跟别人说话",
           "backchannel_streak": "只回“好好好/对对对”", "backchannel_repeat": "连声附和", "slow_responses": "回答很慢", "background_sound": "背景声音", "ended_call": "中途挂断"},
    "en": {"explicit_state": "said they were busy", "side_activity": "doing something else", "asked_to_repeat": "asked to repeat",
           "talking_to_someone_else": "talking to someone else", "backchannel_streak": "only “uh huh, yeah”",
           "backchannel_repeat": "rapid-fire agreement", "slow_responses": "slow replies", "background_sound": "background sound",
           "ended_call": "ended the call mid-pitch"},
}
_LIST_SEPARATOR = {"zh": "、", "en": ", "}


@lru_cache(maxsize=1)
def messages() -> dict[str, dict[str, str]]:
    return json.loads(resources.files("pipeline").joinpath("coaching_messages.json").read_text("utf-8"))


def _say(language: str, key: str, **values: str) -> str:
    return messages()[language][key].format(**values)


def _first(evidence, prefix: str):
    return next((e for e in evidence if e.kind.startswith(prefix)), None)


def coach(transcript: Transcript, roles: Roles, meeting: Meeting, distraction: Distraction) -> list[Coaching]:
    """One point per principle that applies, each tied to the turns that show it."""
    lang = transcript.language
    sep = _LIST_SEPARATOR[lang]
    points: list[Coaching] = []

    def point(principle: str, verdict: str, key: str, turns: list[int], **values: str) -> None:
        points.append(
            Coaching(principle=principle, verdict=verdict, message=_say(lang, key, **values), evidence_turns=turns)  # type: ignore[arg-type]
        )

    if roles.split_confidence is not None and roles.split_confidence < LOW_SPLIT_CONFIDENCE:
        point("roles", "warning", "roles.mono_low_split", [], confidence=f"{roles.split_confidence:.0%}")
    elif roles.method == "none" or roles.confidence < 0.2:
        point("roles", "warning", "roles.warning", [], quote=roles.basis)
    elif roles.method == "diarised_mono" and roles.confidence < LOW_SPLIT_CONFIDENCE:
        # The voices separate, but which one is the rep is unclear: on a mono call a wrong guess
        # reads the whole call backwards, so the coach is told even at moderate doubt.
        point("roles", "warning", "roles.warning", [], quote=roles.basis)

    if meeting.pushed:
        first, last = meeting.proposals[0], meeting.proposals[-1]
        point("meeting_push", "good", "meeting_push.good", [first.turn], quote=first.quote)
        if meeting.outcome == "declined" and meeting.attempts < 2:
            answer = _first(meeting.evidence, "answer:")
            point("meeting_push", "missed", "meeting_push.missed_declined", [answer.turn] if answer else [],
                  quote=answer.quote if answer else last.quote)
        if meeting.concrete:
            named = [*last.when, *last.where] or [w for p in meeting.proposals for w in (*p.when, *p.where)]
            point("concrete_proposal", "good", "concrete_proposal.good", [last.turn], when=sep.join(named))
        else:
            point("concrete_proposal", "missed", "concrete_proposal.missed", [last.turn], quote=last.quote)
    else:
        point("meeting_push", "missed", "meeting_push.missed", [])

    if meeting.downgraded:
        downgrade = _first(meeting.evidence, "downgrade")
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
