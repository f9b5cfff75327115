"""What `statbot export` writes: the rows storage reads, as CSV files or a workbook.

Columns (one CSV file per table in the output directory, or one sheet per table
in a single .xlsx workbook).  Times are UTC, ISO 8601 in CSV (``2026-11-27T14:05:00+00:00``)
and plain date-times in the workbook; people are given by email; ``--since DATE`` keeps
rows of weeks starting on or after the week of DATE (readings, check-ins) or changed on or
after DATE (revisions, commitments, updates).

readings.csv            one row per metric and week (the current value, and the target
                        that applied in that week: targets change, past weeks keep theirs)
    unit, metric, week, value, target, note, confirmed_outlier, updated_at, updated_by
reading_revisions.csv   every value a reading ever had, oldest first
    unit, metric, week, value, previous_value, changed_at, changed_by, note
checkins.csv            one row per unit and week
    unit, week, state (open/submitted/excused), opened_at, deadline_at, respondent,
    reminders_sent, submitted_at, submitted_by, late, excuse
commitments.csv         commitments and leaders' follow-ups (origin = followup)
    id, unit, owner, text, origin (checkin/command/followup), status (open/done/dropped),
    due_on, metric, created_at, created_by, updated_at, closed_at, asked_by, answer
commitment_updates.csv  every change of a commitment, oldest first
    commitment_id, unit, at, by, status, due_on, note

``unit`` and ``metric`` are the keys of the org file (``sanitation``, ``missed_pickups``).
"""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
from pathlib import Path
from typing import Any

from adapters.container import Container
from storage.export import EXPORT_ROWS, ExportTable, export_tables

EXPORT_TABLES: dict[str, tuple[str, ...]] = {name: tuple(row._fields) for name, row in EXPORT_ROWS.items()}


def _csv_value(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return "" if value is None else _inert(value)


def _xlsx_value(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        # Spreadsheets have no time zones: the header says the times are UTC.
        return value.astimezone(dt.UTC).replace(tzinfo=None)
    return _inert(value)


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _inert(value: Any) -> Any:
    """People type commitments and notes: a text starting like a formula (=HYPERLINK(…))
    must stay text when the export is opened in a spreadsheet (OWASP's CSV injection
    advice: prefix it with a quote)."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


async def export_data(container: Container, fmt: str, since: dt.date | None, out: Path) -> list[Path]:
    """Write the export (see the module docstring for the columns) and return the files.
    ``out`` is a directory (created if needed); for xlsx it may also name the workbook."""
    if fmt not in ("csv", "xlsx"):
        raise ValueError(f"--format {fmt!r}: use csv or xlsx")
    tables = await export_tables(container.engine, since)
    return await asyncio.to_thread(_write_tables, tables, fmt, out)


def _write_tables(tables: list[ExportTable], fmt: str, out: Path) -> list[Path]:
    if fmt == "csv":
        out.mkdir(parents=True, exist_ok=True)
        written = []
        for table in tables:
            path = out / f"{table.name}.csv"
            with path.open("w", newline="", encoding="utf-8") as handle:
                writer = csv.writer(handle)
                writer.writerow(table.columns)
                writer.writerows([_csv_value(v) for v in row] for row in table.rows)
            written.append(path)
        return written

    from openpyxl import Workbook  # type: ignore[import-untyped]

    path = out if out.suffix == ".xlsx" else out / "statbot-export.xlsx"
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook = Workbook(write_only=True)
    for table in tables:
        sheet = workbook.create_sheet(title=table.name)
        sheet.append([f"{c} (UTC)" if c.endswith("_at") or c == "at" else c for c in table.columns])
        for row in table.rows:
            sheet.append([_xlsx_value(v) for v in row])
    workbook.save(path)
    return [path]
