"""The one entry point every shell (CLI, batch, web) calls: a recording or a transcript in, a Report out."""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from pipeline import __version__
from pipeline.analysis import distraction, meeting
from pipeline.analysis.call import Call, parse_turns
from pipeline.analysis.coaching import coach
from pipeline.analysis.customer import SpokenCustomer, spoken_customer
from pipeline.analysis.roles import (
    CHANNEL_NAMES,
    RoleDecision,
    decide_roles,
    decide_roles_diarised,
    given_roles,
)
from pipeline.analysis.talk import TalkMetrics, talk_metrics
from pipeline.analysis.uncertainty import uncertain_verdicts
from pipeline.audio.acoustics import AcousticEvidence, measure
from pipeline.audio.asr import Transcriber
from pipeline.audio.asr_cache import AsrResult, TranscriptionCache, settings_key
from pipeline.audio.decode import Audio, load_audio
from pipeline.audio.diarize import diarise
from pipeline.audio.plan import load_vad
from pipeline.errors import CallcoachError
from pipeline.fingerprint import analysis_fingerprint
from pipeline.identity import call_id_of_file, call_id_of_name, sha256_of
from pipeline.options import AnalyzeOptions
from pipeline.privacy.redact_transcript import RedactedSpan, redact_transcript
from pipeline.report.schema import (
    Acoustics,
    Customer,
    LostSpan,
    Redaction,
    Report,
    Roles,
    Talk,
    Transcription,
    TurnOut,
)
from pipeline.transcript import Transcript, Turn, Word, build_turns, load_transcript_json

log = logging.getLogger(__name__)
TRANSCRIPT_SUFFIXES = {".json"}
# A two-turn call in each language: analysing it once loads every text model, pattern and table a call reads.
_WARM_UP_TURNS = {
    "zh": ("您好，周四下午两点我过去拜访您，方便吗？", "好的，可以。"),
    "en": ("Hi, could I visit you on Thursday at two?", "Sure, that works."),
}

__all__ = ["Analysis", "AnalyzeOptions", "Analyzer"]


@dataclass
class Analysis:
    report: Report
    audio_path: Path | None  # the recording the report plays, None for transcript input


class Analyzer:
    """Holds the heavy resources (Whisper loads on the first recording, or in ``warm_up``) and analyses inputs with them."""

    def __init__(self, options: AnalyzeOptions | None = None, asr_cache: TranscriptionCache | None = None):
        self.options = options or AnalyzeOptions()
        self._transcriber: Transcriber | None = None
        self._warm = {"text": False, "audio": False}
        # Never with --redact: the cache would keep the words as said, before redaction.
        self.asr_cache: TranscriptionCache | None = None if self.options.redact else asr_cache

    @property
    def transcriber(self) -> Transcriber:
        if self._transcriber is None:
            self._transcriber = Transcriber(self.options.asr)
        return self._transcriber

    def warm_up(self, recordings: bool = True) -> None:
        """Load what analysing a call needs before the first call: both languages' text models and, for
        ``recordings``, Whisper and the VAD. A worker calls it at start: its first call then costs what the
        others do, and a model that cannot load fails the worker (CallcoachError), not a file."""
        if recordings and not self._warm["audio"]:
            self.transcriber  # noqa: B018 - loads Whisper
            load_vad()
            self._warm["audio"] = True
        if not self._warm["text"]:
            for language, (rep, customer) in _WARM_UP_TURNS.items():
                turns = [Turn(0, "rep", rep, 0.0, 3.0), Turn(1, "customer", customer, 3.5, 5.0)]
                self.analyze_transcript(Transcript(language, turns, 5.0), source="warm-up")  # type: ignore[arg-type]
            self._warm["text"] = True

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

    def _transcribe(self, path: Path, audio: Audio) -> AsrResult:
        """Whisper's words for the recording, from the cache when it was transcribed the same way before."""
        if self.asr_cache is None:
            return self.transcriber.transcribe(audio, self.options.language)
        sha256, key = sha256_of(path), settings_key(self.options)
        cached = self.asr_cache.get(sha256, key)
        if cached is not None:
            log.info("%s: transcription from the cache", path.name)
            return cached
        transcription = self.transcriber.transcribe(audio, self.options.language)
        self.asr_cache.put(sha256, key, transcription)
        return transcription

    def _split_voices(self, audio: Audio, words: list[Word]) -> tuple[list[list[Word]], float, str] | None:
        """Mono: the words of each of the two voices, the split confidence and method; None when no split."""
        started = time.perf_counter()
        result = diarise(audio.samples(0), audio.sample_rate_hz, words, method=self.options.diarisation)
        log.info("diarisation (%s) %.2fs for %.1fs of audio, confidence %.2f",
                 result.method, time.perf_counter() - started, audio.duration_s, result.confidence)
        if result.second_voice_share == 0.0:  # too little speech to find two voices
            return None
        by_voice = [[w for w, v in zip(words, result.speaker_of_word, strict=True) if v == voice] for voice in (0, 1)]
        return by_voice, result.confidence, result.method

    def _analyze_recording(self, path: Path) -> Report:
        audio = load_audio(path, self.options.max_duration_s)
        if self.options.mix_to_mono:
            audio = audio.mixed_to_mono()
        channels, language, language_probability = self._transcribe(path, audio)
        words_by_channel = [channel.words for channel in channels]
        if not any(words_by_channel):
            raise CallcoachError(f"{path.name}: no speech found in the recording")
        # Mono: the two diarised voices take the place of the two channels (turn.channel = voice).
        split = self._split_voices(audio, words_by_channel[0]) if len(words_by_channel) == 1 else None
        if split is not None:
            words_by_channel = split[0]
        transcript, redactions = self._redacted(Transcript(
            language=language,  # type: ignore[arg-type]
            turns=build_turns(words_by_channel, language),  # type: ignore[arg-type]
            duration_s=round(audio.duration_s, 2),
        ))
        docs = parse_turns(transcript)
        if split is not None:
            roles = decide_roles_diarised(transcript, docs, split_confidence=split[1], diarisation_method=split[2])
        else:
            roles = decide_roles(transcript, docs, self.options.rep_channel, audio.n_channels)
        acoustics = measure(audio, transcript, roles.customer_channel, diarised=split is not None)
        settings = self.options.asr
        transcription = Transcription(
            model=settings.model,
            compute_type=settings.compute_type,
            device=settings.device,
            beam_size=settings.beam_size,
            language_probability=round(language_probability, 3),
            channels=audio.n_channels,
            fake_stereo=audio.fake_stereo,
            lost_spans=[LostSpan(start_s=start, end_s=end) for start, end in audio.lost_spans_s],
        )
        return self._report(Call(transcript, docs, acoustics), path, roles, transcription, redactions)

    def analyze_transcript(self, transcript: Transcript, source: Path | str) -> Report:
        """Text-only analysis: the transcript's speakers are taken as given."""
        transcript, redactions = self._redacted(transcript)
        return self._report(Call.parse(transcript), source, given_roles(transcript), None, redactions)

    def _redacted(self, transcript: Transcript) -> tuple[Transcript, list[RedactedSpan]]:
        """With --redact: personal data replaced before any analysis reads the words."""
        return redact_transcript(transcript) if self.options.redact else (transcript, [])

    def _report(
        self,
        call: Call,
        source: Path | str,
        roles: RoleDecision,
        transcription: Transcription | None,
        redactions: list[RedactedSpan],
    ) -> Report:
        transcript = call.transcript
        meeting_part = meeting.analyze(call)
        distraction_part = distraction.analyze(call)
        stereo = roles.method in ("stereo_content", "stereo_forced")
        roles_out = Roles(
            method=roles.method,
            rep_channel=CHANNEL_NAMES[roles.rep_channel] if stereo and roles.rep_channel is not None else None,
            confidence=roles.confidence,
            basis=roles.basis,
            split_confidence=roles.split_confidence,
            diarisation=roles.diarisation_method,
        )
        source_path = Path(source)
        turns_out = [
            TurnOut(index=t.index, speaker=t.speaker, start=t.start, end=t.end, text=t.text, asr_confidence=_heard(t.words))
            for t in transcript.turns
        ]
        return Report(
            call_id=call_id_of_file(source_path) if source_path.is_file() else call_id_of_name(str(source)),
            source=str(source),
            language=transcript.language,
            duration_s=transcript.duration_s,
            pipeline_version=__version__,
            analysis_fingerprint=analysis_fingerprint(self.options, "transcript" if transcription is None else "audio"),
            roles=roles_out,
            transcription=transcription,
            acoustics=_acoustics_out(call.acoustics),
            turns=turns_out,
            meeting=meeting_part,
            distraction=distraction_part,
            coaching=coach(transcript, roles_out, meeting_part, distraction_part),
            uncertain=uncertain_verdicts(meeting_part, distraction_part, turns_out),
            customer=_customer_out(spoken_customer(transcript)),
            talk=_talk_out(talk_metrics(transcript)),
            redactions=[Redaction(turn=r.turn, kind=r.kind, start=r.start_s, end=r.end_s) for r in redactions],
        )


def _customer_out(customer: SpokenCustomer | None) -> Customer | None:
    if customer is None:
        return None
    return Customer(name=customer.name, company=customer.company, key=customer.key, turn=customer.turn,
                    quote=customer.quote)


def _talk_out(talk: TalkMetrics) -> Talk:
    return Talk(**asdict(talk))


def _heard(words: list[Word]) -> float | None:
    """How sure Whisper was of a turn's words (their mean probability); None for text input."""
    return round(sum(w.probability for w in words) / len(words), 3) if words else None


def _acoustics_out(acoustics: AcousticEvidence | None) -> Acoustics | None:
    if acoustics is None:
        return None
    return Acoustics(
        customer_response_latency_median_s=acoustics.median_latency_s,
        customer_long_pauses=len(acoustics.slow_responses) if acoustics.customer_channel is not None else None,
        customer_background_level_dbfs=acoustics.background_level_dbfs,
        customer_background_kind=acoustics.background_kind,
        overlap_s=acoustics.overlap_s,
        customer_interruptions=acoustics.customer_interruptions,
        customer_speech_rate=acoustics.customer_speech_rate,
    )
