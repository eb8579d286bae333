"""How to analyse a call: the one options record every shell (CLI, batch, web) builds and hands on."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from pipeline.analysis.roles import RepChannel
from pipeline.audio.asr import AsrSettings
from pipeline.audio.decode import DEFAULT_MAX_DURATION_S
from pipeline.audio.diarize import DEFAULT_METHOD


@dataclass(frozen=True)
class AnalyzeOptions:
    language: str | None = None  # None = detect
    rep_channel: RepChannel = "auto"
    asr: AsrSettings = field(default_factory=AsrSettings)
    mix_to_mono: bool = False  # analyse a stereo call as a phone app would record it (evaluation of the mono path)
    diarisation: str = DEFAULT_METHOD  # how a mono call's two voices are told apart (pipeline/audio/diarize.py)
    max_duration_s: float = DEFAULT_MAX_DURATION_S  # longer recordings are refused before decoding
    redact: bool = False  # replace phone, ID, bank card numbers and e-mails before analysis (pipeline/privacy)

    def with_cpu_threads(self, threads: int) -> AnalyzeOptions:
        """The same analysis with Whisper on ``threads`` CPU threads (how workers split the cores)."""
        return replace(self, asr=replace(self.asr, cpu_threads=threads))
