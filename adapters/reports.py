"""What the `statbot digest` and `statbot export` commands do.

Export columns (one CSV file per table in the output directory, or one sheet per table
in a single .xlsx workbook).  Times are UTC, ISO 8601 in CSV (``2026-11-27T14:05:00+00:00``)
and plain date-times in the workbook; people are given by email; ``--since DATE`` keeps
rows of weeks starting on or after the week of DATE (readings, check-ins) or changed on or
after DATE (revisions, commitments, updates).

readings.csv            one row per metric and week (the current value)
    unit, metric, week, value, note, confirmed_outlier, updated_at, updated_by
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
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

from rich.console import Console
from sqlalchemy import Select, or_, select
from sqlalchemy.orm import aliased

from adapters.console.render import render_card, render_card_rich
from adapters.container import Container
from bot.clock import Clock
from bot.digests.service import build_for_week, last_week, post_now
from bot.org.context import NoOrganisationError, load_context
from bot.ports import UnitOfWorkFactory
from bot.weeks import parse_week, week_of, week_of_date
from storage.records import (
    CheckInRecord,
    CommitmentRecord,
    CommitmentUpdateRecord,
    MetricRecord,
    PersonRecord,
    ReadingRecord,
    ReadingRevisionRecord,
    UnitRecord,
)

EXPORT_TABLES: dict[str, tuple[str, ...]] = {
    "readings": (
        "unit",
        "metric",
        "week",
        "value",
        "note",
        "confirmed_outlier",
        "updated_at",
        "updated_by",
    ),
    "reading_revisions": (
        "unit",
        "metric",
        "week",
        "value",
        "previous_value",
        "changed_at",
        "changed_by",
        "note",
    ),
    "checkins": (
        "unit",
        "week",
        "state",
        "opened_at",
        "deadline_at",
        "respondent",
        "reminders_sent",
        "submitted_at",
        "submitted_by",
        "late",
        "excuse",
    ),
    "commitments": (
        "id",
        "unit",
        "owner",
        "text",
        "origin",
        "status",
        "due_on",
        "metric",
        "created_at",
        "created_by",
        "updated_at",
        "closed_at",
        "asked_by",
        "answer",
    ),
    "commitment_updates": ("commitment_id", "unit", "at", "by", "status", "due_on", "note"),
}


async def print_digest(
    container: Container, week: str | None, post: bool, console: Console, *, force: bool = False
) -> int:
    """Print the digest of ``week`` (default: last week) as cards, or with ``post`` put it
    in the outbox now.  A week already posted (by the Monday sweep or an earlier --post)
    is not sent again: it says when it was posted, and ``force`` re-sends it.  Returns the
    exit code: 0 done, 1 no organisation, 2 a bad week."""
    now = container.clock.now()
    factory = cast(UnitOfWorkFactory, container.uow)
    async with factory() as uow:
        try:
            context = await load_context(uow)
        except NoOrganisationError as exc:
            console.print(str(exc), markup=False, highlight=False)
            return 1
        try:
            target = parse_week(week) if week else last_week(context, now)
        except ValueError as exc:
            console.print(f"--week: {exc}", markup=False, highlight=False)
            return 2
        current = week_of(now, context.organisation.timezone)
        if target > current:
            console.print(
                f"--week {target} has not started yet (this week is {current}).",
                markup=False,
                highlight=False,
            )
            return 2
        if post:
            latest = last_week(context, now)
            units = await uow.units.all(active_only=False)
            first = min((u.created_at for u in units if u.created_at), default=None)
            first_week = week_of(first, context.organisation.timezone) if first else None
            if target > latest:
                console.print(
                    f"--week {target} has not ended yet; the latest week to post is {latest}.",
                    markup=False,
                    highlight=False,
                )
                return 2
            if first_week is not None and target < first_week:
                console.print(
                    f"--week {target} is before statbot knew any unit (from {first_week}).",
                    markup=False,
                    highlight=False,
                )
                return 2
        if not post:
            _, cards = await build_for_week(uow, target, now)
            for card in cards:
                if console.is_terminal:
                    console.print(render_card_rich(card))
                else:
                    # Piped or mailed by cron: plain text, wrapped, never cut at a width.
                    console.print(render_card(card, width=100), markup=False, highlight=False, soft_wrap=True)
            return 0
    result = await post_now(factory, container.clock, target, force=force)
    async with factory() as uow:
        record = await uow.digests.get("leadership", target)
    if record is not None and "skipped" in record.content and not force:
        message = (
            f"Nothing to post for {target}: no unit was asked for its numbers that week "
            "(statbot did not know the units yet)."
        )
    elif result.posted:
        message = (
            f"Posted the digest of {target}: {result.deliveries} message(s) in the outbox; "
            "the sender delivers them."
        )
    else:
        when = f"{result.posted_at:%a %d %b %Y %H:%M} UTC" if result.posted_at else "earlier"
        message = (
            f"The digest of {target} was already posted ({when}); nothing was sent again. "
            "Add --force to send it again."
        )
    console.print(message, markup=False, highlight=False)
    return 0


def _queries(since: dt.date | None) -> dict[str, Select[Any]]:
    unit, metric = UnitRecord, MetricRecord
    updated_by = aliased(PersonRecord)
    from_week = week_of_date(since) if since else None
    from_instant = dt.datetime.combine(since, dt.time(0), tzinfo=dt.UTC) if since else None

    readings = (
        select(
            unit.key,
            metric.key,
            ReadingRecord.week,
            ReadingRecord.value,
            ReadingRecord.note,
            ReadingRecord.confirmed_outlier,
            ReadingRecord.updated_at,
            updated_by.email,
        )
        .join(unit, unit.id == ReadingRecord.unit_id)
        .join(metric, metric.id == ReadingRecord.metric_id)
        .outerjoin(updated_by, updated_by.id == ReadingRecord.updated_by)
        .order_by(unit.key, metric.position, metric.key, ReadingRecord.week)
    )
    revisions = (
        select(
            unit.key,
            metric.key,
            ReadingRecord.week,
            ReadingRevisionRecord.value,
            ReadingRevisionRecord.previous_value,
            ReadingRevisionRecord.changed_at,
            updated_by.email,
            ReadingRevisionRecord.note,
        )
        .join(ReadingRecord, ReadingRecord.id == ReadingRevisionRecord.reading_id)
        .join(unit, unit.id == ReadingRecord.unit_id)
        .join(metric, metric.id == ReadingRecord.metric_id)
        .outerjoin(updated_by, updated_by.id == ReadingRevisionRecord.changed_by)
        .order_by(ReadingRevisionRecord.id)
    )
    respondent, submitter = aliased(PersonRecord), aliased(PersonRecord)
    checkins = (
        select(
            unit.key,
            CheckInRecord.week,
            CheckInRecord.state,
            CheckInRecord.opened_at,
            CheckInRecord.deadline_at,
            respondent.email,
            CheckInRecord.reminders_sent,
            CheckInRecord.submitted_at,
            submitter.email,
            CheckInRecord.late,
            CheckInRecord.excuse,
        )
        .join(unit, unit.id == CheckInRecord.unit_id)
        .outerjoin(respondent, respondent.id == CheckInRecord.respondent_id)
        .outerjoin(submitter, submitter.id == CheckInRecord.submitted_by)
        .order_by(CheckInRecord.week, unit.key)
    )
    owner, creator, asker = aliased(PersonRecord), aliased(PersonRecord), aliased(PersonRecord)
    c = CommitmentRecord
    commitments = (
        select(
            c.id,
            unit.key,
            owner.email,
            c.text,
            c.origin,
            c.status,
            c.due_on,
            metric.key,
            c.created_at,
            creator.email,
            c.updated_at,
            c.closed_at,
            asker.email,
            c.answer,
        )
        .join(unit, unit.id == c.unit_id)
        .join(owner, owner.id == c.owner_id)
        .outerjoin(metric, metric.id == c.metric_id)
        .outerjoin(creator, creator.id == c.created_by)
        .outerjoin(asker, asker.id == c.asked_by)
        .order_by(c.id)
    )
    u = CommitmentUpdateRecord
    updates = (
        select(u.commitment_id, unit.key, u.at, updated_by.email, u.status, u.due_on, u.note)
        .join(c, c.id == u.commitment_id)
        .join(unit, unit.id == c.unit_id)
        .outerjoin(updated_by, updated_by.id == u.by)
        .order_by(u.id)
    )
    if from_week is not None and from_instant is not None:
        readings = readings.where(ReadingRecord.week >= from_week)
        revisions = revisions.where(ReadingRevisionRecord.changed_at >= from_instant)
        checkins = checkins.where(CheckInRecord.week >= from_week)
        commitments = commitments.where(
            or_(c.updated_at >= from_instant, c.created_at >= from_instant, c.due_on >= since)
        )
        updates = updates.where(u.at >= from_instant)
    return {
        "readings": readings,
        "reading_revisions": revisions,
        "checkins": checkins,
        "commitments": commitments,
        "commitment_updates": updates,
    }


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
    tables: dict[str, Sequence[Sequence[Any]]] = {}
    async with container.engine.connect() as connection:
        for name, query in _queries(since).items():
            tables[name] = (await connection.execute(query)).all()
    return await asyncio.to_thread(_write_tables, tables, fmt, out)


def _write_tables(tables: dict[str, Sequence[Sequence[Any]]], fmt: str, out: Path) -> list[Path]:
    if fmt == "csv":
        out.mkdir(parents=True, exist_ok=True)
        written = []
        for name, rows in tables.items():
            path = out / f"{name}.csv"
            with path.open("w", newline="", encoding="utf-8") as handle:
                writer = csv.writer(handle)
                writer.writerow(EXPORT_TABLES[name])
                writer.writerows([_csv_value(v) for v in row] for row in rows)
            written.append(path)
        return written

    from openpyxl import Workbook  # type: ignore[import-untyped]

    path = out if out.suffix == ".xlsx" else out / "statbot-export.xlsx"
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook = Workbook(write_only=True)
    for name, rows in tables.items():
        sheet = workbook.create_sheet(title=name)
        sheet.append(
            [
                f"{column} (UTC)" if column.endswith("_at") or column == "at" else column
                for column in EXPORT_TABLES[name]
            ]
        )
        for row in rows:
            sheet.append([_xlsx_value(v) for v in row])
    workbook.save(path)
    return [path]


async def write_digest_files(
    uow_factory: UnitOfWorkFactory, clock: Clock, week: str, out_dir: Path
) -> list[Path]:
    """Write ``digest-<week>.txt`` and its chart PNGs into ``out_dir`` (for `statbot demo`).
    The posted digest is written as it was posted; a week not posted yet is built now."""
    from bot.digests.builder import Digest
    from bot.digests.cards import digest_text
    from bot.digests.charts import render_trend_chart
    from bot.messages.model import Image

    files: dict[str, bytes] = {}
    async with uow_factory() as uow:
        record = await uow.digests.get("leadership", week)
        if record is not None and "digest" in record.content:
            digest = Digest.model_validate(record.content["digest"])
            images: list[Image] = []
            for ref in record.content.get("charts", []):
                chart = await uow.digest_source.chart(ref)
                if chart is not None and ref.endswith("-all"):
                    files[f"{ref}.png"] = chart.png
                    images.append(Image(ref=ref, alt_text=chart.alt_text, title=chart.title))
        else:
            digest, cards = await build_for_week(uow, week, clock.now())
            images = [p for card in cards for p in card.parts if isinstance(p, Image)]
            if digest.charts and images:
                png, _ = render_trend_chart(digest.charts, title=f"Needs attention · {week}")
                files[f"{images[0].ref}.png"] = png
    files = {f"digest-{week}.txt": digest_text(digest, chart_refs=images).encode(), **files}
    return await asyncio.to_thread(_write_files, out_dir, files)


def _write_files(out_dir: Path, files: dict[str, bytes]) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, content in files.items():
        path = out_dir / name
        path.write_bytes(content)
        written.append(path)
    return written
