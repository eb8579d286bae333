"""`callcoach batch`, `callcoach calls` and `callcoach team`: the nightly batch and what reads its store."""

import json
import os
import signal
import sys
from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from pipeline.audio.decode import DEFAULT_MAX_DURATION_S
from pipeline.cli._util import (
    BeamOpt,
    ComputeOpt,
    DeviceOpt,
    FormatOpt,
    Language,
    LanguageOpt,
    ListFormat,
    MaxMinutesOpt,
    ModelOpt,
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


class Executor(str, Enum):
    local = "local"
    ray = "ray"


class StatusFilter(str, Enum):
    queued = "queued"
    processing = "processing"
    done = "done"
    failed = "failed"


CALL_COLUMNS = (
    "call_id", "source", "sha256", "rep", "date", "status", "error",
    "meeting_pushed", "concrete", "downgraded", "distracted", "duration_s", "fingerprint",
)


WORKER_MEMORY_GIB = 2  # a worker peaks under 1 GiB (Whisper base int8, spaCy, jieba); leave room for the rest


def default_workers() -> int:
    """One single-threaded worker per core (measured faster than fewer workers with more threads, see
    benchmarks/bench_batch.py), but no more than the memory holds."""
    cores = os.cpu_count() or 1
    try:
        memory_gib = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") / 2**30
    except (ValueError, OSError, AttributeError):
        return cores
    return max(1, min(cores, int(memory_gib // WORKER_MEMORY_GIB)))


def call_record(row) -> dict:
    """The `callcoach calls` columns of a store row."""
    return {
        "call_id": row.call_id,
        "source": row.source,
        "sha256": row.sha256,
        "rep": row.rep,
        "date": row.call_date,
        "status": row.status,
        "error": row.error,
        "meeting_pushed": row.meeting_pushed,
        "concrete": row.concrete,
        "downgraded": row.downgraded,
        "distracted": row.distracted,
        "duration_s": row.duration_s,
        "fingerprint": row.fingerprint,
    }


def _cell(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)


def _raise_keyboard_interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


@app.command()
def batch(
    archive: Annotated[Path, typer.Argument(help="Archive folder: ARCHIVE/<rep>/... recordings and transcript .json files.")],
    db: Annotated[Path, typer.Option(help="SQLite store (created if missing); shared by runs, `calls` and `team`.")],
    out: Annotated[Path | None, typer.Option(help="Report folder: OUT/<rep>/<name>.json/.md/.html, mirroring the archive. Default: 'reports' beside the store.")] = None,
    workers: Annotated[
        int | None, typer.Option(min=1, help="Worker processes, each loading Whisper once and using cores / workers threads. Default: one per core (memory permitting).")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Analyse again calls already done by the same analysis (same fingerprint).")] = False,
    retry_failed: Annotated[bool, typer.Option("--retry-failed", help="Try again calls whose input failed before.")] = False,
    rep_pattern: Annotated[
        str | None, typer.Option(help="Regex with a named group 'rep', searched in the path relative to ARCHIVE.")
    ] = None,
    customer_pattern: Annotated[
        str | None, typer.Option(help="Regex with a named group 'customer', searched in the path relative to ARCHIVE "
                                 "(e.g. '(?P<customer>1[3-9]\\d{9})_' for 13812345678_20261201_1030.m4a). Without it, the "
                                 "customer is the one the call names (王总 … 华宫机械).")
    ] = None,
    since: Annotated[
        datetime | None,
        typer.Option(formats=["%Y-%m-%d"], help="Only calls dated on or after this day (from the file name, folders or mtime)."),
    ] = None,
    format: FormatOpt = "json,md,html",
    link_audio: Annotated[
        bool, typer.Option("--link-audio", help="Link the recording from the HTML report instead of embedding it.")
    ] = False,
    model: ModelOpt = "base",
    language: LanguageOpt = Language.auto,
    rep_channel: RepOpt = RepChannel.auto,
    device: DeviceOpt = "cpu",
    compute_type: ComputeOpt = "int8",
    beam_size: BeamOpt = 5,
    max_minutes: MaxMinutesOpt = DEFAULT_MAX_DURATION_S / 60,
    redact: RedactOpt = False,
    asr_cache: Annotated[
        bool, typer.Option("--asr-cache/--no-asr-cache", help="Keep what Whisper wrote beside the store "
                           "(calls.asr-cache/), so re-analysing a call after a pattern or model change skips "
                           "Whisper. Never with --redact.")
    ] = True,
    executor: Annotated[
        Executor, typer.Option(help="local: worker processes on this machine; ray: Ray actors on a cluster (pip install 'callcoach[ray]').")
    ] = Executor.local,
    ray_address: Annotated[
        str | None, typer.Option(help="With --executor ray: a running cluster (auto, HOST:PORT or ray://HOST:10001). Default: start a local Ray.")
    ] = None,
    shared_archive: Annotated[
        bool, typer.Option("--shared-archive", help="With --executor ray: ARCHIVE is mounted at the same path on every node (send paths, not recordings).")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar or summary; only failures (for cron).")] = False,
    verbose: VerboseOpt = False,
) -> None:
    """Analyse every new call in an archive folder into a store and a report folder (incremental, resumable)."""
    from pipeline.batch.progress import RichProgress, format_summary
    from pipeline.batch.run import BatchOptions, run_batch

    setup_logging(verbose)
    formats = parse_formats(format)
    prepare_text_models()
    options = BatchOptions(
        archive=archive,
        db=db,
        out=out if out is not None else db.parent / "reports",
        analyze=analyze_options(model, language, rep_channel, device, compute_type, beam_size,
                                max_minutes=max_minutes, redact=redact),
        workers=workers or default_workers(),
        formats=formats,
        embed_audio=not link_audio,
        force=force,
        retry_failed=retry_failed,
        rep_pattern=rep_pattern,
        customer_pattern=customer_pattern,
        since=since.date() if since else None,
        asr_cache=asr_cache and not redact,
    )
    # systemd stops a service with SIGTERM: stop like Ctrl-C (workers terminated, claims given back).
    signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
    if executor is Executor.ray:
        from functools import partial

        from pipeline.jobs.ray_executor import RayCallExecutor, check_reachable

        try:
            check_reachable(ray_address)
        except CallcoachError as error:
            fail(str(error))
        factory = partial(RayCallExecutor, address=ray_address, shared_fs=shared_archive)
    elif ray_address is not None or shared_archive:
        fail("--ray-address and --shared-archive need --executor ray")
    else:
        from pipeline.jobs.executors import ProcessPoolCallExecutor as factory  # type: ignore[assignment]
    try:
        summary = run_batch(options, progress=None if quiet else RichProgress(), executor_factory=factory)
    except CallcoachError as error:
        fail(str(error))
    except KeyboardInterrupt:
        err.print("interrupted", highlight=False)
        raise typer.Exit(130) from None
    if quiet:
        for source, reason in summary.failures:
            err.print(f"failed: {source}: {reason}", highlight=False, markup=False, soft_wrap=True)
    else:
        sys.stdout.write(format_summary(summary) + "\n")
    raise typer.Exit(summary.exit_code)

@app.command()
def calls(
    db: Annotated[Path, typer.Option(help="The store written by `callcoach batch`.")],
    rep: Annotated[str | None, typer.Option(help="Only this rep's calls.")] = None,
    status: Annotated[StatusFilter | None, typer.Option(help="Only calls in this state.")] = None,
    format: Annotated[ListFormat, typer.Option("--format", help="table or json.")] = ListFormat.table,
) -> None:
    """List the calls in a store."""
    from rich.console import Console
    from rich.table import Table

    from pipeline.store.database import Store

    try:
        with Store(db, create=False) as store:
            rows = store.calls(rep=rep, status=status.value if status else None)
    except CallcoachError as error:
        fail(str(error))
    records = [call_record(row) for row in rows]
    if format == ListFormat.json:
        sys.stdout.write(json.dumps(records, ensure_ascii=False, indent=2) + "\n")
        return
    # Sources relative to the folder they share (named in the title); the json format has everything in full.
    root = os.path.commonpath([r["source"] for r in records]) if records else ""
    if len(records) == 1:
        root = os.path.dirname(root)
    table = Table(*CALL_COLUMNS, title=f"{db} — {len(records)} calls{f' — sources in {root}' if root else ''}")
    for record in records:
        short = {**record, "sha256": record["sha256"][:12] + "…", "source": os.path.relpath(record["source"], root or None)}
        table.add_row(*(_cell(short[column]) for column in CALL_COLUMNS))
    console = Console()
    if not console.is_terminal:
        console = Console(width=240)  # piped: do not squeeze the table into 80 columns
    console.print(table)

@app.command()
def team(
    db: Annotated[Path, typer.Option(help="The store written by `callcoach batch`.")],
    out: Annotated[Path, typer.Option(help="The HTML page to write (links to reports are relative to it).")] = Path("team.html"),
) -> None:
    """Team view: per rep and ISO week, push / concrete / downgrade / distraction / adapted rates, with the
    best and worst calls linked. One self-contained HTML page."""
    from pipeline.report.team import write_team_page
    from pipeline.store.database import Store

    try:
        with Store(db, create=False) as store:
            rows = store.calls()
        write_team_page(rows, out)
    except CallcoachError as error:
        fail(str(error))
    except OSError as error:
        fail(f"cannot write {out}: {error.strerror or error}")
    err.print(f"team view → {out}", highlight=False)

