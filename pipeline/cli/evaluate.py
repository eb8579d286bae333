"""`callcoach eval`: precision / recall / F1 and accuracies of the analysis against labeled calls."""

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from pipeline.cli._util import (
    BeamOpt,
    ComputeOpt,
    DeviceOpt,
    Diarisation,
    DiarisationOpt,
    Language,
    LanguageOpt,
    ModelOpt,
    MonoOpt,
    RepChannel,
    RepOpt,
    analyze_options,
    app,
    err,
    fail,
    prepare_text_models,
    setup_logging,
)
from pipeline.errors import CallcoachError


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
    require_f1: Annotated[
        float | None, typer.Option(min=0.0, max=1.0, help="Exit 1 when the F1 of pushed or distracted is below this.")
    ] = None,
) -> None:
    """Precision / recall / F1 for meeting.pushed and distraction.distracted, and accuracies, over labeled calls."""
    from pipeline.analyze import Analyzer
    from pipeline.training import evaluate as ev

    setup_logging(False)
    try:
        calls = ev.load_labeled(labeled, labels)
    except CallcoachError as error:
        fail(str(error))
    prepare_text_models()
    analyzer = Analyzer(analyze_options(model, language, rep_channel, device, compute_type, beam_size, mono, diarisation))

    def progress(position: int, total: int, call_id: str) -> None:
        err.print(f"[{position + 1}/{total}] {call_id}", highlight=False, end="\r")

    result = ev.run(
        calls,
        analyze_file=lambda path: analyzer.analyze(path).report,
        analyze_inline=lambda transcript, source: analyzer.analyze_transcript(transcript, source),
        on_progress=progress,
    )
    console = Console()
    title = f"{labeled} — {result.n_calls} calls" + (" (mixed to mono)" if mono else "")
    table = Table("field", "precision", "recall", "F1", "accuracy", "tp", "fp", "fn", "tn", title=title)
    for name, row in result.binary.items():
        table.add_row(name, f"{row['precision']:.3f}", f"{row['recall']:.3f}", f"{row['f1']:.3f}", f"{row['accuracy']:.3f}",
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
    _print_feedback_retrain(console)
    if json_out:
        json_out.write_text(json.dumps(result.as_dict(), ensure_ascii=False, indent=2), "utf-8")
    below = [name for name, row in result.binary.items() if require_f1 is not None and row["f1"] < require_f1]
    for name in below:
        console.print(f"[red]below {require_f1}[/red]: {name} F1 {result.binary[name]['f1']:.3f}", highlight=False)
    if result.failed or below:
        raise typer.Exit(1)


def _print_feedback_retrain(console: Console) -> None:
    """Which classifiers learned from coaches' corrections, with the held-out figures before and after."""
    from pipeline.language.classifiers import LANGUAGES, TASKS, model_name, training_record

    for task in TASKS.values():
        for language in LANGUAGES:
            feedback = (training_record(task, language) or {}).get("feedback")
            if not feedback:
                continue
            before, after = feedback["heldout_before"]["pooled"], feedback["heldout_after"]["pooled"]
            console.print(
                f"{model_name(task, language)} includes {feedback['calls']} coach-corrected calls (accepted "
                f"{feedback['accepted_at']}): held-out meeting.pushed F1 {before['meeting.pushed_f1']:.3f} → "
                f"{after['meeting.pushed_f1']:.3f}, outcome accuracy {before['meeting.outcome_accuracy']:.3f} → "
                f"{after['meeting.outcome_accuracy']:.3f} ({before['calls']} calls)", highlight=False)
