"""The one entry point every shell (CLI, batch, web) calls: a recording or a transcript in, a Report out."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from pathlib import Path

from pipeline import __version__
from pipeline.acoustics import measure
from pipeline.analyzers import ANALYZERS
from pipeline.analyzers.call import Call, parse_turns
from pipeline.asr import AsrSettings, Transcriber
from pipeline.audio import load_audio
from pipeline.coaching import coach
from pipeline.errors import CallcoachError
from pipeline.report.schema import Acoustics, Report, Roles, Transcription, TurnOut
from pipeline.speakers import CHANNEL_NAMES, RepChannel, RoleDecision, decide_roles
from pipeline.transcript import Transcript, build_turns, load_transcript_json

log = logging.getLogger(__name__)
TRANSCRIPT_SUFFIXES = {".json"}


@dataclass
class AnalyzeOptions:
    language: str | None = None  # None = detect
    rep_channel: RepChannel = "auto"
    asr: AsrSettings = field(default_factory=AsrSettings)


@dataclass
class Analysis:
    report: Report
    audio_path: Path | None  # the recording the report plays, None for transcript input


def call_id_of(path: Path) -> str:
    """Content hash: the same recording under another name is the same call."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()[:16]


class Analyzer:
    """Holds the heavy resources (Whisper loads on the first recording) and analyses inputs with them."""

    def __init__(self, options: AnalyzeOptions | None = None):
        self.options = options or AnalyzeOptions()
        self._transcriber: Transcriber | None = None

    @property
    def transcriber(self) -> Transcriber:
        if self._transcriber is None:
            self._transcriber = Transcriber(self.options.asr)
        return self._transcriber

    def analyze(self, path: Path) -> Analysis:
        """Analyse one input file: a recording, or a transcript .json."""
        if not path.exists():
            raise CallcoachError(f"{path}: file not found")
        if path.is_dir():
            raise CallcoachError(f"{path}: is a folder, not a recording or transcript")
        if path.suffix.lower() in TRANSCRIPT_SUFFIXES:
            transcript = load_transcript_json(path)
            if self.options.language:
                transcript.language = self.options.language  # type: ignore[assignment]
            return Analysis(self.analyze_transcript(transcript, source=path), audio_path=None)
        return Analysis(self._analyze_recording(path), audio_path=path)

    def _analyze_recording(self, path: Path) -> Report:
        audio = load_audio(path)
        channels, language, language_probability = self.transcriber.transcribe(audio, self.options.language)
        words_by_channel = [channel.words for channel in channels]
        if not any(words_by_channel):
            raise CallcoachError(f"{path.name}: no speech found in the recording")
        transcript = Transcript(
            language=language,  # type: ignore[arg-type]
            turns=build_turns(words_by_channel, language),  # type: ignore[arg-type]
            duration_s=round(audio.duration_s, 2),
        )
        docs = parse_turns(transcript)
        roles = decide_roles(transcript, docs, self.options.rep_channel, audio.channels.shape[0])
        acoustics = measure(audio, transcript, roles.customer_channel)
        settings = self.options.asr
        transcription = Transcription(
            model=settings.model,
            compute_type=settings.compute_type,
            device=settings.device,
            beam_size=settings.beam_size,
            language_probability=round(language_probability, 3),
            channels=audio.channels.shape[0],
            fake_stereo=audio.fake_stereo,
        )
        return self._report(Call(transcript, docs, acoustics), path, roles, transcription)

    def analyze_transcript(self, transcript: Transcript, source: Path | str) -> Report:
        """Text-only analysis: the transcript's speakers are taken as given."""
        known = any(turn.speaker != "unknown" for turn in transcript.turns)
        roles = RoleDecision(
            "given" if known else "none",
            None,
            1.0 if known else 0.0,
            "speakers labelled in the transcript" if known else "transcript has no speaker labels",
        )
        return self._report(Call.parse(transcript), source, roles, None)

    def _report(
        self,
        call: Call,
        source: Path | str,
        roles: RoleDecision,
        transcription: Transcription | None,
    ) -> Report:
        transcript, acoustics = call.transcript, call.acoustics
        parts = {name: analyze(call) for name, analyze in ANALYZERS.items()}
        roles_out = Roles(
            method=roles.method,
            rep_channel=None if roles.rep_channel is None else CHANNEL_NAMES[roles.rep_channel],  # type: ignore[arg-type]
            confidence=roles.confidence,
            basis=roles.basis,
        )
        source_path = Path(source)
        return Report(
            call_id=call_id_of(source_path) if source_path.is_file() else hashlib.sha256(str(source).encode()).hexdigest()[:16],
            source=str(source),
            language=transcript.language,
            duration_s=transcript.duration_s,
            pipeline_version=__version__,
            roles=roles_out,
            transcription=transcription,
            acoustics=None
            if acoustics is None
            else Acoustics(
                customer_response_latency_median_s=acoustics.median_latency_s,
                customer_long_pauses=len(acoustics.slow_responses) if acoustics.customer_channel is not None else None,
                customer_background_level_dbfs=acoustics.background_level_dbfs,
                customer_background_kind=acoustics.background_kind,  # type: ignore[arg-type]
                overlap_s=acoustics.overlap_s,
                customer_interruptions=acoustics.customer_interruptions,
                customer_speech_rate=acoustics.customer_speech_rate,
            ),
            turns=[TurnOut(index=t.index, speaker=t.speaker, start=t.start, end=t.end, text=t.text) for t in transcript.turns],
            meeting=parts["meeting"],
            distraction=parts["distraction"],
            coaching=coach(transcript, roles_out, parts["meeting"], parts["distraction"]),
        )
