"""What the nightly batch shows: a progress bar weighted by audio seconds, and the end-of-run summary."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.jobs.worker import CallResult, CallTask

if TYPE_CHECKING:
    from pipeline.batch.run import BatchSummary

SKIP_REASONS = {
    "done": "already done by the same analysis (fingerprint)",
    "failed_before": "failed before on this input (--retry-failed to try again)",
    "in_progress": "being analysed by another run",
    "elsewhere": "taken by another run meanwhile",
    "before_since": "dated before --since",
}


class RichProgress:
    """A progress bar on stderr: calls done / total, successes and failures, elapsed time and ETA. The bar
    advances by audio seconds, so the ETA reflects how much audio is left, not how many files."""

    def __init__(self, console=None):
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

        self.progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            TextColumn("{task.fields[counts]}"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=console or Console(stderr=True),
            transient=False,
        )
        self.total = self.finished = self.ok = self.failed = 0

    def _counts(self) -> str:
        return f"{self.finished}/{self.total} calls · [green]{self.ok} done[/green] · [red]{self.failed} failed[/red]"

    def start(self, tasks: Sequence[CallTask]) -> None:
        self.total = len(tasks)
        self.task_id = self.progress.add_task("analysing", total=sum(t.weight_s for t in tasks), counts=self._counts())
        self.progress.start()

    def advance(self, task: CallTask, result: CallResult) -> None:
        self.finished += 1
        self.ok += result.outcome == "done"
        self.failed += result.outcome == "failed"
        self.progress.update(self.task_id, advance=task.weight_s, counts=self._counts())

    def stop(self) -> None:
        self.progress.stop()


def _minutes(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(int(round(seconds)), 60)
    return f"{minutes} min {rest:02d} s"


def format_summary(summary: BatchSummary, max_failures: int = 10) -> str:
    """The end-of-run summary, one screen: what was found, done, skipped and failed, and how fast."""
    d = summary.discovery
    kinds = Counter(call.kind for call in d.calls)
    lines = [
        f"callcoach batch {summary.archive} → {summary.out}  (store {summary.db}, run {summary.run_id})",
        f"  found      {d.files_seen} files: {len(d.calls)} calls ({kinds['audio']} recordings, "
        f"{kinds['transcript']} transcripts), {len(d.duplicates)} duplicate copies, {len(d.not_calls)} not calls",
    ]
    by_reason = Counter(reason for _, reason in d.not_calls)
    for reason, count in by_reason.most_common():
        examples = [name for name, why in d.not_calls if why == reason][:2]
        lines.append(f"             {count} × {reason}: {', '.join(examples)}{' …' if count > len(examples) else ''}")
    if summary.reclaimed or summary.temp_files_removed:
        lines.append(
            f"  recovered  {summary.reclaimed} calls left by a crashed run, {summary.temp_files_removed} stale temporary files removed"
        )
    lines.append(f"  done       {summary.done}  ({summary.done_audio_s / 60:.1f} audio min)")
    skipped = sum(summary.skipped.values())
    lines.append(f"  skipped    {skipped}")
    for reason, count in summary.skipped.most_common():
        lines.append(f"             {count} × {SKIP_REASONS.get(reason, reason)}")
    lines.append(f"  failed     {len(summary.failures)}")
    for source, error in summary.failures[:max_failures]:
        lines.append(f"             {source}: {error.removeprefix(Path(source).name + ': ')}")
    if len(summary.failures) > max_failures:
        lines.append(f"             … {len(summary.failures) - max_failures} more: callcoach calls --db {summary.db} --status failed")
    speed = ""
    if summary.done_audio_s and summary.wall_s:
        speed = f" · {summary.done_audio_s / summary.wall_s:.1f} audio min per wall min"
    rss = ""
    if summary.peak_rss_mib:
        rss = f" · peak memory per worker {max(summary.peak_rss_mib.values()):.0f} MiB"
    lines.append(f"  wall time  {_minutes(summary.wall_s)} · {summary.workers} worker(s){speed}{rss}")
    if summary.status == "interrupted":
        lines.append("  INTERRUPTED: unfinished calls stay queued; run the same command again to continue.")
    return "\n".join(lines)
