"""How times and percentages are written in the report views: mm:ss, seconds for ``data-t``, SVG percents."""

from __future__ import annotations

import math


def finite(t: float | None) -> float | None:
    """A usable time: finite and not negative, else None."""
    return t if t is not None and math.isfinite(t) and t >= 0 else None


def mmss(t: float | None) -> str:
    """12.3 -> "00:12"; minutes are not wrapped into hours; None -> "—"."""
    t = finite(t)
    if t is None:
        return "—"
    total = int(t)
    return f"{total // 60:02d}:{total % 60:02d}"


def secs(t: float | None) -> str:
    """Seconds for a ``data-t`` attribute: 12.3 -> "12.3", 6.5930 -> "6.593", 0 -> "0"."""
    t = finite(t)
    if t is None:
        return ""
    text = f"{t:.3f}".rstrip("0").rstrip(".")
    return text or "0"


def pct(x: float) -> str:
    return f"{max(0.0, min(100.0, x)):.3f}".rstrip("0").rstrip(".") or "0"
