"""A fixed week of the example org for digest tests and goldens: every exception kind,
promises kept, late, dropped and broken, and a cadence to measure.  Deterministic (fixed
times, a fresh database), so the digest it gives is the same on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest

from bot.audit import AuditEntry
from bot.checkins.models import CheckIn, Reading
from bot.commitments.models import Commitment
from bot.digests.builder import Digest, build_digest
from bot.digests.models import DigestRecord
from bot.escalations.models import Escalation
from bot.org.apply import apply_org
from bot.org.context import load_context
from bot.org.models import Metric, Person, Unit
from bot.org.schema import OrgFile
from bot.weeks import previous_weeks
from storage.uow import SqlUnitOfWorkFactory
from tests.helpers import ny

WEEK = "2026-W48"  # Mon 23 Nov – Sun 29 Nov 2026
DIGEST_TIME = ny(2026, 11, 30, 8, 0)  # Monday 08:00 in Riverton
NOW = ny(2026, 11, 30, 9, 0)
CREATED = dt.datetime(2026, 8, 1, tzinfo=dt.UTC)
DANA, PRIYA, JORDAN = "dana.whitfield@riverton.gov", "priya.raman@riverton.gov", "jordan.kim@riverton.gov"


@dataclass
class Prepared:
    ids: dict[str, int]


@pytest.fixture
async def org(uow: SqlUnitOfWorkFactory, example_org: OrgFile) -> SqlUnitOfWorkFactory:
    # Applied long before the covered week: units created later are not in its digest.
    async with uow() as work:
        await apply_org(work, example_org, now=CREATED)
        await work.commit()
    return uow


async def org_maps(uow: SqlUnitOfWorkFactory) -> tuple[dict[str, Unit], dict[str, Metric], dict[str, Person]]:
    async with uow() as work:
        units = {u.key: u for u in await work.units.all()}
        metrics = {
            f"{u.key}.{m.key}": m for u in units.values() for m in await work.metrics.for_unit(u.id or 0)
        }
        people = {p.email: p for p in await work.people.all()}
    return units, metrics, people


def make_checkin(
    unit: Unit, week: str, state: str, *, late: bool = False, excuse: str | None = None, by: int | None = None
) -> CheckIn:
    assert unit.id is not None
    opened = ny(2026, 11, 26, 9)
    return CheckIn(
        unit_id=unit.id,
        week=week,
        state=state,
        opened_at=opened,
        deadline_at=opened,
        late=late,
        excuse=excuse,
        submitted_by=by if state == "submitted" else None,
        submitted_at=opened + dt.timedelta(days=2 if late else 1) if state == "submitted" else None,
    )


async def prepare(uow: SqlUnitOfWorkFactory) -> Prepared:
    units, metrics, people = await org_maps(uow)
    ids: dict[str, int] = {}
    weeks = [*previous_weeks(WEEK, 11), WEEK]
    async with uow() as work:
        # Check-ins: the covered week, and three ordinary weeks before it (the cadence).
        states: dict[str, tuple[str, bool, str | None]] = {
            "streets": ("submitted", True, None),
            "customer_service": ("excused", False, "Thanksgiving: the head and deputy are away"),
            "fire": ("open", False, None),
        }
        for key, unit in units.items():
            if key == "parks":
                continue  # never opened: counts as not submitted
            state, late, excuse = states.get(key, ("submitted", False, None))
            checkin = await work.checkins.add(
                make_checkin(unit, WEEK, state, late=late, excuse=excuse, by=unit.head_id)
            )
            ids[f"checkin.{key}"] = checkin.id or 0
            for week in weeks[-4:-1]:
                late_before = key == "permits" and week == weeks[-2]
                # Fire & EMS missed the week before as well: its escalation still runs.
                missed_before = key == "fire" and week == weeks[-2]
                earlier = await work.checkins.add(
                    make_checkin(
                        unit,
                        week,
                        "open" if missed_before else "submitted",
                        late=late_before,
                        by=unit.head_id,
                    )
                )
                if missed_before:
                    ids["checkin.fire.before"] = earlier.id or 0
        # Readings: every metric on target for 12 weeks, then the stories of the week.
        for name, metric in metrics.items():
            if name.startswith(("customer_service.", "fire.")):
                continue
            good = metric.target * (0.9 if metric.direction == "lower" else 1.1)
            series = dict.fromkeys(weeks, good)
            note, confirmed = "", False
            if name == "sanitation.missed_pickups":  # lower is better, target 120, amber 30
                series.update({weeks[-3]: 160, weeks[-2]: 170, weeks[-1]: 200})
                note = "Two trucks broke down"
            elif name == "streets.potholes_filled":  # higher is better, target 400, amber 50
                series.update({weeks[-2]: 420, weeks[-1]: 300})
            elif name == "housing.first_inspection_days":  # target 5, amber 2: amber
                series[weeks[-1]] = 6
            elif name == "water.main_breaks":
                series[weeks[-1]] = 2
                note, confirmed = "Really two: a quiet week", True
            for week, value in series.items():
                await work.readings.add(
                    Reading(
                        unit_id=metric.unit_id,
                        metric_id=metric.id or 0,
                        week=week,
                        value=value,
                        updated_at=NOW - dt.timedelta(days=3),
                        updated_by=None,
                        note=note if week == WEEK else "",
                        confirmed_outlier=confirmed and week == WEEK,
                    )
                )

        def commitment(
            key: str,
            text: str,
            due: dt.date,
            *,
            status: str = "open",
            updated: dt.datetime | None = None,
            closed: dt.datetime | None = None,
            origin: str = "command",
            asked_by: int | None = None,
            answer: str | None = None,
            created: dt.datetime | None = None,
        ) -> Commitment:
            unit = units[key]
            return Commitment(
                unit_id=unit.id or 0,
                owner_id=unit.head_id,
                text=text,
                due_on=due,
                status=status,
                origin=origin,
                created_at=created or ny(2026, 11, 2, 10),
                updated_at=updated or ny(2026, 11, 27, 10),
                closed_at=closed,
                asked_by=asked_by,
                answer=answer,
            )

        day = dt.date
        plan = {
            "overdue": commitment("sanitation", "Hire two drivers", day(2026, 11, 20)),
            "quiet": commitment(
                "streets", "Resurface Elm Street", day(2026, 12, 20), updated=ny(2026, 11, 1, 10)
            ),
            "due_soon": commitment("parks", "Open the winter skating rink", day(2026, 12, 3)),
            "kept": commitment(
                "permits",
                "Publish the permit backlog",
                day(2026, 11, 26),
                status="done",
                closed=ny(2026, 11, 25, 15),
            ),
            "kept_late": commitment(
                "housing",
                "Board up 12 Oak Lane",
                day(2026, 11, 24),
                status="done",
                closed=ny(2026, 11, 28, 11),
            ),
            "broken": commitment("water", "Replace the Main St valve", day(2026, 11, 27)),
            "dropped": commitment(
                "permits",
                "Pilot online inspections",
                day(2026, 11, 25),
                status="dropped",
                closed=ny(2026, 11, 24, 9),
            ),
            "asked": commitment(
                "housing",
                "Why is the inspection backlog growing?",
                day(2026, 11, 27),
                origin="followup",
                asked_by=people[DANA].id,
                created=ny(2026, 11, 24, 9),
            ),
            "answered": commitment(
                "sanitation",
                "What happened on Route 9?",
                day(2026, 11, 18),
                status="done",
                origin="followup",
                asked_by=people[DANA].id,
                answer="A truck broke down.",
                created=ny(2026, 11, 16, 9),
                closed=ny(2026, 11, 17, 9),
            ),
        }
        for name, item in plan.items():
            ids[name] = (await work.commitments.add(item)).id or 0

        def escalation(kind: str, subject: int, key: str, *, state: str = "active") -> Escalation:
            return Escalation(
                kind=kind,
                subject_id=subject,
                unit_id=units[key].id or 0,
                episode="1",
                policy={},
                state=state,
                step=1,
                next_step_at=NOW + dt.timedelta(hours=4),
                created_at=ny(2026, 11, 27, 14),
                updated_at=ny(2026, 11, 28, 9),
            )

        ids["esc.fire"] = (
            await work.escalations.add(escalation("missed_checkin", ids["checkin.fire"], "fire"))
        ).id or 0
        before = escalation("missed_checkin", ids["checkin.fire.before"], "fire")
        before.step, before.created_at = 2, ny(2026, 11, 20, 14)
        ids["esc.fire.before"] = (await work.escalations.add(before)).id or 0
        ids["esc.overdue"] = (
            await work.escalations.add(escalation("overdue_commitment", ids["overdue"], "sanitation"))
        ).id or 0
        done = await work.escalations.add(
            escalation("quiet_commitment", 999, "permits", state="acknowledged")
        )
        # Last week's digest flagged three items; leaders acted on two of them during the week.
        await work.digests.add_if_absent(
            DigestRecord(
                audience="leadership",
                week="2026-W47",
                built_at=ny(2026, 11, 23, 8),
                posted_at=ny(2026, 11, 23, 8),
                content={
                    "flagged": [
                        ["metric:streets/potholes_filled"],
                        ["commitment:999", f"escalation:{done.id}"],
                        ["commitment:12345"],
                    ]
                },
            )
        )
        await work.audit.record(
            AuditEntry(
                at=ny(2026, 11, 24, 9),
                actor_id=people[DANA].id,
                action="followup.asked",
                subject="unit:streets",
                detail={"unit": "streets", "metric": "potholes_filled"},
            )
        )
        await work.audit.record(
            AuditEntry(
                at=ny(2026, 11, 25, 9),
                actor_id=people[PRIYA].id,
                action="escalation.acknowledged",
                subject=f"escalation:{done.id}",
            )
        )
        await work.audit.record(
            AuditEntry(
                at=ny(2026, 11, 25, 9),
                actor_id=people[PRIYA].id,
                action="commitment.created",
                subject="commitment:1",
            )
        )
        await work.commit()
    return Prepared(ids)


async def build(uow: SqlUnitOfWorkFactory, now: dt.datetime = NOW) -> Digest:
    async with uow() as work:
        context = await load_context(work)
        data = await work.digest_source.load(week=WEEK)
    return build_digest(data, now=now, context=context)
