"""`statbot export` (CSV and xlsx) and `statbot digest` through adapters/export.py and adapters/digest_print.py."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import pytest
from openpyxl import load_workbook  # type: ignore[import-untyped]
from rich.console import Console
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.container import Container
from adapters.digest_print import print_digest, write_digest_files
from adapters.export import EXPORT_TABLES, export_data
from adapters.settings import Settings
from bot.checkins.models import CheckIn, Reading, ReadingRevision
from bot.clock import FakeClock
from bot.commitments.models import Commitment, CommitmentUpdate
from bot.org.apply import apply_org
from bot.org.schema import OrgFile
from storage.export import ReadingRow, export_tables
from storage.uow import SqlUnitOfWorkFactory
from tests.helpers import ny

CREATED = dt.datetime(2026, 8, 1, tzinfo=dt.UTC)
HEAD = "robert.hayes@riverton.gov"


@pytest.fixture
async def container(
    uow: SqlUnitOfWorkFactory, engine: AsyncEngine, example_org: OrgFile, db_url: str
) -> Container:
    async with uow() as work:
        await apply_org(work, example_org, now=CREATED)
        await work.commit()
    return Container(
        settings=Settings(database_url=db_url), engine=engine, uow=uow, clock=FakeClock(ny(2026, 11, 30, 9))
    )


async def _data(container: Container) -> None:
    async with container.uow() as work:
        unit = await work.units.by_key("sanitation")
        head = await work.people.by_email(HEAD)
        assert unit is not None and unit.id is not None and head is not None
        metric = (await work.metrics.for_unit(unit.id))[0]
        assert metric.id is not None
        for week, value, at in (
            ("2026-W40", 100.0, ny(2026, 10, 2, 10)),
            ("2026-W48", 160.0, ny(2026, 11, 27, 10)),
        ):
            reading = await work.readings.add(
                Reading(
                    unit_id=unit.id,
                    metric_id=metric.id,
                    week=week,
                    value=value,
                    updated_at=at,
                    updated_by=head.id,
                    note="Route 9 <late>",
                )
            )
            await work.readings.add_revision(
                ReadingRevision(
                    reading_id=reading.id or 0,
                    value=value - 5,
                    previous_value=None,
                    changed_at=at,
                    changed_by=head.id,
                )
            )
            await work.readings.add_revision(
                ReadingRevision(
                    reading_id=reading.id or 0,
                    value=value,
                    previous_value=value - 5,
                    changed_at=at + dt.timedelta(hours=1),
                    changed_by=head.id,
                    note="edited",
                )
            )
            await work.checkins.add(
                CheckIn(
                    unit_id=unit.id,
                    week=week,
                    state="submitted",
                    opened_at=at,
                    deadline_at=at,
                    submitted_at=at,
                    submitted_by=head.id,
                    late=week == "2026-W48",
                )
            )
        commitment = await work.commitments.add(
            Commitment(
                unit_id=unit.id,
                owner_id=head.id or 0,
                text='Hire two drivers, "fast"',
                due_on=dt.date(2026, 12, 4),
                status="open",
                origin="command",
                created_at=ny(2026, 11, 27, 11),
                updated_at=ny(2026, 11, 27, 11),
                created_by=head.id,
                metric_id=metric.id,
            )
        )
        await work.commitments.add_update(
            CommitmentUpdate(
                commitment_id=commitment.id or 0,
                at=ny(2026, 11, 27, 11),
                by=head.id,
                status="open",
                due_on=dt.date(2026, 12, 4),
                note="created",
            )
        )
        await work.commit()


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


async def test_csv_export_has_every_table_with_documented_columns(
    container: Container, tmp_path: Path
) -> None:
    await _data(container)
    files = await export_data(container, "csv", None, tmp_path / "out")
    assert [f.name for f in files] == [f"{name}.csv" for name in EXPORT_TABLES]
    for path in files:
        with path.open(encoding="utf-8") as handle:
            assert tuple(next(csv.reader(handle))) == EXPORT_TABLES[path.stem]
    readings = _read(tmp_path / "out" / "readings.csv")
    assert readings[1] == {
        "unit": "sanitation",
        "metric": "missed_pickups",
        "week": "2026-W48",
        "value": "160",
        "target": "120",
        "note": "Route 9 <late>",
        "confirmed_outlier": "false",
        "updated_at": "2026-11-27T15:00:00+00:00",
        "updated_by": HEAD,
    }
    revisions = _read(tmp_path / "out" / "reading_revisions.csv")
    assert [(r["week"], r["previous_value"], r["value"], r["note"]) for r in revisions] == [
        ("2026-W40", "", "95", ""),
        ("2026-W40", "95", "100", "edited"),
        ("2026-W48", "", "155", ""),
        ("2026-W48", "155", "160", "edited"),
    ]
    checkins = _read(tmp_path / "out" / "checkins.csv")
    assert [(c["unit"], c["week"], c["state"], c["late"], c["submitted_by"]) for c in checkins] == [
        ("sanitation", "2026-W40", "submitted", "false", HEAD),
        ("sanitation", "2026-W48", "submitted", "true", HEAD),
    ]
    (commitment,) = _read(tmp_path / "out" / "commitments.csv")
    assert (
        commitment["text"],
        commitment["owner"],
        commitment["due_on"],
        commitment["metric"],
        commitment["status"],
    ) == ('Hire two drivers, "fast"', HEAD, "2026-12-04", "missed_pickups", "open")
    (update,) = _read(tmp_path / "out" / "commitment_updates.csv")
    assert (update["commitment_id"], update["unit"], update["by"], update["note"]) == (
        commitment["id"],
        "sanitation",
        HEAD,
        "created",
    )


async def test_since_keeps_only_recent_rows(container: Container, tmp_path: Path) -> None:
    await _data(container)
    await export_data(container, "csv", dt.date(2026, 11, 1), tmp_path)
    assert [r["week"] for r in _read(tmp_path / "readings.csv")] == ["2026-W48"]
    assert [r["week"] for r in _read(tmp_path / "checkins.csv")] == ["2026-W48"]
    assert len(_read(tmp_path / "reading_revisions.csv")) == 2
    assert len(_read(tmp_path / "commitments.csv")) == 1


async def test_xlsx_export_has_one_sheet_per_table(container: Container, tmp_path: Path) -> None:
    await _data(container)
    (path,) = await export_data(container, "xlsx", None, tmp_path)
    workbook = load_workbook(path, read_only=True)
    assert workbook.sheetnames == list(EXPORT_TABLES)
    rows = list(workbook["readings"].iter_rows(values_only=True))
    assert rows[0] == (
        "unit",
        "metric",
        "week",
        "value",
        "target",
        "note",
        "confirmed_outlier",
        "updated_at (UTC)",
        "updated_by",
    )
    assert rows[2][:4] == ("sanitation", "missed_pickups", "2026-W48", 160)
    assert rows[2][7] == dt.datetime(2026, 11, 27, 15, 0, tzinfo=dt.UTC).replace(tzinfo=None)
    assert len(list(workbook["commitment_updates"].iter_rows(values_only=True))) == 2


async def test_unknown_format_is_refused(container: Container, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="use csv or xlsx"):
        await export_data(container, "json", None, tmp_path)


def _console() -> tuple[Console, io.StringIO]:
    buffer = io.StringIO()
    return Console(file=buffer, width=120, color_system=None), buffer


async def test_digest_command_prints_last_week_then_posts_once(container: Container, tmp_path: Path) -> None:
    await _data(container)
    console, buffer = _console()
    assert await print_digest(container, None, False, console) == 0
    printed = buffer.getvalue()
    assert "Leadership digest · 2026-W48" in printed and "Scorecard · 2026-W48" in printed
    console, buffer = _console()
    assert await print_digest(container, "2026-w48", True, console) == 0
    assert "Posted the digest of 2026-W48:" in buffer.getvalue()
    console, buffer = _console()
    assert await print_digest(container, "2026-W48", True, console) == 0
    assert "was already posted (Mon 30 Nov 2026 14:00 UTC); nothing was sent again" in buffer.getvalue()
    console, buffer = _console()
    assert await print_digest(container, "next week", False, console) == 2
    files = await write_digest_files(container.uow, container.clock, "2026-W48", tmp_path / "demo")
    assert files[0].name == "digest-2026-W48.txt"
    assert "Leadership digest · 2026-W48" in files[0].read_text()
    assert [f.name for f in files[1:]] == ["digest-2026-W48-all.png"]
    assert files[1].read_bytes().startswith(b"\x89PNG")


async def test_text_that_looks_like_a_formula_stays_text(container: Container, tmp_path: Path) -> None:
    await _data(container)
    async with container.uow() as uow:
        commitment = (await uow.commitments.all_open())[0]
        commitment.text = '=HYPERLINK("http://evil.example","click")'
        await uow.commitments.save(commitment)
        await uow.commit()
    (path,) = await export_data(container, "xlsx", None, tmp_path)
    sheet = load_workbook(path)["commitments"]
    cells = [
        c for row in sheet.iter_rows() for c in row if isinstance(c.value, str) and "HYPERLINK" in c.value
    ]
    assert [(c.value, c.data_type) for c in cells] == [('\'=HYPERLINK("http://evil.example","click")', "s")]
    await export_data(container, "csv", None, tmp_path / "csv")
    texts = [r["text"] for r in _read(tmp_path / "csv" / "commitments.csv")]
    assert texts == ['\'=HYPERLINK("http://evil.example","click")']


async def test_posting_an_unfinished_or_prehistoric_week_is_refused(container: Container) -> None:
    await _data(container)
    console, buffer = _console()
    assert await print_digest(container, "2026-W49", True, console) == 2
    assert "has not ended yet; the latest week to post is 2026-W48" in buffer.getvalue()
    console, buffer = _console()
    assert await print_digest(container, "2026-W50", False, console) == 2
    assert "2026-W50 has not started yet (this week is 2026-W49)" in buffer.getvalue()
    console, buffer = _console()
    assert await print_digest(container, "2019-W01", True, console) == 2
    assert "before statbot knew any unit" in buffer.getvalue()
    async with container.uow() as uow:
        assert await uow.digests.get("leadership", "2026-W50") is None


async def test_storage_reads_typed_rows_named_by_the_export_columns(container: Container) -> None:
    await _data(container)
    tables = await export_tables(container.engine, dt.date(2026, 11, 1))
    assert [t.name for t in tables] == list(EXPORT_TABLES)
    assert all(t.columns == EXPORT_TABLES[t.name] for t in tables)
    (reading,) = tables[0].rows
    assert isinstance(reading, ReadingRow)
    assert (reading.unit, reading.metric, reading.week, reading.value, reading.updated_by) == (
        "sanitation",
        "missed_pickups",
        "2026-W48",
        160.0,
        HEAD,
    )


def test_the_export_and_digest_commands_hold_no_sql() -> None:
    """The queries live in storage/export.py; the adapters only write what it reads."""
    import ast

    import adapters.digest_print
    import adapters.export

    for module in (adapters.export, adapters.digest_print):
        tree = ast.parse(Path(module.__file__ or "").read_text(encoding="utf-8"))
        imported = {
            alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names
        }
        imported |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
        assert not {name for name in imported if name.split(".")[0] == "sqlalchemy"}, module.__name__


async def test_sessions_their_items_and_memos_are_exported(container: Container, tmp_path: Path) -> None:
    from bot.conversation import StatBot
    from bot.sessions.jobs import plan_sessions
    from tests.helpers import pid

    clock = FakeClock(dt.datetime(2026, 11, 30, 12, tzinfo=dt.UTC))
    await plan_sessions(container.uow, clock)
    clock.set(dt.datetime(2026, 12, 1, 15, 10, tzinfo=dt.UTC))  # Sanitation's session is under way
    bot = StatBot(container.uow, clock)
    chair = await pid(container.uow, "luis.ortega@riverton.gov")
    await bot.on_text(chair, f"promise @{HEAD} =Clear the backlog by Dec 18")
    await bot.on_text(chair, "decide Two trucks move to Route 7")
    await bot.on_text(chair, "session close")
    await bot.on_text(chair, "session cancel 2 Storm response")  # Streets, Tue 15 Dec
    await export_data(container, "csv", None, tmp_path / "out")
    sessions = {r["id"]: r for r in _read(tmp_path / "out" / "sessions.csv")}
    assert sessions["1"]["unit"] == "sanitation" and sessions["1"]["state"] == "closed"
    assert sessions["1"]["attendees"] == "jordan.kim@riverton.gov"
    assert sessions["1"]["closed_by"] == "luis.ortega@riverton.gov"
    assert sessions["2"]["state"] == "cancelled" and sessions["2"]["cancel_reason"] == "Storm response"
    items = _read(tmp_path / "out" / "session_items.csv")
    assert [(i["kind"], i["text"]) for i in items] == [
        ("promise", "'=Clear the backlog"),  # formula-like text stays text
        ("decision", "Two trucks move to Route 7"),
    ]
    assert (
        items[0]["owner"] == HEAD and items[0]["due_on"] == "2026-12-18" and items[0]["commitment_id"] == "1"
    )
    (memo,) = _read(tmp_path / "out" / "session_documents.csv")
    assert memo["kind"] == "memo" and memo["state"] == "draft"
    assert memo["body"].startswith("# Follow-up memo: Sanitation stat session")
    # Sessions before --since are left out, with their items and documents.
    await export_data(container, "csv", dt.date(2026, 12, 2), tmp_path / "later")
    assert [r["id"] for r in _read(tmp_path / "later" / "sessions.csv")] != []
    assert "1" not in {r["id"] for r in _read(tmp_path / "later" / "sessions.csv")}
    assert _read(tmp_path / "later" / "session_items.csv") == []
