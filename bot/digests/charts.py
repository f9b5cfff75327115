"""Trend charts for the metrics that need attention: one PNG of small multiples, each
with its target line (a step where the target changed: each week against its own
target), plus a text alternative that says the same in words.

matplotlib is imported on first use with the Agg backend (no display, thread-safe
enough for one render at a time), so importing the core stays fast.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from typing import Any

from bot.checkins.status import format_value
from bot.digests.models import ChartSeries
from bot.org.models import Metric

_COLOURS = {"red": "#c0392b", "amber": "#d68910", "green": "#1e8449", "none": "#5d6d7e"}


def _metric(series: ChartSeries) -> Metric:
    return Metric(
        unit_id=0,
        key=series.metric_key,
        name=series.metric_name,
        measure=series.measure,
        direction=series.direction,
        target=series.target,
        amber=series.amber,
    )


def _target_steps(series: ChartSeries) -> list[tuple[float, float, str]]:
    """Where the target line steps: (before, after, first week of the new target)."""
    steps = []
    for index in range(1, len(series.targets)):
        before, after = series.targets[index - 1], series.targets[index]
        if before != after:
            steps.append((before, after, series.weeks[index]))
    return steps


def alt_text(series: Sequence[ChartSeries]) -> str:
    """The chart in words: per panel the latest value against the target, the range over
    the window, and how long it has been off target."""
    if not series:
        return "No metric needs attention: nothing to chart."
    weeks = series[0].weeks
    span = f"{weeks[0]} to {weeks[-1]}" if weeks else ""
    parts = [f"Trends of {len(series)} metric{'s' if len(series) != 1 else ''} needing attention, {span}."]
    for s in series:
        metric = _metric(s)
        present = [v for v in s.values if v is not None]
        latest = s.values[-1] if s.values else None
        words = f"{s.unit_name} — {s.metric_name}: {format_value(metric, latest)} "
        words += f"against a target of {format_value(metric, s.target)} ({s.direction} is better)"
        for before, after, week in _target_steps(s):
            shown = format_value(metric, before), format_value(metric, after)
            words += f"; the target moved from {shown[0]} to {shown[1]} in {week}"
        if present:
            low, high = format_value(metric, min(present)), format_value(metric, max(present))
            words += f"; between {low} and {high}"
        if s.off_target_weeks:
            words += f"; off target {s.off_target_weeks} week{'s' if s.off_target_weeks != 1 else ''} running"
        parts.append(words + ".")
    return " ".join(parts)


def render_trend_chart(series: Sequence[ChartSeries], *, title: str = "") -> tuple[bytes, str]:
    """PNG bytes of the small multiples, and their text alternative."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    count = max(len(series), 1)
    columns = min(3, count)
    rows = math.ceil(count / columns)
    figure = Figure(figsize=(3.6 * columns, 2.4 * rows + (0.4 if title else 0)), dpi=100)
    if title:
        figure.suptitle(title, fontsize=11)
    for index, s in enumerate(series):
        axes: Any = figure.add_subplot(rows, columns, index + 1)
        xs = list(range(len(s.values)))
        points = [(x, v) for x, v in zip(xs, s.values, strict=True) if v is not None]
        colour = _COLOURS.get(s.status, _COLOURS["none"])
        if points:
            axes.plot(
                [p[0] for p in points],
                [p[1] for p in points],
                marker="o",
                markersize=3,
                color=colour,
                linewidth=1.6,
            )
        if s.targets:
            # Each week against the target it was judged by: the line steps where it changed.
            axes.step(xs, s.targets, where="mid", color="#566573", linestyle="--", linewidth=1)
        else:
            axes.axhline(s.target, color="#566573", linestyle="--", linewidth=1)
        axes.set_title(f"{s.unit_name}\n{s.metric_name}", fontsize=8)
        labels = [w.split("-")[1] for w in s.weeks]
        step = max(1, len(labels) // 4)
        axes.set_xticks(xs[::step])
        axes.set_xticklabels(labels[::step], fontsize=7)
        axes.tick_params(axis="y", labelsize=7)
        axes.grid(alpha=0.25)
    if not series:
        axes = figure.add_subplot(1, 1, 1)
        axes.text(0.5, 0.5, "Nothing needs attention", ha="center", va="center")
        axes.set_axis_off()
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue(), alt_text(series)
