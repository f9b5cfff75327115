"""Filling in a check-in, as domain operations: what the form shows, the data check,
drafts, and storing the readings (with their revisions) and the commitment changes of a
submission.  No permission checks, no commit, no wording: the handlers ask
`bot.permissions`, the bot's turn commits, the cards and forms word it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from bot.audit import AuditEntry
from bot.checkins import forms
from bot.checkins.forms import CommitmentChange, MetricContext, Validated
from bot.checkins.models import CheckIn, CheckInState, Reading, ReadingRevision
from bot.checkins.status import latest_week, metric_status
from bot.commitments import service as commitments
from bot.commitments.models import Commitment, CommitmentStatus
from bot.digests.models import AUDIENCE
from bot.escalations import service as escalations
from bot.org.context import OrgContext
from bot.org.models import Metric, Person, Unit
from bot.org.targets import TargetHistory
from bot.permissions import is_unit_member
from bot.ports import UnitOfWork
from bot.weeks import previous_weeks, week_of

# --- filling in ----------------------------------------------------------------------------


@dataclass(slots=True)
class Loaded:
    checkin: CheckIn
    unit: Unit
    metrics: list[MetricContext]
    commitments: list[Commitment]
    owners: dict[int, Person]
    unit_people: list[Person]
    # Open commitments beyond those the form lists (see MAX_FORM_COMMITMENTS).
    more_commitments: int = 0


async def load(uow: UnitOfWork, ctx: OrgContext, checkin: CheckIn) -> Loaded:
    unit = await uow.units.get(checkin.unit_id)
    assert unit is not None and unit.id is not None
    metrics = list(await uow.metrics.for_unit(unit.id))
    weeks = previous_weeks(checkin.week, ctx.organisation.data_check.weeks)
    ids = [m.id for m in metrics if m.id is not None]
    history = await uow.readings.history(ids, [*weeks, checkin.week])
    # A late check-in for an earlier week is judged by the target of that week.
    targets = TargetHistory(await uow.metrics.targets(ids))
    by_metric: dict[int, dict[str, float]] = {}
    for reading in history:
        by_metric.setdefault(reading.metric_id, {})[reading.week] = reading.value
    contexts = []
    for m in metrics:
        past = by_metric.get(m.id or 0, {})
        contexts.append(
            MetricContext(
                metric=targets.in_week(m, checkin.week),
                last_value=past.get(weeks[-1]) if weeks else None,
                history=tuple(past[w] for w in weeks if w in past),
                current=past.get(checkin.week),
            )
        )
    # Leaders' questions are answered with their own Answer button, not ticked off here.
    every_open = [c for c in await uow.commitments.open_for_unit(unit.id) if c.origin != "followup"]
    # The soonest due first: the form stays short enough for any platform (Slack modals
    # take 100 blocks); the rest are handled with `commitments` / `done` / `update`.
    commitments = every_open[: forms.MAX_FORM_COMMITMENTS]
    owners = {}
    for c in commitments:
        if c.owner_id not in owners:
            person = await uow.people.get(c.owner_id)
            if person is not None:
                owners[c.owner_id] = person
    unit_people = [
        p
        for p in [
            await uow.people.get(unit.head_id),
            await uow.people.get(unit.deputy_id) if unit.deputy_id else None,
        ]
        if p
    ]
    return Loaded(
        checkin,
        unit,
        contexts,
        commitments,
        owners,
        unit_people,
        more_commitments=len(every_open) - len(commitments),
    )


def draft_values(checkin: CheckIn, person: Person | None = None) -> dict[str, str]:
    """What was typed and not stored yet; a draft kept for one person (whose numbers
    lost a race, see ``Taken``) is theirs alone."""
    owner = checkin.draft.get("by")
    if owner is not None and person is not None and owner != person.id:
        return {}
    values = checkin.draft.get("values", {})
    return {str(k): str(v) for k, v in values.items()} if isinstance(values, dict) else {}


EDITABLE_FOR = dt.timedelta(days=7)


async def latest_open(uow: UnitOfWork, person: Person) -> CheckIn | None:
    """The person's latest open check-in (an older missed week is reached through its own
    prompt)."""
    assert person.id is not None
    candidates = await uow.checkins.open_for_person(person.id)
    return candidates[-1] if candidates else None


async def recently_submitted(uow: UnitOfWork, person: Person, now: dt.datetime | None) -> CheckIn | None:
    """The person's unit's check-in submitted in the last days, still open to corrections."""
    if now is None:
        return None
    latest: CheckIn | None = None
    for unit in await uow.units.all():
        if unit.id is None or not is_unit_member(person, unit):
            continue
        for checkin in await uow.checkins.for_unit(unit.id, limit=1):
            submitted = checkin.submitted_at
            editable = (
                checkin.state == CheckInState.SUBMITTED
                and submitted is not None
                and now - submitted <= EDITABLE_FOR
            )
            if editable and (latest is None or checkin.week > latest.week):
                latest = checkin
    return latest


def today_of(person: Person, now: dt.datetime) -> dt.date:
    return now.astimezone(ZoneInfo(person.timezone)).date()


# --- outcomes of a submission --------------------------------------------------------------


@dataclass(slots=True)
class NotYet:
    """Not stored: the draft is kept, and the form goes back with its errors, or the data
    check asks about far-off values (``validated.outliers``)."""

    validated: Validated


@dataclass(slots=True)
class Stored:
    """The numbers and commitment changes were stored."""

    validated: Validated
    edited: bool
    changes: list[CommitmentChange]
    new_commitment: Commitment | None
    # Commitment changes someone else's change beat at the same moment (not recorded).
    lost: list[commitments.TakenFirst] = field(default_factory=list)


@dataclass(slots=True)
class Taken:
    """Someone else submitted the check-in at the same moment and won: nothing of this
    submission was stored but the draft, kept for this person (``checkin`` is as the
    winner left it, ``by`` the winner)."""

    validated: Validated
    checkin: CheckIn
    by: Person | None
    # The race was over a correction of a submitted check-in.
    edited: bool = False


Outcome = NotYet | Stored | Taken


def _validate(
    loaded: Loaded,
    ctx: OrgContext,
    person: Person,
    typed: Mapping[str, str],
    now: dt.datetime,
    *,
    confirmed: Mapping[str, float] | None = None,
    with_commitments: bool = True,
) -> Validated:
    return forms.validate(
        typed,
        metrics=loaded.metrics,
        commitments=loaded.commitments if with_commitments else [],
        unit_people=loaded.unit_people,
        submitter=person,
        today=today_of(person, now),
        factor=ctx.organisation.data_check.factor,
        confirmed=confirmed,
    )


async def keep_draft(uow: UnitOfWork, checkin: CheckIn, typed: Mapping[str, str]) -> dict[str, str] | None:
    """Keep what was typed (verbatim) until the check-in is submitted; returns the draft
    as kept (None: others kept changing it, nothing of this turn was kept).

    When someone else (head and deputy answering at once) changed the draft since this
    turn read it, this turn's own changes are laid over theirs: nobody's words are wiped."""
    assert checkin.id is not None
    seen, before = checkin.draft, draft_values(checkin)
    mine = {k: v for k, v in typed.items() if before.get(k) != v}
    kept = dict(typed)
    for _ in range(5):
        if await uow.checkins.keep_draft_if(checkin.id, {"values": kept}, seen):
            checkin.draft = {"values": kept}
            return kept
        fresh = await uow.checkins.reload(checkin.id)
        if fresh is None or fresh.state != CheckInState.OPEN:
            return kept  # submitted meanwhile: the next step tells the person
        seen, kept = fresh.draft, {**draft_values(fresh), **mine}
    return None


async def _settle(
    uow: UnitOfWork,
    loaded: Loaded,
    person: Person,
    validated: Validated,
    confirmed: set[str],
    now: dt.datetime,
) -> Outcome:
    if validated.errors or validated.outliers:
        await uow.checkins.save(loaded.checkin)
        return NotYet(validated)
    return await store(uow, loaded, person, validated, confirmed, now)


async def submit(
    uow: UnitOfWork,
    ctx: OrgContext,
    loaded: Loaded,
    person: Person,
    values: Mapping[str, str],
    now: dt.datetime,
    *,
    with_commitments: bool = True,
) -> Outcome:
    """A submitted check-in (the form, or typed answers when ``with_commitments`` is
    false): errors and far-off values keep the draft; otherwise everything is stored."""
    checkin = loaded.checkin
    typed = {k: str(v) for k, v in values.items()}
    checkin.draft = {"values": typed}
    validated = _validate(loaded, ctx, person, typed, now, with_commitments=with_commitments)
    if validated.outliers and not validated.errors:
        checkin.draft["pending"] = {k: validated.values[k] for k in validated.outliers}
    return await _settle(uow, loaded, person, validated, set(), now)


def pending_values(checkin: CheckIn) -> dict[str, float] | None:
    """The far-off values the data check asked about, if it did."""
    pending = checkin.draft.get("pending")
    return pending if isinstance(pending, dict) and pending else None


async def confirm(
    uow: UnitOfWork,
    ctx: OrgContext,
    loaded: Loaded,
    person: Person,
    values: Mapping[str, str],
    now: dt.datetime,
) -> Outcome | None:
    """The answer to the data check: confirm each far-off value or correct it.  None when
    nothing was pending (the form is shown afresh)."""
    checkin = loaded.checkin
    typed = draft_values(checkin, person)
    pending = pending_values(checkin)
    if pending is None or not typed:
        return None
    confirmed: dict[str, float] = {}
    for key, value in pending.items():
        answer = (values.get(f"ok.{key}") or "").strip()
        if answer == "correct":
            typed[f"m.{key}"] = str(values.get(f"m.{key}", "")).strip()
        elif answer == "confirm":
            confirmed[key] = float(value)
    validated = _validate(loaded, ctx, person, typed, now, confirmed=confirmed)
    checkin.draft = {"values": typed, "pending": pending}
    # A corrected value is taken as the person's final word: it is not asked about again.
    for key in pending:
        if key not in confirmed:
            validated.outliers.pop(key, None)
    return await _settle(uow, loaded, person, validated, set(confirmed), now)


async def store(
    uow: UnitOfWork,
    loaded: Loaded,
    person: Person,
    validated: Validated,
    confirmed: set[str],
    now: dt.datetime,
) -> Stored | Taken:
    """Store the readings (each change a revision), the commitment changes and a new
    commitment, mark the check-in submitted, and audit it.

    The check-in is claimed first, by a conditional update on the check-in as it was read
    (its state, and a version every submission and correction bumps): when two people
    submit or correct it at once, one wins; the other's numbers are kept as their draft
    and nothing else of theirs is written (``Taken``)."""
    checkin, unit = loaded.checkin, loaded.unit
    assert unit.id is not None and person.id is not None and checkin.id is not None
    edited = checkin.state == "submitted"
    expected = {"state": checkin.state, "submitted_by": checkin.submitted_by}
    typed = dict(checkin.draft.get("values") or {})
    if not edited:
        checkin.state = CheckInState.SUBMITTED
        checkin.submitted_at = now
        checkin.submitted_by = person.id
        checkin.late = now > checkin.deadline_at
        checkin.next_reminder_at = None
    checkin.draft = {}
    if not await uow.checkins.save_if(checkin, expected):
        fresh = await uow.checkins.reload(checkin.id)
        assert fresh is not None
        await uow.checkins.keep_draft(checkin.id, {"values": typed, "by": person.id})
        fresh.draft = {"values": typed, "by": person.id}
        winner_id = fresh.submitted_by
        if edited:
            entry = await uow.audit.latest_about(f"checkin:{checkin.id}")
            winner_id = entry.actor_id if entry is not None else None
        winner = await uow.people.get(winner_id) if winner_id is not None else None
        return Taken(validated, fresh, winner, edited)
    if not edited:
        # A late submission settles its missed-check-in escalation now, not at its next step.
        await escalations.subject_resolved(uow, "missed_checkin", checkin.id, now)
    digest_built = await uow.digests.get(AUDIENCE, checkin.week) is not None
    existing = {r.metric_id: r for r in await uow.readings.for_unit_week(unit.id, checkin.week)}
    revision_note = "edited after the digest" if digest_built and edited else ("edited" if edited else "")
    for ctx in loaded.metrics:
        m = ctx.metric
        assert m.id is not None
        if m.key not in validated.values:
            continue
        value = validated.values[m.key]
        note = validated.notes.get(m.key, "")
        reading = existing.get(m.id)
        if reading is None:
            reading = await uow.readings.add(
                Reading(
                    unit_id=unit.id,
                    metric_id=m.id,
                    week=checkin.week,
                    value=value,
                    updated_at=now,
                    updated_by=person.id,
                    note=note,
                    confirmed_outlier=m.key in confirmed,
                )
            )
            previous = None
        elif reading.value != value or reading.note != note:
            previous = reading.value
            reading.value, reading.note, reading.updated_at, reading.updated_by = value, note, now, person.id
            reading.confirmed_outlier = m.key in confirmed
            await uow.readings.save(reading)
        else:
            continue
        assert reading.id is not None
        await uow.readings.add_revision(
            ReadingRevision(
                reading_id=reading.id,
                value=value,
                previous_value=previous,
                changed_at=now,
                changed_by=person.id,
                note="; ".join(x for x in (revision_note, note) if x),
            )
        )
    changes, lost = await _apply_commitment_changes(uow, validated, person, now)
    new_commitment = None
    if validated.new is not None:
        new_commitment = await commitments.open_commitment(
            uow,
            unit=unit,
            owner_id=validated.new.owner_id,
            text=validated.new.text,
            due_on=validated.new.due_on,
            origin="checkin",
            by=person.id,
            now=now,
            note="created in the check-in",
            detail={"text": validated.new.text, "checkin": checkin.id},
        )
    await uow.audit.record(
        AuditEntry(
            at=now,
            actor_id=person.id,
            action="checkin.edited" if edited else "checkin.submitted",
            subject=f"checkin:{checkin.id}",
            detail={
                "unit": unit.key,
                "week": checkin.week,
                "late": checkin.late,
                "values": validated.values,
                "confirmed": sorted(confirmed),
            },
        )
    )
    return Stored(validated, edited, changes, new_commitment, lost)


# What each choice of the form does to a commitment: its audit action and default note.
_CHANGES = {
    forms.KEEP: ("commitment.updated", "still on track", None),
    forms.DONE: ("commitment.done", "done", CommitmentStatus.DONE),
    forms.DROPPED: ("commitment.dropped", "dropped", CommitmentStatus.DROPPED),
    forms.MOVED: ("commitment.moved", "moved", None),
}


async def _apply_commitment_changes(
    uow: UnitOfWork, validated: Validated, person: Person, now: dt.datetime
) -> tuple[list[CommitmentChange], list[commitments.TakenFirst]]:
    """Each commitment listed on the form changes through the one commitment change
    (record, history, audit).  Saying "still on track" is an update too: the
    commitment has not gone quiet."""
    applied, lost = [], []
    for change in validated.changes:
        action, default_note, status = _CHANGES[change.status]
        due_on = change.due_on if change.status == forms.MOVED else None
        try:
            await commitments.change(
                uow,
                change.commitment,
                by=person.id,
                now=now,
                action=action,
                note=change.note or default_note,
                status=status,
                due_on=due_on,
            )
        except commitments.TakenFirst as taken:
            # Someone changed this one at the same moment: theirs stands, the rest of
            # the check-in is stored.
            lost.append(taken)
            continue
        applied.append(change)
    return applied, lost


# --- where a unit stands (`status`) --------------------------------------------------------

STATUS_WEEKS = 12


@dataclass(slots=True)
class UnitWeek:
    """One unit's current week: its check-in (and earlier weeks still open), each metric's
    recent series, and its open commitments."""

    unit: Unit
    week: str
    weeks: list[str]
    checkin: CheckIn | None
    still_open: list[CheckIn]
    metrics: list[Metric]
    series: dict[int, dict[str, float]]
    open_commitments: int
    overdue: int


async def unit_week(uow: UnitOfWork, unit: Unit, now: dt.datetime) -> UnitWeek:
    assert unit.id is not None
    week = week_of(now, unit.timezone)
    weeks = [*previous_weeks(week, STATUS_WEEKS - 1), week]
    # The latest check-ins: this week's, when it opened, is the newest of them.
    recent = await uow.checkins.for_unit(unit.id, limit=4)
    checkin = next((c for c in recent if c.week == week), None)
    metrics = list(await uow.metrics.for_unit(unit.id))
    ids = [m.id for m in metrics if m.id is not None]
    history = await uow.readings.history(ids, weeks)
    series: dict[int, dict[str, float]] = {}
    for r in history:
        series.setdefault(r.metric_id, {})[r.week] = r.value
    # The card shows each metric's latest value: judged by the target of that value's week.
    targets = TargetHistory(await uow.metrics.targets(ids))
    metrics = [targets.in_week(m, latest_week(series.get(m.id or 0, {}), weeks) or week) for m in metrics]
    still_open = [older for older in recent if older.week < week and older.state == "open"]
    commitments = await uow.commitments.open_for_unit(unit.id)
    today = now.astimezone(ZoneInfo(unit.timezone)).date()
    overdue = sum(1 for c in commitments if c.due_on < today)
    return UnitWeek(unit, week, weeks, checkin, still_open, metrics, series, len(commitments), overdue)


@dataclass(slots=True)
class UnitGlance:
    """A unit at a glance: this week's check-in and how many metrics are off target."""

    unit: Unit
    checkin: CheckIn | None
    off_target: int


async def glance(uow: UnitOfWork, unit: Unit, now: dt.datetime) -> UnitGlance:
    assert unit.id is not None
    week = week_of(now, unit.timezone)
    checkin = await uow.checkins.for_unit_week(unit.id, week)
    metrics = await uow.metrics.for_unit(unit.id)
    readings = {r.metric_id: r.value for r in await uow.readings.for_unit_week(unit.id, week)}
    red = sum(1 for m in metrics if metric_status(m, readings.get(m.id or 0)) == "red")
    return UnitGlance(unit, checkin, red)
