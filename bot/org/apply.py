"""Applying the org file: compare it with what is stored, write the difference.

Idempotent: applying the same file twice changes nothing the second time.  Nothing with
history is ever deleted: a person, unit or metric missing from the file is retired
(inactive) and keeps its readings; putting it back in the file revives it.  Nor is a
target overwritten: a metric's target, amber band and direction are kept as a history
(bot/org/targets.py), and a change applies from the week it is applied in.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Literal

from bot.audit import AuditEntry
from bot.org.models import Metric, OrgSettings, Person, StoredPolicy, Unit
from bot.org.schema import OrgFile, weekday_number
from bot.org.targets import MetricTarget
from bot.ports import UnitOfWork
from bot.weeks import week_of


@dataclass(frozen=True, slots=True)
class Change:
    kind: Literal["added", "changed", "retired"]
    what: str
    details: tuple[str, ...] = ()

    def __str__(self) -> str:
        sign = {"added": "+", "changed": "~", "retired": "-"}[self.kind]
        more = f" ({'; '.join(self.details)})" if self.details else ""
        return f"{sign} {self.kind} {self.what}{more}"


@dataclass(slots=True)
class OrgDiff:
    changes: list[Change] = field(default_factory=list)

    def add(
        self, kind: Literal["added", "changed", "retired"], what: str, details: list[str] | None = None
    ) -> None:
        self.changes.append(Change(kind, what, tuple(details or ())))

    def count(self, kind: str) -> int:
        return sum(1 for c in self.changes if c.kind == kind)

    @property
    def empty(self) -> bool:
        return not self.changes


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, dt.time):
        return value.strftime("%H:%M")
    return str(value)


def _update(item: Any, wanted: dict[str, Any], names: dict[int, str] | None = None) -> list[str]:
    """Set fields that differ and describe each change as ``field: old → new`` (person
    ids shown as e-mails, from ``names``)."""
    details = []
    for field_name, value in wanted.items():
        old = getattr(item, field_name)
        if old == value:
            continue
        label, shown_old, shown_new = field_name, old, value
        if names is not None and field_name.endswith("_id"):
            label = field_name.removesuffix("_id")
            shown_old, shown_new = names.get(old, "nobody"), names.get(value, "nobody")
        details.append(f"{label}: {_fmt(shown_old)} → {_fmt(shown_new)}")
        setattr(item, field_name, value)
    return details


async def apply_org(
    uow: UnitOfWork, org: OrgFile, *, now: dt.datetime, actor_id: int | None = None
) -> OrgDiff:
    """Write ``org`` through ``uow`` (the caller commits, or not for a dry run)."""
    diff = OrgDiff()
    o = org.organisation
    options = o.model_dump(mode="json", exclude={"name", "timezone", "holidays"})
    wanted_settings: dict[str, Any] = {
        "name": o.name,
        "timezone": o.timezone,
        "holiday_country": o.holidays.country if o.holidays else None,
        "holiday_subdivision": o.holidays.subdivision if o.holidays else None,
        "options": options,
    }
    settings = await uow.org.settings()
    if settings is None:
        await uow.org.save_settings(OrgSettings(**wanted_settings))
        diff.add("added", f"organisation {o.name!r}")
    else:
        details = _update(settings, wanted_settings)
        if details:
            await uow.org.save_settings(settings)
            diff.add(
                "changed",
                "organisation",
                [d.split(":")[0] if d.startswith("options") else d for d in details],
            )

    stored_policies = {p.name: p for p in await uow.org.policies()}
    for policy in org.escalation_policies:
        definition = policy.model_dump(mode="json")
        existing = stored_policies.pop(policy.name, None)
        if existing is None:
            await uow.org.save_policy(StoredPolicy(name=policy.name, definition=definition))
            diff.add("added", f"escalation policy {policy.name}")
        elif existing.definition != definition:
            existing.definition = definition
            await uow.org.save_policy(existing)
            diff.add("changed", f"escalation policy {policy.name}")
    for name in stored_policies:
        await uow.org.delete_policy(name)
        diff.add("retired", f"escalation policy {name}")

    people = {p.email: p for p in await uow.people.all(active_only=False)}
    ids: dict[str, int] = {}
    for entry in org.people:
        wanted: dict[str, Any] = {
            "name": entry.name,
            "timezone": entry.timezone or o.timezone,
            "roles": sorted(entry.roles),
            "active": True,
        }
        # Platform ids found by lookup are kept unless the file names them.
        if entry.slack_id:
            wanted["slack_user_id"] = entry.slack_id
        if entry.teams_id:
            wanted["teams_user_id"] = entry.teams_id
        person = people.pop(entry.email, None)
        if person is None:
            person = await uow.people.add(Person(email=entry.email, **wanted))
            diff.add("added", f"person {entry.email}")
        else:
            details = _update(person, wanted)
            if details:
                await uow.people.save(person)
                diff.add("changed", f"person {entry.email}", details)
        assert person.id is not None
        ids[entry.email] = person.id
    for person in people.values():
        if person.active:
            person.active = False
            await uow.people.save(person)
            diff.add("retired", f"person {person.email}")

    units = {u.key: u for u in await uow.units.all(active_only=False)}
    for unit_entry in org.units:
        schedule = unit_entry.checkin
        wanted = {
            "name": unit_entry.name,
            "timezone": unit_entry.timezone or o.timezone,
            "head_id": ids[unit_entry.head],
            "deputy_id": ids[unit_entry.deputy] if unit_entry.deputy else None,
            "leader_id": ids[unit_entry.leader],
            "checkin_weekday": weekday_number(schedule.day),
            "checkin_time": schedule.time,
            "deadline_weekday": weekday_number(schedule.deadline_day),
            "deadline_time": schedule.deadline_time,
            "restricted": unit_entry.restricted,
            "escalation_policy": unit_entry.escalation_policy,
            "active": True,
        }
        unit = units.pop(unit_entry.key, None)
        if unit is None:
            unit = await uow.units.add(Unit(key=unit_entry.key, created_at=now, **wanted))
            diff.add("added", f"unit {unit_entry.key}")
        else:
            details = _update(unit, wanted, {i: e for e, i in ids.items()})
            if details:
                await uow.units.save(unit)
                diff.add("changed", f"unit {unit_entry.key}", details)
        assert unit.id is not None
        await _apply_metrics(uow, diff, unit, unit_entry.metrics, now)
    for unit in units.values():
        if unit.active:
            unit.active = False
            await uow.units.save(unit)
            diff.add("retired", f"unit {unit.key}")
            assert unit.id is not None
            for metric in await uow.metrics.for_unit(unit.id):
                metric.active = False
                await uow.metrics.save(metric)

    if not diff.empty:
        await uow.audit.record(
            AuditEntry(
                at=now,
                actor_id=actor_id,
                action="org.apply",
                subject="organisation",
                detail={"changes": [str(c) for c in diff.changes][:500]},
            )
        )
    return diff


async def _apply_metrics(uow: UnitOfWork, diff: OrgDiff, unit: Unit, entries: Any, now: dt.datetime) -> None:
    assert unit.id is not None
    unit_key = unit.key
    metrics = {m.key: m for m in await uow.metrics.for_unit(unit.id, active_only=False)}
    # A new target applies from the week it is set in (in the unit's zone); the weeks
    # before keep being judged by the target they had.
    week = week_of(now, unit.timezone)
    for position, entry in enumerate(entries):
        low, high = entry.range if entry.range is not None else (None, None)
        wanted: dict[str, Any] = {
            "name": entry.name,
            "measure": entry.measure,
            "direction": entry.direction,
            "target": float(entry.target),
            "minimum": low,
            "maximum": high,
            "amber": float(entry.amber),
            "active": True,
            "position": position,
        }
        metric = metrics.pop(entry.key, None)
        if metric is None:
            metric = await uow.metrics.add(Metric(unit_id=unit.id, key=entry.key, **wanted))
            await uow.metrics.add_target(MetricTarget.of(metric, valid_from=week, recorded_at=now))
            diff.add("added", f"metric {unit_key}/{entry.key}")
        else:
            before = dataclasses.replace(metric)
            details = _update(metric, wanted)
            if details:
                await uow.metrics.save(metric)
                if not _judges_alike(before, metric):
                    await _record_target(uow, before, metric, week, now)
                    details.append(f"from {week}; earlier weeks keep their target")
                diff.add("changed", f"metric {unit_key}/{entry.key}", details)
    for metric in metrics.values():
        if metric.active:
            metric.active = False
            await uow.metrics.save(metric)
            diff.add("retired", f"metric {unit_key}/{metric.key}", ["its readings are kept"])


def _judges_alike(before: Metric, after: Metric) -> bool:
    return (before.target, before.amber, before.direction) == (after.target, after.amber, after.direction)


async def _record_target(uow: UnitOfWork, before: Metric, after: Metric, week: str, now: dt.datetime) -> None:
    assert after.id is not None
    if not await uow.metrics.targets([after.id]):
        # Stored before targets had a history: what it had so far judges the weeks before.
        await uow.metrics.add_target(MetricTarget.of(before, valid_from=week, recorded_at=now))
    await uow.metrics.add_target(MetricTarget.of(after, valid_from=week, recorded_at=now))
