"""The report contract (JSON). ``report.schema.json`` beside this file is generated from these models
(`python -m pipeline.report.schema > pipeline/report/report.schema.json`) and a test keeps them equal.

Schema 2 (callcoach 0.2): evidence is a ``kind`` plus a ``reason`` code and ``channels`` (schema 1 wrote
one string such as "proposal: visit_customer" or "downgrade: wechat, phone"), signal kinds are a closed
list, and every report carries the ``analysis_fingerprint`` of what produced it."""

from __future__ import annotations

import json
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from pipeline.transcript import Language, Speaker

SCHEMA_VERSION: Literal["2"] = "2"
# A diarised voice split less clear than this is shown to the coach as a warning (report and coaching).
LOW_SPLIT_CONFIDENCE = 0.5

MeetingKind = Literal["visit_customer", "invite_to_our_site", "neutral_place", "viewing", "unspecified"]
Outcome = Literal["accepted", "declined", "deferred", "none"]
Channel = Literal["wechat", "phone", "email", "video", "materials", "passive"]
CHANNELS: tuple[Channel, ...] = ("wechat", "phone", "email", "video", "materials", "passive")
# Why a meeting word in a rep's clause is not a proposal to meet.
NotAPushReason = Literal["past_meeting", "video_meeting", "service_logistics", "negated_proposal"]
EvidenceKind = Literal[
    "proposal",  # reason: the meeting kind
    "answer",  # reason: the customer's answer
    "not_a_push",  # reason: why not
    "talked_out_of_meeting",
    "distance_excuse",
    "downgrade",  # channels: what the rep offered instead
    "downgrade_accepted",  # channels: what the customer offered and the rep went along with
    "commitment_return",
]
SignalKind = Literal[
    "explicit_state",
    "asked_to_repeat",
    "talking_to_someone_else",
    "side_activity",
    "backchannel_streak",
    "backchannel_repeat",
    "slow_responses",
    "background_sound",
    "ended_call",
]
Principle = Literal[
    "meeting_push",
    "concrete_proposal",
    "channel",
    "distance",
    "commitment_return",
    "availability_check",
    "customer_state",
    "roles",
]
Verdict = Literal["good", "missed", "warning"]
Daypart = Literal["morning", "noon", "afternoon", "evening"]
RoleMethod = Literal["stereo_content", "stereo_forced", "diarised_mono", "given", "none"]
# What a verdict rests on: each has a calibrated probability (pipeline/analysis/calibration.json).
PushBasis = Literal["meeting_words", "pickup", "viewing_offer", "arranging", "asking_time", "classifier"]
NoPushBasis = Literal["blocked", "near_miss", "nothing"]
DowngradeBasis = Literal["channel_words", "contact", "listings", "went_along", "logistics_only", "nothing"]
ConcreteBasis = Literal["clock", "day", "place", "daypart", "vague"]
UncertainReason = Literal["weak_evidence", "low_asr_confidence"]
PiiKind = Literal["phone", "id_number", "bank_card", "email"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TurnOut(_Strict):
    index: int
    speaker: Speaker
    start: float | None
    end: float | None
    text: str
    asr_confidence: float | None = Field(default=None, ge=0, le=1,
                                         description="mean probability Whisper gave the turn's words; null for text input")


class Evidence(_Strict):
    """A quote that supports a finding: an exact substring of turn ``turn``'s text."""

    turn: int
    start: float | None
    quote: str
    kind: EvidenceKind
    reason: MeetingKind | Outcome | NotAPushReason | None = Field(
        default=None, description="proposal: the meeting kind; answer: the outcome; not_a_push: why not"
    )
    channels: list[Channel] = Field(default_factory=list, description="downgrade kinds: the weaker channels")
    reading: str | None = Field(default=None, description="the quote as the analysis read it, when the recogniser "
                                "misspelled its words (占听 -> 展厅); the quote itself stays exactly what was heard")


class ProposedTime(_Strict):
    """The time a proposal names, normalised: 周四下午两点 → Thursday / afternoon / 14:00."""

    day: str | None = Field(default=None, description='e.g. "Thursday", "next Monday", "tomorrow", "December 3", "weekend"')
    daypart: Daypart | None = None
    clock: str | None = Field(default=None, description="24-hour HH:MM")

    @property
    def is_specific(self) -> bool:
        return bool(self.day or self.clock)


class MeetingProposal(_Strict):
    turn: int
    start: float | None
    quote: str
    reading: str | None = Field(default=None, description="the quote as read, when it differs (see Evidence)")
    kind: MeetingKind
    when: list[str] = Field(description="time expressions named in the proposal, as said")
    where: list[str] = Field(description="places named in the proposal, as said")
    time: ProposedTime | None = Field(description="the named time, normalised; null when none was named")


class Meeting(_Strict):
    pushed: bool
    concrete: bool
    outcome: Outcome
    downgraded: bool
    downgrade_channels: list[Channel]
    attempts: int = Field(ge=0)
    distance_excuse: bool
    invited_via_wechat: bool = Field(description="the rep pushed the meeting invitation itself into WeChat")
    commitment_to_return: bool = Field(description="the rep asked the customer to come back in person (承诺一致性)")
    proposals: list[MeetingProposal]
    evidence: list[Evidence]
    pushed_probability: float = Field(ge=0, le=1, description="how often calls decided on this basis were pushed "
                                      "(calibrated on the tuning sets)")
    pushed_basis: PushBasis | NoPushBasis = Field(description="what the pushed verdict rests on")
    downgraded_probability: float = Field(ge=0, le=1)
    downgraded_basis: DowngradeBasis
    concrete_probability: float | None = Field(ge=0, le=1, description="null when not pushed")
    concrete_basis: ConcreteBasis | None


class Signal(_Strict):
    kind: SignalKind
    turn: int | None
    start: float | None
    end: float | None
    detail: str


class Distraction(_Strict):
    distracted: bool
    score: float = Field(ge=0, le=1, description="fused probability that the customer was distracted")
    threshold: float = Field(ge=0, le=1, description="score at or above which the call counts as distracted (chosen on the train split)")
    rep_checked_availability: bool
    rep_adapted: bool | None
    adapted_turn: int | None = Field(description="the rep turn that stopped the pitch and named a time, if any")
    signals: list[Signal]
    not_measured: list[str] = Field(description="signals that could not be measured for this call, and why")


class Coaching(_Strict):
    principle: Principle
    verdict: Verdict
    message: str
    evidence_turns: list[int]


class Roles(_Strict):
    """How the rep and the customer were told apart."""

    method: RoleMethod = Field(
        description="diarised_mono: a mono recording (or fake stereo) split into two voices, roles from content"
    )
    rep_channel: Literal["left", "right"] | None
    confidence: float = Field(ge=0, le=1, description="overall; for diarised_mono the weaker of split and role decision")
    basis: str
    split_confidence: float | None = Field(
        default=None, ge=0, le=1, description="diarised_mono only: how clearly the two voices separate (< 0.5 is low)"
    )
    diarisation: Literal["spectral", "embedding"] | None = Field(
        default=None, description="diarised_mono only: the diarisation method (docs/mono.md)"
    )


class Acoustics(_Strict):
    customer_response_latency_median_s: float | None
    customer_long_pauses: int | None
    customer_background_level_dbfs: float | None
    customer_background_kind: Literal["quiet", "tonal", "broadband"] | None
    overlap_s: float | None = Field(description="seconds both parties spoke at once")
    customer_interruptions: int | None = Field(description="customer turns that started inside a rep turn")
    customer_speech_rate: float | None = Field(description="Chinese characters or English words per second of speech")


class LostSpan(_Strict):
    start_s: float
    end_s: float


class Transcription(_Strict):
    model: str
    compute_type: str
    device: str
    beam_size: int
    language_probability: float | None
    channels: int
    fake_stereo: bool
    lost_spans: list[LostSpan] = Field(
        default_factory=list,
        description="stretches of the recording that could not be decoded (damaged file): silent, not transcribed",
    )


class Uncertain(_Strict):
    """A verdict the coach should check by ear: weak evidence, or words the recogniser was unsure of."""

    finding: Literal["meeting.pushed", "meeting.concrete", "meeting.downgraded", "distraction.distracted"]
    probability: float = Field(ge=0, le=1)
    reason: UncertainReason
    turn: int | None
    start: float | None = Field(description="where to listen")


class Talk(_Strict):
    """Who talked how much, and who asked (pipeline/analysis/talk.py)."""

    rep_talk_share: float | None = Field(ge=0, le=1, description="the rep's share of the speaking time (of the "
                                         "characters or words, for a transcript without times)")
    longest_rep_monologue_s: float | None = Field(ge=0, description="the longest stretch the rep spoke without the "
                                                  "customer taking the floor (backchannels do not); null without times")
    rep_questions: int = Field(ge=0)
    customer_questions: int = Field(ge=0)
    customer_interruptions: int | None = Field(ge=0, description="customer turns that started inside a rep turn; "
                                               "null without times")


class Customer(_Strict):
    """The customer as named in the call (the name the rep uses, the company the customer gives)."""

    name: str | None
    company: str | None
    key: str = Field(description="one string per customer: name and company (王总 · 华宫机械)")
    turn: int
    quote: str = Field(description="an exact substring of turn `turn`'s text")


class Redaction(_Strict):
    """A span of personal data replaced in the transcript, quotes and search index (the value is not kept)."""

    turn: int
    kind: PiiKind
    start: float | None = Field(description="seconds into the recording (null for text input)")
    end: float | None


class Report(_Strict):
    schema_version: Literal["2"] = SCHEMA_VERSION
    call_id: str
    source: str
    language: Language
    duration_s: float | None
    pipeline_version: str
    analysis_fingerprint: str = Field(
        description="digest of what decides the findings: version, patterns, fitted models, classifier data, "
        "Whisper model and decoding settings (the nightly batch re-analyses calls whose fingerprint differs)"
    )
    roles: Roles
    transcription: Transcription | None
    acoustics: Acoustics | None
    turns: list[TurnOut]
    meeting: Meeting
    distraction: Distraction
    coaching: list[Coaching]
    uncertain: list[Uncertain] = Field(default_factory=list, description="verdicts to check by listening")
    talk: Talk | None = Field(default=None, description="talk metrics (null in reports written before they existed)")
    customer: Customer | None = Field(default=None, description="the customer as named in the call; null when unnamed")
    redactions: list[Redaction] = Field(default_factory=list, description="personal data replaced by a typed "
                                        "placeholder ([PHONE], [ID_NUMBER], [BANK_CARD], [EMAIL]) with --redact")


def json_schema() -> dict:
    schema = Report.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = f"https://callcoach.dev/schema/report-{SCHEMA_VERSION}.json"
    return schema


if __name__ == "__main__":
    print(json.dumps(json_schema(), ensure_ascii=False, indent=2))
