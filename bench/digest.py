"""Building one Monday digest for a large organisation.

1,000 units × 8 metrics × 104 weeks of readings (832,000) and 20,000 commitments, on
SQLite (a file cached under .bench/, generated on the first run) and on PostgreSQL when
STATBOT_BENCH_POSTGRES_URL or STATBOT_TEST_DATABASE_URL is set (in a fresh database that
is dropped afterwards).  Prints the time of load + build + cards, and the number of SQL
statements, which must be the same for 100 units as for 1,000.  Goal: under 1 s on SQLite.
The chart is rendered once, outside the timed loop, and its time is printed separately.
"""

from __future__ import annotations

import datetime as dt
import gc
import os
import random
import statistics
import time
import uuid
from pathlib import Path
from typing import Any, cast

from sqlalchemy import event, insert, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from bench import report
from bot.digests.builder import build_digest
from bot.digests.cards import digest_cards
from bot.digests.charts import render_trend_chart
from bot.org.context import load_context
from bot.ports import UnitOfWorkFactory
from bot.weeks import monday_of, previous_weeks
from storage.engine import create_engine, session_factory
from storage.migrations import head_revision
from storage.records import (
    Base,
    CheckInRecord,
    CommitmentRecord,
    EscalationRecord,
    MetricRecord,
    MetricTargetRecord,
    OrgSettingsRecord,
    PersonRecord,
    PolicyRecord,
    ReadingRecord,
    UnitRecord,
)
from storage.uow import SqlUnitOfWorkFactory

WEEK = "2026-W48"
NOW = dt.datetime(2026, 11, 30, 14, 0, tzinfo=dt.UTC)  # Monday 09:00 in New York
CACHE = Path(".bench")
METRICS = 8
HISTORY = 104
COMMITMENTS = 20_000
RUNS = 5
CHUNK = 20_000


def _chunks(rows: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    return [rows[i : i + CHUNK] for i in range(0, len(rows), CHUNK)]


async def generate(engine: AsyncEngine, units: int, *, commitments: int) -> None:
    rng = random.Random(48)
    at = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    weeks = [*previous_weeks(WEEK, HISTORY - 1), WEEK]
    async with engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
        await connection.execute(
            insert(OrgSettingsRecord),
            [
                {
                    "name": "Bench City",
                    "timezone": "America/New_York",
                    "options": {
                        "leadership_channel": "citistat",
                        "digest": {"audience": ["leader0@bench.gov", "leader1@bench.gov"]},
                    },
                }
            ],
        )
        await connection.execute(
            insert(PolicyRecord), [{"name": "standard", "definition": {"name": "standard", "chains": {}}}]
        )
        people = [
            {
                "id": n + 1,
                "email": f"leader{n}@bench.gov",
                "name": f"Leader {n}",
                "timezone": "America/New_York",
                "roles": ["leader"],
                "active": True,
            }
            for n in range(10)
        ]
        for u in range(units):
            for role in ("head", "deputy"):
                people.append(
                    {
                        "id": len(people) + 1,
                        "email": f"{role}{u}@bench.gov",
                        "name": f"{role} {u}",
                        "timezone": "America/New_York",
                        "roles": [],
                        "active": True,
                    }
                )
        for chunk in _chunks(people):
            await connection.execute(insert(PersonRecord), chunk)
        unit_rows = [
            {
                "id": u + 1,
                "key": f"unit{u:04d}",
                "name": f"Unit {u:04d}",
                "timezone": "America/New_York",
                "head_id": 11 + 2 * u,
                "deputy_id": 12 + 2 * u,
                "leader_id": 1 + u % 10,
                "checkin_weekday": 4,
                "checkin_time": dt.time(9),
                "deadline_weekday": 5,
                "deadline_time": dt.time(16),
                "restricted": u % 100 == 7,
                "escalation_policy": "standard",
                "active": True,
                "created_at": at,
            }
            for u in range(units)
        ]
        await connection.execute(insert(UnitRecord), unit_rows)
        metric_rows = []
        for u in range(units):
            for m in range(METRICS):
                metric_rows.append(
                    {
                        "id": u * METRICS + m + 1,
                        "unit_id": u + 1,
                        "key": f"m{m}",
                        "name": f"Metric {m}",
                        "measure": "count",
                        "direction": "higher" if m % 2 else "lower",
                        "target": 100.0,
                        "minimum": 0.0,
                        "maximum": 10_000.0,
                        "amber": 10.0,
                        "active": True,
                        "position": m,
                    }
                )
        for chunk in _chunks(metric_rows):
            await connection.execute(insert(MetricRecord), chunk)
        # Every metric has its first target on record, as `statbot org apply` leaves it,
        # and one in ten had its target changed within the digest's window.
        target_rows = [
            {
                "metric_id": m["id"],
                # The metric's own target is the latest one.
                "target": m["target"] * (1.05 if first and m["id"] % 10 == 0 else 1.0),
                "amber": m["amber"],
                "direction": m["direction"],
                "valid_from": weeks[0] if first else weeks[-6],
                "recorded_at": at if first else NOW - dt.timedelta(weeks=6),
            }
            for m in metric_rows
            for first in ((True, False) if m["id"] % 10 == 0 else (True,))
        ]
        for chunk in _chunks(target_rows):
            await connection.execute(insert(MetricTargetRecord), chunk)
        readings: list[dict[str, Any]] = []
        for metric in metric_rows:
            level = rng.uniform(70, 130)
            for week in weeks:
                level = max(0.0, level + rng.gauss(0, 6))
                readings.append(
                    {
                        "unit_id": metric["unit_id"],
                        "metric_id": metric["id"],
                        "week": week,
                        "value": round(level, 1),
                        "updated_at": at,
                        "updated_by": None,
                        "note": "",
                        "confirmed_outlier": rng.random() < 0.002,
                    }
                )
                if len(readings) >= CHUNK:
                    await connection.execute(insert(ReadingRecord), readings)
                    readings = []
        if readings:
            await connection.execute(insert(ReadingRecord), readings)
        checkins = []
        for u in range(units):
            for week in weeks[-4:]:
                state = rng.choices(["submitted", "open", "excused"], [90, 7, 3])[0]
                opened = dt.datetime.combine(monday_of(week), dt.time(14), tzinfo=dt.UTC)
                checkins.append(
                    {
                        "unit_id": u + 1,
                        "week": week,
                        "state": state,
                        "opened_at": opened,
                        "deadline_at": opened,
                        "submitted_at": opened if state == "submitted" else None,
                        "submitted_by": 11 + 2 * u if state == "submitted" else None,
                        "late": state == "submitted" and rng.random() < 0.1,
                        "excuse": "away" if state == "excused" else None,
                        "draft": {},
                        "reminders_sent": 0,
                    }
                )
        for chunk in _chunks(checkins):
            await connection.execute(insert(CheckInRecord), chunk)
        rows = []
        for n in range(commitments):
            u = rng.randrange(units)
            created = NOW - dt.timedelta(days=rng.randint(1, 120))
            status = rng.choices(["open", "done", "dropped"], [60, 35, 5])[0]
            followup = rng.random() < 0.1
            rows.append(
                {
                    "unit_id": u + 1,
                    "owner_id": 11 + 2 * u,
                    "text": f"Commitment {n}",
                    "status": status,
                    "due_on": (created + dt.timedelta(days=rng.randint(7, 60))).date(),
                    "origin": "followup" if followup else "command",
                    "created_at": created,
                    "updated_at": created + dt.timedelta(days=rng.randint(0, 20)),
                    "closed_at": None if status == "open" else created + dt.timedelta(days=5),
                    "created_by": None,
                    "metric_id": None,
                    "asked_by": 1 + u % 10 if followup else None,
                    "answer": "Answered." if followup and status == "done" else None,
                }
            )
        for chunk in _chunks(rows):
            await connection.execute(insert(CommitmentRecord), chunk)
        escalations = [
            {
                "kind": "overdue_commitment",
                "subject_id": n + 1,
                "unit_id": rows[n]["unit_id"],
                "episode": "1",
                "policy": {},
                "state": "active",
                "step": 1,
                "next_step_at": NOW,
                "created_at": NOW - dt.timedelta(days=3),
                "updated_at": NOW,
                "snoozed_until": None,
                "acted_by": None,
                "notified": [],
            }
            for n in range(0, min(commitments, 5000), 10)
        ]
        await connection.execute(insert(EscalationRecord), escalations)


async def measure(engine: AsyncEngine) -> tuple[list[float], int, Any]:
    uow = cast(UnitOfWorkFactory, SqlUnitOfWorkFactory(session_factory(engine)))
    statements = 0

    def count(*_: Any) -> None:
        nonlocal statements
        statements += 1

    times: list[float] = []
    digest = None
    for run in range(RUNS):
        digest = None
        gc.collect()  # each run starts as a fresh request would, without the last one's garbage
        statements = 0
        event.listen(engine.sync_engine, "before_cursor_execute", count)
        started = time.perf_counter()
        async with uow() as work:
            context = await load_context(work)
            data = await work.digest_source.load(week=WEEK)
        digest = build_digest(data, now=NOW, context=context)
        digest_cards(digest)
        times.append(time.perf_counter() - started)
        event.remove(engine.sync_engine, "before_cursor_execute", count)
        if run == 0:
            first_statements = statements
    return times, first_statements, digest


def _report(label: str, times: list[float], statements: int) -> None:
    print(
        f"{label}: best {min(times) * 1000:.0f} ms, median {statistics.median(times) * 1000:.0f} ms "
        f"over {len(times)} runs (load + build + cards); {statements} SQL statements"
    )


async def generate_into(url: str, label: str, units: int) -> None:
    engine = create_engine(url)
    try:
        started = time.perf_counter()
        await generate(engine, units, commitments=COMMITMENTS if units >= 1000 else COMMITMENTS // 10)
        print(f"{label}: generated {units} units in {time.perf_counter() - started:.1f} s")
    finally:
        await engine.dispose()


async def bench_url(url: str, label: str, units: int, *, generate_first: bool) -> tuple[int, Any]:
    if generate_first:
        await generate_into(url, label, units)
    engine = create_engine(url)
    try:
        times, statements, digest = await measure(engine)
        _report(f"{label}, {units} units", times, statements)
        if units >= 1000:
            best = min(times)
            report(f"digest build, {units} units ({label})", best, unit="s", goal="< 1 s", met=best < 1.0)
        return statements, digest
    finally:
        await engine.dispose()


async def _sqlite(units: int) -> tuple[int, Any]:
    CACHE.mkdir(exist_ok=True)
    # Keyed by the schema revision: a cache made before a migration is never reused.
    path = CACHE / f"digest-{units}u-{head_revision()}.db"
    fresh = not path.exists()
    if fresh:
        partial = path.with_suffix(".partial")
        partial.unlink(missing_ok=True)
        await generate_into(f"sqlite+aiosqlite:///{partial}", "SQLite", units)
        partial.rename(path)
    return await bench_url(f"sqlite+aiosqlite:///{path}", "SQLite", units, generate_first=False)


async def _postgres(server_url: str) -> None:
    server = make_url(server_url)
    name = f"statbot_bench_{uuid.uuid4().hex[:8]}"

    async def admin(statement: str) -> None:
        engine = create_engine(server.render_as_string(hide_password=False), isolation_level="AUTOCOMMIT")
        async with engine.connect() as connection:
            await connection.execute(text(statement))
        await engine.dispose()

    await admin(f'CREATE DATABASE "{name}"')
    try:
        url = server.set(database=name).render_as_string(hide_password=False)
        for units in (100, 1000):
            engine = create_engine(url)
            async with engine.begin() as connection:
                await connection.run_sync(Base.metadata.drop_all)
            await engine.dispose()
            await bench_url(url, "PostgreSQL", units, generate_first=True)
    finally:
        await admin(f'DROP DATABASE IF EXISTS "{name}"')


async def main(argv: list[str]) -> None:
    small, _ = await _sqlite(100)
    large, digest = await _sqlite(1000)
    verdict = "same" if small == large else "DIFFERENT: a query runs per unit"
    print(f"SQL statements: {small} for 100 units, {large} for 1,000 units ({verdict})")
    report(
        "digest SQL statements, 1,000 vs 100 units",
        large,
        reference=small,
        goal="same (1.00×)",
        met=small == large,
    )
    started = time.perf_counter()
    png, _ = render_trend_chart(digest.charts, title=f"Needs attention · {WEEK}")
    print(
        f"chart: {len(digest.charts)} panels, {len(png) // 1024} KiB PNG, "
        f"rendered in {(time.perf_counter() - started) * 1000:.0f} ms (once per digest, not timed above)"
    )
    server = os.environ.get("STATBOT_BENCH_POSTGRES_URL") or os.environ.get("STATBOT_TEST_DATABASE_URL")
    if server:
        await _postgres(server)
    else:
        print("PostgreSQL: skipped (set STATBOT_BENCH_POSTGRES_URL or STATBOT_TEST_DATABASE_URL)")
