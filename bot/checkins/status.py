"""How a reading compares with its target and with its own past.

The metric given is the one as judged in the reading's week (bot/org/targets.py): a
week is judged by the target that applied in it, not by today's."""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence

from bot.messages import Status
from bot.org.models import Metric

_UNITS = {"percent": "%", "dollars": "$", "days": "days", "hours": "h", "count": "", "number": ""}


def metric_status(metric: Metric, value: float | None) -> Status:
    """green on or beyond target, amber within the amber band on the wrong side, red
    beyond it (the metric's direction says which side is wrong)."""
    if value is None:
        return "none"
    gap = (metric.target - value) if metric.direction == "higher" else (value - metric.target)
    if gap <= 0:
        return "green"
    return "amber" if gap <= metric.amber else "red"


def latest_week(series: Mapping[str, float], weeks: Sequence[str]) -> str | None:
    """The latest of ``weeks`` with a value in ``series`` (the week a status shows)."""
    return next((w for w in reversed(weeks) if w in series), None)


def format_value(metric: Metric, value: float | None) -> str:
    if value is None:
        return "—"
    text = f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}".rstrip("0").rstrip(".")
    match metric.measure:
        case "percent":
            return f"{text}%"
        case "dollars":
            return f"${text}"
        case "days":
            return f"{text} days" if value != 1 else "1 day"
        case "hours":
            return f"{text} h"
        case _:
            return text


def format_change(metric: Metric, change: float) -> str:
    """A week-on-week change with its arrow: a percentage moves by points ("▼ 2.4 pts"),
    everything else in the metric's own measure ("▲ 30", "▲ 1 day")."""
    arrow = "▲" if change > 0 else "▼"
    size = abs(change)
    if metric.measure == "percent":
        text = f"{size:,.0f}" if float(size).is_integer() else f"{size:,.1f}"
        return f"{arrow} {text} {'pt' if size == 1 else 'pts'}"
    return f"{arrow} {format_value(metric, size)}"


def target_text(metric: Metric) -> str:
    sign = "≥" if metric.direction == "higher" else "≤"
    return f"{sign} {format_value(metric, metric.target)}"


def unit_label(metric: Metric) -> str:
    return _UNITS.get(metric.measure, "")


def recent_median(history: Sequence[float]) -> float | None:
    return statistics.median(history) if history else None


def outlier_ratio(value: float, history: Sequence[float], factor: float) -> float | None:
    """How many times bigger (or smaller) than the recent median ``value`` is, when that
    exceeds ``factor``; None when the value looks ordinary or there is no history."""
    median = recent_median(history)
    if median is None:
        return None
    if median == 0:
        # Zero history: only a jump well away from zero is suspicious.
        return None if abs(value) < factor else float("inf")
    if value == 0:
        return float("inf") if abs(median) >= factor else None
    ratio = value / median
    if ratio <= 0:
        return float("inf")
    ratio = max(ratio, 1 / ratio)
    return ratio if ratio > factor else None
