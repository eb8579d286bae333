"""`callcoach analyze`: transcribe and analyse calls, write a coaching report per call."""

import os
import sys
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from pipeline.audio.decode import DEFAULT_MAX_DURATION_S
from pipeline.cli._util import (
    BeamOpt,
    ComputeOpt,
    DeviceOpt,
    Diarisation,
    DiarisationOpt,
    FormatOpt,
    Language,
    LanguageOpt,
    MaxMinutesOpt,
    ModelOpt,
    MonoOpt,
    RedactOpt,
    RepChannel,
    RepOpt,
    VerboseOpt,
    analyze_options,
    app,
    err,
    fail,
    parse_formats,
    prepare_text_models,
    setup_logging,
)
from pipeline.errors import CallcoachError


@app.command()
def analyze(
    inputs: Annotated[list[Path], typer.Argument(help="Recordings (wav, mp3, m4a, ogg, flac, …) or transcript .json files.")],
    out: Annotated[Path | None, typer.Option(help="Write DIR/<stem>.json/.md/.html here; without it one report goes to stdout as JSON.")] = None,
    format: FormatOpt = "json,md,html",
    model: ModelOpt = "base",
    language: LanguageOpt = Language.auto,
    rep_channel: RepOpt = RepChannel.auto,
    device: DeviceOpt = "cpu",
    compute_type: ComputeOpt = "int8",
    beam_size: BeamOpt = 5,
    mono: MonoOpt = False,
    diarisation: DiarisationOpt = Diarisation.spectral,
    max_minutes: MaxMinutesOpt = DEFAULT_MAX_DURATION_S / 60,
    redact: RedactOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Transcribe and analyse sales calls; write a coaching report per call."""
    from pipeline.analyze import Analyzer
    from pipeline.report.files import report_files, write_all_or_nothing

    setup_logging(verbose)
    formats = parse_formats(format)
    if out is None and len(inputs) > 1:
        fail("several inputs need --out DIR (one report per input)")
    if out is not None:
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            fail(f"cannot create output folder {out}: {error.strerror or error}")
        if not os.access(out, os.W_OK):
            fail(f"output folder {out} is not writable")
    prepare_text_models()
    analyzer = Analyzer(analyze_options(model, language, rep_channel, device, compute_type, beam_size, mono, diarisation,
                                        max_minutes, redact))
    failures = 0
    for path in inputs:
        started = time.perf_counter()
        try:
            analysis = analyzer.analyze(path)
            if out is None:
                sys.stdout.write(analysis.report.model_dump_json(indent=2) + "\n")
                continue
            # Standalone reports embed the recording (linked instead when it is too big to embed).
            contents = report_files(analysis, out / path.stem, formats, embed_audio=True)
            write_all_or_nothing(contents)
            err.print(
                f"{path.name}: report → {', '.join(str(p) for p in contents)} ({time.perf_counter() - started:.1f} s)",
                highlight=False, soft_wrap=True,
            )
        except CallcoachError as error:
            failures += 1
            err.print(f"[red]error:[/red] {escape(str(error))}", highlight=False, soft_wrap=True)
        except OSError as error:
            failures += 1
            reason = escape(f"{path.name}: cannot write report ({error.strerror or error})")
            err.print(f"[red]error:[/red] {reason}", highlight=False)
    if failures:
        raise typer.Exit(2 if failures == len(inputs) else 1)
