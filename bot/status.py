"""`status`: where a unit stands this week, or every unit at a glance."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from bot.checkins.cards import local
from bot.checkins.models import CheckIn, CheckInState
from bot.checkins.status import format_value, metric_status, target_text
from bot.commitments.service import find_unit, units_of
from bot.messages import Card, Fact, Facts, Heading, Note, Part, Reply, Sparkline, Status
from bot.org.models import Person, Unit
from bot.permissions import can_read, require_read
from bot.ports import UnitOfWork
from bot.weeks import previous_weeks, week_of


def checkin_state(checkin: CheckIn | None, tz: str) -> tuple[str, Status]:
    if checkin is None:
        return "not opened yet", "none"
    match checkin.state:
        case CheckInState.SUBMITTED if checkin.submitted_at is not None:
            late = " (late)" if checkin.late else " on time"
            return f"submitted{late} {local(checkin.submitted_at, tz)}", "amber" if checkin.late else "green"
        case CheckInState.EXCUSED:
            return f"excused: {checkin.excuse}", "none"
        case _:
            return f"open, due {local(checkin.deadline_at, tz)}", "none"


async def status(uow: UnitOfWork, person: Person, unit_name: str | None, now: dt.datetime) -> Reply:
    if unit_name:
        unit = await find_unit(uow, unit_name)
        require_read(person, unit)
        return Reply(messages=(await unit_card(uow, person, unit, now),))
    mine = await units_of(uow, person)
    if mine:
        return Reply(messages=tuple([await unit_card(uow, person, u, now) for u in mine]))
    return Reply(messages=(await overview_card(uow, person, now),))


async def unit_card(uow: UnitOfWork, person: Person, unit: Unit, now: dt.datetime) -> Card:
    assert unit.id is not None
    week = week_of(now, unit.timezone)
    weeks = [*previous_weeks(week, 11), week]
    checkin = await uow.checkins.for_unit_week(unit.id, week)
    state, state_status = checkin_state(checkin, person.timezone)
    metrics = await uow.metrics.for_unit(unit.id)
    history = await uow.readings.history([m.id for m in metrics if m.id is not None], weeks)
    values: dict[int, dict[str, float]] = {}
    for r in history:
        values.setdefault(r.metric_id, {})[r.week] = r.value
    checkin_facts = [Fact(label="Check-in", value=state, status=state_status)]
    # An earlier week still open is late and matters more than this week's.
    for older in await uow.checkins.for_unit(unit.id, limit=4):
        if older.week < week and older.state == CheckInState.OPEN:
            due = local(older.deadline_at, person.timezone)
            checkin_facts.append(
                Fact(label=f"Still open: {older.week}", value=f"late, was due {due}", status="red")
            )
    parts: list[Part] = [Heading(text=f"{unit.name} · {week}"), Facts(facts=tuple(checkin_facts))]
    facts = []
    sparks = []
    for m in metrics:
        series = values.get(m.id or 0, {})
        latest_week = next((w for w in reversed(weeks) if w in series), None)
        value = series.get(latest_week) if latest_week else None
        when = "" if latest_week in (None, week) else f" ({latest_week})"
        facts.append(
            Fact(
                label=m.name,
                value=f"{format_value(m, value)}{when} · target {target_text(m)}",
                status=metric_status(m, value),
            )
        )
        sparks.append(
            Sparkline(
                label=m.name, values=tuple(series.get(w) for w in weeks), status=metric_status(m, value)
            )
        )
    if facts:
        parts.append(Facts(facts=tuple(facts)))
        parts.extend(sparks)
    commitments = await uow.commitments.open_for_unit(unit.id)
    today = now.astimezone(ZoneInfo(unit.timezone)).date()
    late = sum(1 for c in commitments if c.due_on < today)
    parts.append(Note(text=f"{len(commitments)} open commitment(s), {late} overdue."))
    return Card(parts=tuple(parts), summary=f"{unit.name} {week}: {state}")


async def overview_card(uow: UnitOfWork, person: Person, now: dt.datetime) -> Card:
    facts = []
    for unit in await uow.units.all():
        if not can_read(person, unit):
            continue
        assert unit.id is not None
        week = week_of(now, unit.timezone)
        checkin = await uow.checkins.for_unit_week(unit.id, week)
        state, state_status = checkin_state(checkin, person.timezone)
        metrics = await uow.metrics.for_unit(unit.id)
        readings = {r.metric_id: r.value for r in await uow.readings.for_unit_week(unit.id, week)}
        red = sum(1 for m in metrics if metric_status(m, readings.get(m.id or 0)) == "red")
        extra = f" · {red} metric(s) off target" if red else ""
        facts.append(Fact(label=unit.name, value=state + extra, status="red" if red else state_status))
    return Card(
        parts=(
            Heading(text="All units this week"),
            Facts(facts=tuple(facts)),
            Note(text="status <unit> shows one unit in detail."),
        ),
        summary=f"{len(facts)} units",
    )
