"""The Monday leadership digest, built from DigestData.  Pure: no I/O, no clock.

The digest is about the week that just ended and is built around exceptions: what is off
target, what moved the wrong way, which promises slipped, what nobody answered.  Each
exception carries the ids its buttons need ("Ask about this", "Acknowledge"), so every
item invites a leader decision.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict

from bot.calendar import local_moment
from bot.checkins.models import CheckIn, CheckInState
from bot.checkins.status import format_value, metric_status, target_text
from bot.commitments.models import Commitment, CommitmentStatus
from bot.digests.data import LEADER_ACTIONS, DigestData
from bot.escalations.models import RUNNING, Escalation, EscalationState
from bot.messages import Status
from bot.org.context import OrgContext
from bot.org.models import Metric, Person, Unit
from bot.weeks import monday_of, shift_week

ReportState = Literal["on_time", "late", "missing", "excused"]
Severity = Literal["high", "medium", "low"]
ExceptionKind = Literal[
    "off_target_streak",
    "big_move",
    "confirmed_outlier",
    "overdue_commitment",
    "quiet_commitment",
    "due_this_week",
    "unanswered_followup",
    "open_escalation",
]
# The order, which also breaks ties between equally severe items.
KIND_ORDER: tuple[ExceptionKind, ...] = (
    "off_target_streak",
    "big_move",
    "confirmed_outlier",
    "overdue_commitment",
    "quiet_commitment",
    "due_this_week",
    "unanswered_followup",
    "open_escalation",
)
Outcome = Literal["kept", "kept_late", "dropped", "not_kept"]

OFF_TARGET_WEEKS = 3
CADENCE_WEEKS = 4
# A move against the metric's direction counts as big when it is at least this share of
# last week's value (and at least the metric's amber band).
BIG_MOVE_SHARE = 0.10
# A digest lists at most this many exceptions; the counts always cover all of them.
MAX_EXCEPTIONS = 60
MAX_CHARTS = 9
DEFAULT_QUIET_DAYS = 14
_SEVERITY_RANK: dict[Severity, int] = {"high": 0, "medium": 1, "low": 2}
_KIND_RANK: dict[str, int] = {kind: n for n, kind in enumerate(KIND_ORDER)}
_STATUS_RANK: dict[Status, int] = {"red": 0, "amber": 2, "none": 3, "green": 4}


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class PersonRef(_Model):
    email: str
    name: str


class UnreachablePerson(_Model):
    email: str
    name: str
    reason: str


class ReportingEntry(_Model):
    unit_key: str
    unit_name: str
    state: ReportState
    head: PersonRef | None = None
    submitted_by: PersonRef | None = None
    submitted_at: dt.datetime | None = None
    excuse: str | None = None


class MetricLine(_Model):
    metric_key: str
    name: str
    value: float | None
    value_text: str
    target_text: str
    status: Status
    change: float | None = None
    change_text: str = ""
    # True when the change went against the metric's direction.
    change_bad: bool = False
    sparkline: tuple[float | None, ...] = ()
    off_target_weeks: int = 0
    note: str = ""
    confirmed_outlier: bool = False


class UnitScore(_Model):
    unit_key: str
    unit_name: str
    status: Status
    reported: ReportState
    reds: int
    ambers: int
    head: PersonRef | None = None
    metrics: tuple[MetricLine, ...] = ()


class ExceptionItem(_Model):
    kind: ExceptionKind
    severity: Severity
    unit_key: str
    unit_name: str
    text: str
    owner: PersonRef | None = None
    metric_key: str | None = None
    commitment_id: int | None = None
    escalation_id: int | None = None
    checkin_id: int | None = None

    def keys(self) -> list[str]:
        """What a leader action on this item refers to (see action_keys)."""
        out: list[str] = []
        if self.commitment_id is not None:
            out.append(f"commitment:{self.commitment_id}")
        if self.escalation_id is not None:
            out.append(f"escalation:{self.escalation_id}")
        if self.checkin_id is not None:
            out.append(f"checkin:{self.checkin_id}")
        if self.metric_key is not None:
            out.append(f"metric:{self.unit_key}/{self.metric_key}")
        return out


class PromiseItem(_Model):
    commitment_id: int
    unit_key: str
    unit_name: str
    text: str
    owner: PersonRef | None
    due_on: dt.date
    outcome: Outcome
    closed_on: dt.date | None = None


class CadenceHealth(_Model):
    weeks: tuple[str, ...]
    checkins_due: int
    checkins_on_time: int
    followups_asked: int
    followups_answered: int
    followups_waiting: int
    leader_actions: int
    # What the previous digest flagged and how many of those got a leader action since;
    # None when there was no previous digest.
    flagged_last_week: int | None = None
    flagged_acted_on: int | None = None

    @property
    def on_time_share(self) -> float | None:
        return self.checkins_on_time / self.checkins_due if self.checkins_due else None

    @property
    def answered_share(self) -> float | None:
        return self.followups_answered / self.followups_asked if self.followups_asked else None


class ChartSeries(_Model):
    unit_key: str
    unit_name: str
    metric_key: str
    metric_name: str
    measure: str
    direction: str
    target: float
    amber: float
    weeks: tuple[str, ...]
    values: tuple[float | None, ...]
    status: Status
    off_target_weeks: int


class Digest(_Model):
    week: str
    starts_on: dt.date
    ends_on: dt.date
    built_at: dt.datetime
    organisation: str
    reporting: tuple[ReportingEntry, ...]
    scorecard: tuple[UnitScore, ...]
    exceptions: tuple[ExceptionItem, ...]
    # unit key → exception kind → how many (all of them, also those not listed).
    exception_counts: dict[str, dict[str, int]]
    promises: tuple[PromiseItem, ...]
    cadence: CadenceHealth
    charts: tuple[ChartSeries, ...]
    restricted_units: tuple[str, ...] = ()
    # People the bot cannot reach on its platform: their prompts and escalations go nowhere.
    unreachable: tuple[UnreachablePerson, ...] = ()

    def count(self, kind: ExceptionKind) -> int:
        return sum(kinds.get(kind, 0) for kinds in self.exception_counts.values())

    @property
    def total_exceptions(self) -> int:
        return sum(sum(kinds.values()) for kinds in self.exception_counts.values())

    def flagged_keys(self) -> list[list[str]]:
        return [item.keys() for item in self.exceptions]


def without_units(digest: Digest, hidden: Iterable[str]) -> Digest:
    """The digest minus everything about the ``hidden`` units (restricted units for
    people, or a channel, that may not see them).  The cadence figures stay: they are
    organisation-wide totals."""
    gone = set(hidden)
    if not gone:
        return digest
    return digest.model_copy(
        update={
            "reporting": tuple(r for r in digest.reporting if r.unit_key not in gone),
            "scorecard": tuple(u for u in digest.scorecard if u.unit_key not in gone),
            "exceptions": tuple(e for e in digest.exceptions if e.unit_key not in gone),
            "exception_counts": {k: v for k, v in digest.exception_counts.items() if k not in gone},
            "promises": tuple(p for p in digest.promises if p.unit_key not in gone),
            "charts": tuple(c for c in digest.charts if c.unit_key not in gone),
        }
    )


def action_keys(subject: str, detail: dict[str, object], escalations: dict[int, Escalation]) -> set[str]:
    """What a leader action refers to: its subject (``escalation:12``), the ids in its
    detail, and for an escalation the commitment or check-in it was about."""
    keys = {subject}
    for name in ("escalation", "commitment", "checkin"):
        if detail.get(name) is not None:
            keys.add(f"{name}:{detail[name]}")
    if detail.get("unit") is not None and detail.get("metric") is not None:
        keys.add(f"metric:{detail['unit']}/{detail['metric']}")
    for key in list(keys):
        kind, _, ident = key.partition(":")
        if kind == "escalation" and ident.isdigit() and int(ident) in escalations:
            keys.add(_subject_key(escalations[int(ident)]))
    return keys


def _subject_key(escalation: Escalation) -> str:
    if escalation.kind == "missed_checkin":
        return f"checkin:{escalation.subject_id}"
    return f"commitment:{escalation.subject_id}"


@dataclass(slots=True)
class _Candidate:
    """An exception before ranking; only the top ones become ExceptionItems."""

    kind: ExceptionKind
    severity: Severity
    unit: Unit
    # Text is written only for the items that make the list: a large organisation has
    # thousands of candidates.
    text: str | Callable[[], str]
    magnitude: float = 0.0
    owner: Person | None = None
    metric_key: str | None = None
    commitment_id: int | None = None
    escalation_id: int | None = None
    checkin_id: int | None = None

    def rank(self) -> tuple[int, int, float, str]:
        return (_SEVERITY_RANK[self.severity], _KIND_RANK[self.kind], -self.magnitude, self.unit.name)

    def written(self) -> str:
        return self.text if isinstance(self.text, str) else self.text()


def _followup_text(who: str, c: Commitment, late: bool) -> str:
    due = f", was due {c.due_on:%a %d %b}" if late else f", due {c.due_on:%a %d %b}"
    return f"{who} asked: “{c.text}” — no answer yet{due}"


def _overdue_text(c: Commitment, days: int) -> str:
    return f"#{c.id} “{c.text}” was due {c.due_on:%a %d %b} ({days} day{'s' if days != 1 else ''} overdue)"


def _quiet_text(c: Commitment, days: int) -> str:
    return f"#{c.id} “{c.text}”: no update for {days} days (due {c.due_on:%a %d %b})"


def _due_text(c: Commitment) -> str:
    return f"#{c.id} “{c.text}” is due {c.due_on:%a %d %b}"


def _ref(person: Person | None) -> PersonRef | None:
    return None if person is None else PersonRef(email=person.email, name=person.name)


def _report_state(checkin: CheckIn | None) -> ReportState:
    if checkin is None:
        return "missing"
    if checkin.state == CheckInState.SUBMITTED:
        return "late" if checkin.late else "on_time"
    if checkin.state == CheckInState.EXCUSED:
        return "excused"
    return "missing"


def _off_target(metric: Metric, value: float | None) -> bool:
    return metric_status(metric, value) in ("amber", "red")


def _change_text(metric: Metric, change: float) -> str:
    if change == 0:
        return "no change"
    arrow = "▲" if change > 0 else "▼"
    shown = format_value(metric, abs(change))
    return f"{arrow} {shown}"


def _day(instant: dt.datetime, tz: ZoneInfo) -> dt.date:
    return instant.astimezone(tz).date()


def build_digest(data: DigestData, *, now: dt.datetime, context: OrgContext) -> Digest:
    organisation = context.organisation
    tz_name = organisation.timezone
    tz = ZoneInfo(tz_name)
    week = data.week
    starts_on = monday_of(week)
    ends_on = starts_on + dt.timedelta(days=6)
    week_start = local_moment(starts_on, dt.time(0), tz_name)
    week_end = local_moment(starts_on + dt.timedelta(days=7), dt.time(0), tz_name)
    today = _day(now, tz)
    this_sunday = today + dt.timedelta(days=6 - today.weekday())
    people = data.people
    units = sorted(
        (u for u in data.units if u.created_at is None or u.created_at < week_end),
        key=lambda u: u.name.lower(),
    )
    unit_by_id = {u.id: u for u in units}
    metrics_of: dict[int, list[Metric]] = defaultdict(list)
    for metric in sorted(data.metrics, key=lambda m: (m.position, m.id or 0)):
        metrics_of[metric.unit_id].append(metric)
    checkin_of = {c.unit_id: c for c in data.checkins if c.week == week}
    reading_of = {r.metric_id: r for r in data.readings if r.week == week}
    previous = data.weeks[-2] if len(data.weeks) >= 2 else shift_week(week, -1)

    candidates: list[_Candidate] = []
    reporting: list[ReportingEntry] = []
    scorecard: list[UnitScore] = []
    chart_candidates: list[tuple[tuple[int, int], ChartSeries]] = []

    for unit in units:
        assert unit.id is not None
        head = people.get(unit.head_id)
        checkin = checkin_of.get(unit.id)
        state = _report_state(checkin)
        if checkin is None and not any(data.values.get(m.id or 0) for m in metrics_of.get(unit.id, [])):
            # Never asked that week and nothing on record (e.g. statbot was installed
            # since): there is nothing to report, least of all "did not report".
            continue
        submitter = people.get(checkin.submitted_by) if checkin and checkin.submitted_by else None
        reporting.append(
            ReportingEntry(
                unit_key=unit.key,
                unit_name=unit.name,
                state=state,
                head=_ref(head),
                submitted_by=_ref(submitter),
                submitted_at=checkin.submitted_at if checkin else None,
                excuse=checkin.excuse if checkin and state == "excused" else None,
            )
        )
        lines: list[MetricLine] = []
        reds = ambers = 0
        for metric in metrics_of.get(unit.id, []):
            assert metric.id is not None
            history = data.values.get(metric.id, {})
            spark = tuple(history.get(w) for w in data.weeks)
            value = history.get(week)
            status = metric_status(metric, value)
            reds += status == "red"
            ambers += status == "amber"
            streak = 0
            for w in reversed(data.weeks):
                if not _off_target(metric, history.get(w)):
                    break
                streak += 1
            before = history.get(previous)
            change = None if value is None or before is None else value - before
            bad = change is not None and (change < 0 if metric.direction == "higher" else change > 0)
            reading = reading_of.get(metric.id)
            # Built from checked values; skipping validation matters at thousands of lines.
            lines.append(
                MetricLine.model_construct(
                    metric_key=metric.key,
                    name=metric.name,
                    value=value,
                    value_text=format_value(metric, value),
                    target_text=target_text(metric),
                    status=status,
                    change=change,
                    change_text="" if change is None else _change_text(metric, change),
                    change_bad=bad,
                    sparkline=spark,
                    off_target_weeks=streak,
                    note=reading.note if reading else "",
                    confirmed_outlier=bool(reading and reading.confirmed_outlier),
                )
            )
            target = f"target {target_text(metric)}"
            if streak >= OFF_TARGET_WEEKS:
                weeks_text = f"{streak}+ weeks" if streak == len(data.weeks) else f"{streak} weeks"
                # A worsening streak is one item, not a streak and a big move.
                worse = f", worse than last week ({format_value(metric, before)})" if bad else ""
                candidates.append(
                    _Candidate(
                        kind="off_target_streak",
                        severity="high" if status == "red" else "medium",
                        unit=unit,
                        text=f"{metric.name}: {format_value(metric, value)} ({target}), "
                        f"off target {weeks_text} running{worse}",
                        magnitude=streak,
                        owner=head,
                        metric_key=metric.key,
                    )
                )
            if change is not None and before is not None and bad and streak < OFF_TARGET_WEEKS:
                adverse = abs(change)
                share = adverse / abs(before) if before else float("inf")
                if adverse >= metric.amber and share >= BIG_MOVE_SHARE:
                    candidates.append(
                        _Candidate(
                            kind="big_move",
                            severity="high" if status == "red" else "medium" if status == "amber" else "low",
                            unit=unit,
                            text=f"{metric.name}: {format_value(metric, before)} → "
                            f"{format_value(metric, value)} ({target})",
                            magnitude=min(share, 1e9),
                            owner=head,
                            metric_key=metric.key,
                        )
                    )
            if reading is not None and reading.confirmed_outlier:
                why = f" — “{reading.note}”" if reading.note else ""
                candidates.append(
                    _Candidate(
                        kind="confirmed_outlier",
                        severity="medium",
                        unit=unit,
                        text=f"{metric.name}: {format_value(metric, value)} confirmed despite the "
                        f"data check{why}",
                        owner=head,
                        metric_key=metric.key,
                    )
                )
            if streak >= OFF_TARGET_WEEKS or status == "red":
                series = ChartSeries(
                    unit_key=unit.key,
                    unit_name=unit.name,
                    metric_key=metric.key,
                    metric_name=metric.name,
                    measure=metric.measure,
                    direction=metric.direction,
                    target=metric.target,
                    amber=metric.amber,
                    weeks=tuple(data.weeks),
                    values=spark,
                    status=status,
                    off_target_weeks=streak,
                )
                chart_candidates.append(((_STATUS_RANK[status], -streak), series))
        reported = any(line.value is not None for line in lines)
        worst: Status = "red" if reds else "amber" if ambers else "green" if reported else "none"
        scorecard.append(
            UnitScore(
                unit_key=unit.key,
                unit_name=unit.name,
                status=worst,
                reported=state,
                reds=reds,
                ambers=ambers,
                head=_ref(head),
                metrics=tuple(lines),
            )
        )

    def unit_rank(score: UnitScore) -> tuple[int, int, int, str]:
        # A unit that did not report is a problem as well: right after the red ones.
        rank = _STATUS_RANK[score.status]
        if score.reported == "missing" and score.status != "red":
            rank = 1
        return (rank, -score.reds, -score.ambers, score.unit_name.lower())

    scorecard.sort(key=unit_rank)

    # --- commitments, follow-ups and escalations ---------------------------------------
    commitment_items: dict[int, _Candidate] = {}
    quiet_of: dict[str, int] = {}
    metric_key_of = {m.id: m.key for m in data.metrics}
    promises: list[PromiseItem] = []
    for c in data.commitments:
        c_unit = unit_by_id.get(c.unit_id)
        if c_unit is None or c.id is None:
            continue
        unit = c_unit
        owner = people.get(c.owner_id)
        if c.origin == "followup":
            if c.status == CommitmentStatus.OPEN and c.answer is None:
                asker = people.get(c.asked_by) if c.asked_by else None
                late = c.due_on < today
                who = asker.name if asker else "A leader"
                commitment_items[c.id] = _Candidate(
                    kind="unanswered_followup",
                    severity="high" if late else "medium",
                    unit=unit,
                    text=partial(_followup_text, who, c, late),
                    magnitude=(today - c.due_on).days,
                    owner=owner,
                    commitment_id=c.id,
                    metric_key=metric_key_of.get(c.metric_id) if c.metric_id else None,
                )
            continue
        if starts_on <= c.due_on <= ends_on:
            promises.append(_promise(c, unit, owner, tz))
        if c.status != CommitmentStatus.OPEN:
            continue
        quiet_days = quiet_of.get(unit.key)
        if quiet_days is None:
            policy = context.policy_for(unit)
            quiet_days = quiet_of[unit.key] = policy.quiet_after_days if policy else DEFAULT_QUIET_DAYS
        if c.due_on < today:
            days = (today - c.due_on).days
            commitment_items[c.id] = _Candidate(
                kind="overdue_commitment",
                severity="high" if days > 7 else "medium",
                unit=unit,
                text=partial(_overdue_text, c, days),
                magnitude=days,
                owner=owner,
                commitment_id=c.id,
            )
        elif c.updated_at < now - dt.timedelta(days=quiet_days):
            days = (now - c.updated_at).days
            commitment_items[c.id] = _Candidate(
                kind="quiet_commitment",
                severity="medium",
                unit=unit,
                text=partial(_quiet_text, c, days),
                magnitude=days,
                owner=owner,
                commitment_id=c.id,
            )
        elif today <= c.due_on <= this_sunday:
            commitment_items[c.id] = _Candidate(
                kind="due_this_week",
                severity="low",
                unit=unit,
                text=partial(_due_text, c),
                magnitude=-(c.due_on - today).days,
                owner=owner,
                commitment_id=c.id,
            )

    checkin_by_id = {c.id: c for c in data.checkins}
    escalation_by_id = {e.id: e for e in data.escalations if e.id is not None}
    for esc in data.escalations:
        if esc.state not in RUNNING or esc.id is None:
            continue
        e_unit = unit_by_id.get(esc.unit_id)
        if e_unit is None:
            continue
        unit = e_unit
        if esc.kind != "missed_checkin" and esc.subject_id in commitment_items:
            # The item is listed already; its Acknowledge button stops the chain.
            commitment_items[esc.subject_id].escalation_id = esc.id
            continue
        checkin = checkin_by_id.get(esc.subject_id) if esc.kind == "missed_checkin" else None
        what = (
            f"{unit.name} has not submitted {checkin.week if checkin else 'a check-in'}"
            if esc.kind == "missed_checkin"
            else f"commitment #{esc.subject_id}: {esc.kind.replace('_', ' ')}"
        )
        if esc.state == EscalationState.SNOOZED and esc.snoozed_until is not None:
            where = f"snoozed until {esc.snoozed_until.astimezone(tz):%a %d %b}"
        else:
            where = f"escalating since {esc.created_at.astimezone(tz):%a %d %b}, {esc.step} message(s) sent"
        candidates.append(
            _Candidate(
                kind="open_escalation",
                severity="high" if now - esc.created_at > dt.timedelta(days=7) else "medium",
                unit=unit,
                text=f"{what} — {where}",
                magnitude=(now - esc.created_at).total_seconds(),
                owner=people.get(unit.head_id),
                escalation_id=esc.id,
                checkin_id=esc.subject_id if esc.kind == "missed_checkin" else None,
                commitment_id=None if esc.kind == "missed_checkin" else esc.subject_id,
            )
        )
    candidates.extend(commitment_items.values())

    counts: dict[str, dict[str, int]] = {}
    for cand in candidates:
        per_unit = counts.setdefault(cand.unit.key, {})
        per_unit[cand.kind] = per_unit.get(cand.kind, 0) + 1
    candidates.sort(key=_Candidate.rank)
    exceptions = tuple(
        ExceptionItem(
            kind=c.kind,
            severity=c.severity,
            unit_key=c.unit.key,
            unit_name=c.unit.name,
            text=c.written(),
            owner=_ref(c.owner),
            metric_key=c.metric_key,
            commitment_id=c.commitment_id,
            escalation_id=c.escalation_id,
            checkin_id=c.checkin_id,
        )
        for c in candidates[:MAX_EXCEPTIONS]
    )
    promises.sort(key=lambda p: (["not_kept", "dropped", "kept_late", "kept"].index(p.outcome), p.due_on))

    # Restricted units stay out of the organisation-wide totals: the digest without them
    # (the channel's) must not reveal them through a count.
    open_units = [u for u in units if not u.restricted]
    cadence = _cadence(
        data, open_units, week_start=week_start, now=now, today=today, escalations=escalation_by_id
    )
    chart_candidates.sort(key=lambda pair: pair[0])
    restricted = tuple(u.key for u in units if u.restricted)
    return Digest(
        week=week,
        starts_on=starts_on,
        ends_on=ends_on,
        built_at=now,
        organisation=organisation.name,
        reporting=tuple(reporting),
        scorecard=tuple(scorecard),
        exceptions=exceptions,
        exception_counts=counts,
        promises=tuple(promises),
        cadence=cadence,
        charts=tuple(series for _, series in chart_candidates[:MAX_CHARTS]),
        restricted_units=restricted,
        unreachable=tuple(
            UnreachablePerson(email=p.email, name=p.name, reason=p.unreachable)
            for p in sorted(data.people.values(), key=lambda p: p.name)
            if p.active and p.unreachable
        ),
    )


def _promise(c: Commitment, unit: Unit, owner: Person | None, tz: ZoneInfo) -> PromiseItem:
    assert c.id is not None
    closed_on = _day(c.closed_at, tz) if c.closed_at else None
    outcome: Outcome
    if c.status == CommitmentStatus.DONE:
        outcome = "kept" if closed_on is None or closed_on <= c.due_on else "kept_late"
    elif c.status == CommitmentStatus.DROPPED:
        outcome = "dropped"
    else:
        outcome = "not_kept"
    return PromiseItem(
        commitment_id=c.id,
        unit_key=unit.key,
        unit_name=unit.name,
        text=c.text,
        owner=_ref(owner),
        due_on=c.due_on,
        outcome=outcome,
        closed_on=closed_on,
    )


def _cadence(
    data: DigestData,
    units: list[Unit],
    *,
    week_start: dt.datetime,
    now: dt.datetime,
    today: dt.date,
    escalations: dict[int, Escalation],
) -> CadenceHealth:
    weeks = tuple(shift_week(data.week, -n) for n in range(CADENCE_WEEKS - 1, -1, -1))
    unit_ids = {u.id for u in units}
    states = Counter(_report_state(c) for c in data.checkins if c.week in weeks and c.unit_id in unit_ids)
    due = states["on_time"] + states["late"] + states["missing"]
    window_start = week_start - dt.timedelta(weeks=CADENCE_WEEKS - 1)
    asked = [
        c
        for c in data.commitments
        if c.origin == "followup" and c.unit_id in unit_ids and window_start <= c.created_at < now
    ]
    answered = [c for c in asked if c.answer is not None or c.status == CommitmentStatus.DONE]
    waiting = [
        c for c in asked if c.answer is None and c.status == CommitmentStatus.OPEN and c.due_on >= today
    ]
    actions = [a for a in data.actions if a.action in LEADER_ACTIONS and week_start <= a.at < now]
    acted: set[str] = set()
    for action in actions:
        acted |= action_keys(action.subject, action.detail, escalations)
    flagged = data.previously_flagged
    return CadenceHealth(
        weeks=weeks,
        checkins_due=due,
        checkins_on_time=states["on_time"],
        followups_asked=len(asked),
        followups_answered=len(answered),
        followups_waiting=len(waiting),
        leader_actions=len(actions),
        flagged_last_week=len(flagged) if flagged else None,
        flagged_acted_on=sum(1 for keys in flagged if acted & set(keys)) if flagged else None,
    )
