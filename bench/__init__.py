"""Benchmarks (`make bench` runs `python -m bench`).

Every module of this package is a benchmark: it prints its figures from either
``async def main(argv: list[str]) -> None`` or ``def run() -> None``.  They are not timed
tests: they report, they do not assert.  Add one by adding a module.

Each benchmark also reports its headline figures with ``report(...)``: what statbot
measured, the reference measured in the same run (a bare bolt app, the rate-limit
floor…) when there is one, and the goal.  ``python -m bench`` prints them all at the end
as one table (figure, statbot, reference, ratio, goal).
"""

from __future__ import annotations

import pkgutil
from dataclasses import dataclass
from pathlib import Path


def benchmarks() -> list[str]:
    return sorted(
        m.name for m in pkgutil.iter_modules([str(Path(__file__).parent)]) if not m.name.startswith("_")
    )


@dataclass(frozen=True)
class Figure:
    name: str
    statbot: float
    unit: str = ""
    # The same measure of the reference, taken in the same run (None: no reference).
    reference: float | None = None
    # What "good" means, in words ("≤ 2× bare bolt", "< 1 s").
    goal: str = ""
    # Whether the goal was met (None: a figure with no pass/fail).
    met: bool | None = None

    @property
    def ratio(self) -> float | None:
        if self.reference is None or self.reference == 0:
            return None
        return self.statbot / self.reference


# Every figure reported since the process started (python -m bench prints them).
FIGURES: list[Figure] = []


def report(
    name: str,
    statbot: float,
    *,
    unit: str = "",
    reference: float | None = None,
    goal: str = "",
    met: bool | None = None,
) -> Figure:
    """Record one headline figure of a benchmark for the final table."""
    figure = Figure(name, statbot, unit, reference, goal, met)
    FIGURES.append(figure)
    return figure


def _number(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    text = f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"
    return f"{text} {unit}".strip()


def table(figures: list[Figure]) -> str:
    """The figures as one plain-text table."""
    header = ("figure", "statbot", "reference", "ratio", "goal", "")
    rows = [
        (
            f.name,
            _number(f.statbot, f.unit),
            _number(f.reference, f.unit),
            f"{f.ratio:.2f}×" if f.ratio is not None else "-",
            f.goal or "-",
            {True: "ok", False: "MISSED", None: ""}[f.met],
        )
        for f in figures
    ]
    widths = [max(len(r[i]) for r in (header, *rows)) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in (header, *rows)
    ]
    lines.insert(1, "  ".join("-" * w for w in widths).rstrip())
    return "\n".join(lines)
