"""What the coach's workbench says about customers and talk, in the user's language (strings in
``ui_strings.json``): customer flags, and a call's talk metrics beside the team's medians."""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pipeline.report.strings import ui

if TYPE_CHECKING:
    from pipeline.store.customers import Flag
    from pipeline.store.records import CallRow

TALK_METRICS = ("rep_talk_share", "longest_rep_monologue_s", "rep_questions", "customer_questions",
                "customer_interruptions")


def flag_text(language: str, flag: Flag) -> str:
    """One customer flag as a sentence: "4 calls, never asked to meet"."""
    when = flag.when or ui(language, "customer.when_unknown")
    key = f"customer.flag.{flag.code}"
    if flag.code == "agreed_no_call_since" and flag.overdue:
        key += ".overdue"
    return ui(language, key, calls=flag.calls or 0, when=when, due=flag.due or "")


def format_talk_value(metric: str, value: float | int | None) -> str:
    if value is None:
        return "—"
    if metric == "rep_talk_share":
        return f"{value:.0%}"
    if metric == "longest_rep_monologue_s":
        return f"{value:.0f} s"
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)


def team_medians(rows: Iterable[CallRow]) -> dict[str, float | None]:
    """Each talk metric's median over the analysed calls that have it."""
    values: dict[str, list[float]] = {metric: [] for metric in TALK_METRICS}
    for row in rows:
        for metric in TALK_METRICS:
            value = getattr(row, metric)
            if value is not None:
                values[metric].append(float(value))
    return {metric: statistics.median(found) if found else None for metric, found in values.items()}


@dataclass(frozen=True)
class TalkLine:
    metric: str
    label: str
    value: str
    team_median: str


def talk_lines(language: str, call: CallRow, medians: dict[str, float | None]) -> Sequence[TalkLine]:
    """A call's talk metrics, each with the team's median beside it, ready to show."""
    return [TalkLine(metric, ui(language, f"talk.{metric}"), format_talk_value(metric, getattr(call, metric)),
                     format_talk_value(metric, medians.get(metric)))
            for metric in TALK_METRICS]
