"""What one digest covers, worked out once for the scorecard, the detectors, promises and
cadence: the week's bounds in the organisation's zone, today, the units that existed,
and what the week says about each of their metrics.  Pure: no I/O, no clock."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from bot.calendar import local_moment
from bot.checkins.models import CheckIn, Reading
from bot.digests.data import DigestData
from bot.digests.models import PersonRef, ReportState, TargetChangeFacts
from bot.escalations.policy import DEFAULT_QUIET_AFTER_DAYS
from bot.messages import Status
from bot.org.context import OrgContext
from bot.org.models import Metric, Person, Unit
from bot.org.targets import TargetHistory
from bot.weeks import monday_of, shift_week


def ref(person: Person | None) -> PersonRef | None:
    return None if person is None else PersonRef(email=person.email, name=person.name)


def report_state(checkin: CheckIn | None) -> ReportState:
    if checkin is None:
        return "missing"
    if checkin.state == "submitted":
        return "late" if checkin.late else "on_time"
    if checkin.state == "excused":
        return "excused"
    return "missing"


@dataclass(slots=True)
class Observation:
    """One metric of one unit in the covered week: its value, last week's, and how long it
    has been off target."""

    unit: Unit
    head: Person | None
    # As judged in the covered week (that week's target, amber band and direction).
    metric: Metric
    value: float | None
    # The previous loaded week's value, and the change since (None when either is missing).
    before: float | None
    change: float | None
    # The change went against the metric's direction.
    worse: bool
    status: Status
    # Weeks off target (amber or red) running, counting back from the covered week.
    streak: int
    # Every loaded week's value, oldest first.
    history: tuple[float | None, ...]
    # The week's reading when it carries a note or was confirmed despite the data check.
    reading: Reading | None
    # The target each loaded week was judged by, oldest first.
    targets: tuple[float, ...] = ()
    # The metric's target changes within the loaded weeks, oldest first.
    target_changes: tuple[TargetChangeFacts, ...] = ()


@dataclass(slots=True)
class Scope:
    data: DigestData
    context: OrgContext
    now: dt.datetime
    tz: ZoneInfo
    starts_on: dt.date
    ends_on: dt.date
    # The covered week's first and last instants (local midnights, as UTC).
    week_start: dt.datetime
    week_end: dt.datetime
    today: dt.date
    this_sunday: dt.date
    # The week "last week" compares with.
    previous: str
    # The units that existed by the week's end, by name.
    units: list[Unit]
    unit_by_id: dict[int | None, Unit]
    metrics_of: dict[int, list[Metric]]
    # Which target judges which week.
    targets: TargetHistory
    _quiet_days: dict[str, int] = field(default_factory=dict)
    _open_commitments: set[int] | None = None

    @classmethod
    def of(cls, data: DigestData, *, now: dt.datetime, context: OrgContext) -> Scope:
        tz_name = context.organisation.timezone
        tz = ZoneInfo(tz_name)
        starts_on = monday_of(data.week)
        today = now.astimezone(tz).date()
        week_end = local_moment(starts_on + dt.timedelta(days=7), dt.time(0), tz_name)
        units = sorted(
            (u for u in data.units if u.created_at is None or u.created_at < week_end),
            key=lambda u: u.name.lower(),
        )
        metrics_of: dict[int, list[Metric]] = defaultdict(list)
        for metric in sorted(data.metrics, key=lambda m: (m.position, m.id or 0)):
            metrics_of[metric.unit_id].append(metric)
        return cls(
            data=data,
            context=context,
            now=now,
            tz=tz,
            starts_on=starts_on,
            ends_on=starts_on + dt.timedelta(days=6),
            week_start=local_moment(starts_on, dt.time(0), tz_name),
            week_end=week_end,
            today=today,
            this_sunday=today + dt.timedelta(days=6 - today.weekday()),
            previous=data.weeks[-2] if len(data.weeks) >= 2 else shift_week(data.week, -1),
            units=units,
            unit_by_id={u.id: u for u in units},
            metrics_of=metrics_of,
            targets=TargetHistory(data.targets),
        )

    @property
    def week(self) -> str:
        return self.data.week

    def person(self, person_id: int | None) -> Person | None:
        return None if person_id is None else self.data.people.get(person_id)

    def day(self, instant: dt.datetime) -> dt.date:
        """The day of ``instant`` in the organisation's zone."""
        return instant.astimezone(self.tz).date()

    def commitment_open(self, commitment_id: int) -> bool:
        """Whether commitment ``commitment_id`` is open.  Every open commitment is loaded,
        so one that is not loaded is closed.  Asked once per escalation: a set, not a scan
        of the commitments each time."""
        if self._open_commitments is None:
            self._open_commitments = {
                c.id for c in self.data.commitments if c.id is not None and c.status == "open"
            }
        return commitment_id in self._open_commitments

    def quiet_days(self, unit: Unit) -> int:
        """After how many days without an update a commitment of ``unit`` has gone quiet."""
        days = self._quiet_days.get(unit.key)
        if days is None:
            policy = self.context.policy_for(unit)
            days = policy.quiet_after_days if policy else DEFAULT_QUIET_AFTER_DAYS
            self._quiet_days[unit.key] = days
        return days
