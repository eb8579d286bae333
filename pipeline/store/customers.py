"""Customer memory: each customer's calls in order, and the flags a coach acts on (见面三分情 — has this
customer been met, after how many calls, and did the rep bring them back?).

A call's customer comes from a file-name pattern (``--customer-pattern``), the web upload form, or the
name the call itself says (``Report.customer``, pipeline/analysis/customer.py). A spoken name is only
known within one rep's calls (two reps' 王总 are not one person), so spoken customers are grouped by
(rep, name); named ones by name alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Literal

from pipeline.language.timeplace import resolve_day
from pipeline.store.database import Store
from pipeline.store.records import CallRow

# This many calls without a single push for a meeting is a coaching flag.
NEVER_ASKED_AFTER_CALLS = 3
FlagCode = Literal["never_asked", "agreed_no_call_since", "agreed_not_confirmed"]


@dataclass(frozen=True)
class CustomerCall:
    call_id: str
    call_date: str | None
    rep: str | None
    source: str
    pushed: bool | None
    concrete: bool | None
    outcome: str | None
    downgraded: bool | None
    agreed_when: str | None  # the agreed meeting's time as said (周四下午两点)
    agreed_date: str | None  # ... as a date, resolved from the call's date (YYYY-MM-DD)
    agreed_clock: str | None
    mentions_past_meeting: bool  # the call speaks of a meeting that took place
    meeting_happened: bool | None  # a call that agreed a meeting: does the next call speak of it? None: no next call


@dataclass(frozen=True)
class Flag:
    code: FlagCode
    call_id: str | None = None  # the call the flag is about
    calls: int | None = None
    when: str | None = None  # as said
    due: str | None = None  # YYYY-MM-DD
    overdue: bool = False  # the agreed date has passed


@dataclass
class CustomerHistory:
    customer: str
    rep: str | None  # the rep whose calls name this customer (spoken names); None: named by file or upload
    source: str  # pattern / upload / spoken
    calls: list[CustomerCall] = field(default_factory=list)
    flags: list[Flag] = field(default_factory=list)

    @property
    def reps(self) -> list[str]:
        return sorted({call.rep for call in self.calls if call.rep})

    @property
    def met(self) -> bool:
        """A meeting took place, as far as the calls tell."""
        return any(call.mentions_past_meeting or call.meeting_happened for call in self.calls)

    @property
    def needs_push(self) -> bool:
        return bool(self.flags)

    @property
    def last_date(self) -> str | None:
        return self.calls[-1].call_date if self.calls else None

    def as_dict(self) -> dict:
        return {"customer": self.customer, "rep": self.rep, "source": self.source, "reps": self.reps,
                "met": self.met, "needs_push": self.needs_push, "last_call": self.last_date,
                "flags": [asdict(flag) for flag in self.flags], "calls": [asdict(call) for call in self.calls]}


def _group_of(row: CallRow) -> tuple[str, str | None]:
    assert row.customer is not None
    return row.customer, row.rep if row.customer_source == "spoken" else None


def _agreed_date(row: CallRow) -> str | None:
    if not row.agreed_day or not row.call_date:
        return None
    try:
        said_on = date.fromisoformat(row.call_date)
    except ValueError:
        return None
    resolved = resolve_day(row.agreed_day, said_on)
    return resolved.isoformat() if resolved else None


def _calls(rows: Sequence[CallRow]) -> list[CustomerCall]:
    calls = []
    for position, row in enumerate(rows):
        later = rows[position + 1] if position + 1 < len(rows) else None
        agreed = row.outcome == "accepted"
        calls.append(CustomerCall(
            call_id=row.call_id, call_date=row.call_date, rep=row.rep, source=row.source, pushed=row.meeting_pushed,
            concrete=row.concrete, outcome=row.outcome, downgraded=row.downgraded, agreed_when=row.agreed_when,
            agreed_date=_agreed_date(row), agreed_clock=row.agreed_clock,
            mentions_past_meeting=bool(row.mentions_past_meeting),
            meeting_happened=(bool(later.mentions_past_meeting) if later is not None else None) if agreed else None,
        ))
    return calls


def flags_of(calls: Sequence[CustomerCall], today: date) -> list[Flag]:
    """What a coach should look at for one customer's calls (oldest first)."""
    flags: list[Flag] = []
    if len(calls) >= NEVER_ASKED_AFTER_CALLS and not any(call.pushed for call in calls):
        flags.append(Flag("never_asked", calls=len(calls)))
    for position, call in enumerate(calls):
        if call.outcome != "accepted":
            continue
        overdue = call.agreed_date is not None and call.agreed_date < today.isoformat()
        if position == len(calls) - 1:
            flags.append(Flag("agreed_no_call_since", call_id=call.call_id, when=call.agreed_when, due=call.agreed_date,
                              overdue=overdue))
        elif call.meeting_happened is False:
            flags.append(Flag("agreed_not_confirmed", call_id=call.call_id, when=call.agreed_when, due=call.agreed_date,
                              overdue=overdue))
    return flags


def customer_histories(store: Store, rep: str | None = None, today: date | None = None) -> list[CustomerHistory]:
    """Every customer with an analysed call (of ``rep``'s calls only, when given), those needing attention
    first, then by their last call, newest first."""
    today = today or date.today()
    groups: dict[tuple[str, str | None], list[CallRow]] = {}
    for row in store.calls(rep=rep, status="done"):  # oldest first
        if row.customer:
            groups.setdefault(_group_of(row), []).append(row)
    histories = []
    for (customer, scope_rep), rows in groups.items():
        calls = _calls(rows)
        histories.append(CustomerHistory(customer, scope_rep, rows[-1].customer_source or "spoken", calls,
                                         flags_of(calls, today)))
    histories.sort(key=lambda h: h.last_date or "", reverse=True)
    histories.sort(key=lambda h: not h.needs_push)
    return histories


def customer_history(store: Store, customer: str, rep: str | None = None, today: date | None = None) -> CustomerHistory | None:
    """One customer's history (``rep`` names the rep of a spoken customer)."""
    for history in customer_histories(store, today=today):
        if history.customer == customer and history.rep == rep:
            return history
    return None
