"""What every `callcoach` command shares (spaCy's ``cli/_util.py`` pattern): the ``app``, the options that
several commands take, and the helpers for failing in one line, logging and building analysis options.

A leaf module: command modules import from here, never from each other."""

import logging
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from pipeline.audio.asr import AsrSettings
from pipeline.audio.decode import DEFAULT_MAX_DURATION_S
from pipeline.errors import CallcoachError
from pipeline.options import AnalyzeOptions
from pipeline.report.files import FORMATS

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Coaching reports for sales calls, offline.")
err = Console(stderr=True)
DEFAULT_DB = Path("callcoach.db")


class Language(str, Enum):
    auto = "auto"
    zh = "zh"
    en = "en"


class RepChannel(str, Enum):
    auto = "auto"
    left = "left"
    right = "right"


class Diarisation(str, Enum):
    spectral = "spectral"
    embedding = "embedding"


class ListFormat(str, Enum):
    table = "table"
    json = "json"


ModelOpt = Annotated[str, typer.Option(help="Whisper model: base, tiny.en, a local CTranslate2 folder, or a name in the local cache.")]
LanguageOpt = Annotated[Language, typer.Option(help="Language of the call; auto detects zh/en.")]
RepOpt = Annotated[RepChannel, typer.Option(help="Which stereo channel is the rep; auto decides from what each side says.")]
DeviceOpt = Annotated[str, typer.Option(help="cpu or cuda (cuda is untested on our machines).")]
ComputeOpt = Annotated[str, typer.Option(help="CTranslate2 compute type: int8, float16 (GPU), float32 …")]
BeamOpt = Annotated[int, typer.Option(min=1, max=10, help="Beam size for Whisper decoding.")]
MonoOpt = Annotated[bool, typer.Option("--mono", help="Mix stereo down to mono first (as a phone app records the call).")]
MaxMinutesOpt = Annotated[
    float, typer.Option(help="Refuse recordings longer than this, before decoding them (memory grows with length).")
]
DiarisationOpt = Annotated[
    Diarisation,
    typer.Option(help="How a mono call's two voices are told apart; embedding needs the speaker-embeddings extra."),
]
FormatOpt = Annotated[str, typer.Option("--format", help="Comma-separated: json,md,html.")]
RedactOpt = Annotated[bool, typer.Option(
    "--redact", help="Replace phone, ID and bank card numbers and e-mail addresses (also spoken as digits) by "
    "[PHONE], [ID_NUMBER], [BANK_CARD], [EMAIL] in transcripts, quotes and the search index; the report lists the "
    "spans (no values) and its player mutes them.")]
VerboseOpt = Annotated[bool, typer.Option("--verbose", "-v", help="Log each stage.")]
DbOpt = Annotated[Path, typer.Option(help="The SQLite store shared by `callcoach batch`, `serve` and the read commands.")]


def fail(message: str, code: int = 2) -> NoReturn:
    """One red line on stderr and a non-zero exit: how every expected failure ends a command."""
    err.print(f"[red]error:[/red] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def setup_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s"
    )


def parse_formats(value: str) -> tuple[str, ...]:
    formats = [f.strip() for f in value.split(",") if f.strip()]
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise typer.BadParameter(f"choose from {', '.join(FORMATS)} (comma-separated)")
    return tuple(formats)


def analyze_options(
    model: str = "base",
    language: Language = Language.auto,
    rep_channel: RepChannel = RepChannel.auto,
    device: str = "cpu",
    compute_type: str = "int8",
    beam_size: int = 5,
    mono: bool = False,
    diarisation: Diarisation = Diarisation.spectral,
    max_minutes: float = DEFAULT_MAX_DURATION_S / 60,
    redact: bool = False,
) -> AnalyzeOptions:
    """The analysis options of a command's flags: built here, and only here, for every command."""
    return AnalyzeOptions(
        language=None if language == Language.auto else language.value,
        rep_channel=rep_channel.value,
        asr=AsrSettings(model=model, device=device, compute_type=compute_type, beam_size=beam_size),
        mix_to_mono=mono,
        diarisation=diarisation.value,
        max_duration_s=max_minutes * 60,
        redact=redact,
    )


def prepare_text_models() -> None:
    """Train the text classifiers when missing or stale (seconds; nothing when they are current)."""
    from pipeline.training.classifiers import ensure_trained

    for path in ensure_trained():
        err.print(f"trained text classifier {path.name}", highlight=False)


def open_store(db: Path, create: bool):
    """The store at ``db``; a path that is not a store ends the command in one line."""
    from pipeline.store.database import Store

    try:
        return Store(db, create=create)
    except CallcoachError as error:
        fail(str(error))
