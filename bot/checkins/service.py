"""Filling in a check-in: the form, validation, the data check, drafts, and storing the
readings (with their revisions) and commitment updates when it is submitted.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from bot.audit import AuditEntry
from bot.checkins import cards, forms
from bot.checkins.forms import MetricContext, Validated
from bot.checkins.models import CheckIn, CheckInState, Reading, ReadingRevision
from bot.commitments.models import Commitment, CommitmentStatus, CommitmentUpdate
from bot.commitments.record import open_commitment
from bot.messages import Form, Reply
from bot.messages.text import possessive
from bot.org.context import OrgContext, load_context
from bot.org.models import Person, Unit
from bot.permissions import NotAllowed, require_submit
from bot.ports import UnitOfWork
from bot.weeks import previous_weeks

log = logging.getLogger(__name__)

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
    by_metric: dict[int, dict[str, float]] = {}
    for reading in history:
        by_metric.setdefault(reading.metric_id, {})[reading.week] = reading.value
    contexts = []
    for m in metrics:
        past = by_metric.get(m.id or 0, {})
        contexts.append(
            MetricContext(
                metric=m,
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


def draft_values(checkin: CheckIn) -> dict[str, str]:
    values = checkin.draft.get("values", {})
    return {str(k): str(v) for k, v in values.items()} if isinstance(values, dict) else {}


def build_form(loaded: Loaded, person: Person, errors: Mapping[str, str] | None = None) -> Form:
    assert loaded.checkin.id is not None
    return forms.checkin_form(
        checkin_id=loaded.checkin.id,
        unit=loaded.unit,
        week=loaded.checkin.week,
        metrics=loaded.metrics,
        commitments=loaded.commitments,
        owners=loaded.owners,
        unit_people=loaded.unit_people,
        draft=draft_values(loaded.checkin),
        errors=errors,
        deadline=cards.local(loaded.checkin.deadline_at, person.timezone),
        more_commitments=loaded.more_commitments,
    )


EDITABLE_FOR = dt.timedelta(days=7)


async def checkin_to_fill(
    uow: UnitOfWork, person: Person, checkin_id: int | None = None, now: dt.datetime | None = None
) -> CheckIn:
    """The check-in this person should fill in: the one named, else their latest open one
    (an older missed week is reached through its own prompt), else the one they
    submitted in the last days, to correct it."""
    if checkin_id is not None:
        checkin = await uow.checkins.get(checkin_id)
        if checkin is None:
            raise NotAllowed("That check-in no longer exists.")
    else:
        assert person.id is not None
        candidates = await uow.checkins.open_for_person(person.id)
        if candidates:
            checkin = candidates[-1]
        else:
            recent = await _recently_submitted(uow, person, now)
            if recent is None:
                raise NotAllowed(
                    "You have no open check-in right now. You will get a message when the next one opens."
                )
            checkin = recent
    unit = await uow.units.get(checkin.unit_id)
    assert unit is not None
    require_submit(person, unit)
    if checkin.state == CheckInState.EXCUSED:
        raise NotAllowed(
            f"{possessive(unit.name)} check-in for {checkin.week} was excused: {checkin.excuse}."
        )
    return checkin


async def _recently_submitted(uow: UnitOfWork, person: Person, now: dt.datetime | None) -> CheckIn | None:
    if now is None:
        return None
    latest: CheckIn | None = None
    for unit in await uow.units.all():
        if unit.id is None or person.id not in (unit.head_id, unit.deputy_id):
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


async def open_form(
    uow: UnitOfWork, person: Person, checkin_id: int | None = None, now: dt.datetime | None = None
) -> Reply:
    ctx = await load_context(uow)
    checkin = await checkin_to_fill(uow, person, checkin_id, now)
    return Reply(messages=(build_form(await load(uow, ctx, checkin), person),))


async def submit(
    uow: UnitOfWork,
    person: Person,
    checkin_id: int,
    values: Mapping[str, str],
    now: dt.datetime,
) -> Reply:
    """A submitted check-in form: errors come back on the same form with what was typed
    kept; far-off values get the confirmation form; otherwise everything is stored."""
    ctx = await load_context(uow)
    checkin = await checkin_to_fill(uow, person, checkin_id)
    loaded = await load(uow, ctx, checkin)
    typed = {k: str(v) for k, v in values.items()}
    checkin.draft = {"values": typed}
    validated = forms.validate(
        typed,
        metrics=loaded.metrics,
        commitments=loaded.commitments,
        unit_people=loaded.unit_people,
        submitter=person,
        today=today_of(person, now),
        factor=ctx.organisation.data_check.factor,
    )
    if validated.outliers and not validated.errors:
        checkin.draft["pending"] = {k: validated.values[k] for k in validated.outliers}
    back = await _not_yet(uow, loaded, person, validated)
    if back is not None:
        return back
    reply = await finalise(uow, loaded, person, validated, set(), now)
    await uow.commit()
    return reply


async def confirm(
    uow: UnitOfWork,
    person: Person,
    checkin_id: int,
    values: Mapping[str, str],
    now: dt.datetime,
) -> Reply:
    """The answer to the data check: confirm each far-off value or correct it."""
    ctx = await load_context(uow)
    checkin = await checkin_to_fill(uow, person, checkin_id)
    loaded = await load(uow, ctx, checkin)
    typed = draft_values(checkin)
    pending = checkin.draft.get("pending")
    if not isinstance(pending, dict) or not typed:
        return Reply(messages=(build_form(loaded, person),))
    confirmed: dict[str, float] = {}
    for key, value in pending.items():
        answer = (values.get(f"ok.{key}") or "").strip()
        if answer == "correct":
            typed[f"m.{key}"] = str(values.get(f"m.{key}", "")).strip()
        elif answer == "confirm":
            confirmed[key] = float(value)
    validated = forms.validate(
        typed,
        metrics=loaded.metrics,
        commitments=loaded.commitments,
        unit_people=loaded.unit_people,
        submitter=person,
        today=today_of(person, now),
        factor=ctx.organisation.data_check.factor,
        confirmed=confirmed,
    )
    checkin.draft = {"values": typed, "pending": pending}
    corrected = {k for k in pending if k not in confirmed}
    # A corrected value is taken as the person's final word: it is not asked about again.
    for key in corrected:
        validated.outliers.pop(key, None)
    back = await _not_yet(uow, loaded, person, validated)
    if back is not None:
        return back
    reply = await finalise(uow, loaded, person, validated, set(confirmed), now)
    await uow.commit()
    return reply


async def _not_yet(uow: UnitOfWork, loaded: Loaded, person: Person, validated: Validated) -> Reply | None:
    """Keep the draft and send the form back: with its errors, or the data-check form
    for far-off values.  None when the submission can be stored."""
    if not validated.errors and not validated.outliers:
        return None
    checkin = loaded.checkin
    await uow.checkins.save(checkin)
    await uow.commit()
    if validated.errors:
        return Reply(messages=(build_form(loaded, person, validated.errors),))
    assert checkin.id is not None
    form = forms.confirm_form(
        checkin_id=checkin.id,
        unit=loaded.unit,
        week=checkin.week,
        metrics=loaded.metrics,
        values=validated.values,
        outliers=validated.outliers,
    )
    return Reply(messages=(form,))


def today_of(person: Person, now: dt.datetime) -> dt.date:
    return now.astimezone(ZoneInfo(person.timezone)).date()


async def finalise(
    uow: UnitOfWork,
    loaded: Loaded,
    person: Person,
    validated: Validated,
    confirmed: set[str],
    now: dt.datetime,
) -> Reply:
    checkin, unit = loaded.checkin, loaded.unit
    assert unit.id is not None and person.id is not None and checkin.id is not None
    edited = checkin.state == CheckInState.SUBMITTED
    digest_built = await uow.digests.get("leadership", checkin.week) is not None
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
    changes = await _apply_commitment_changes(uow, validated, person, now)
    new_commitment = None
    if validated.new is not None:
        new_commitment = await open_commitment(
            uow,
            unit_id=unit.id,
            owner_id=validated.new.owner_id,
            text=validated.new.text,
            due_on=validated.new.due_on,
            origin="checkin",
            by=person.id,
            now=now,
            note="created in the check-in",
        )
    if not edited:
        checkin.state = CheckInState.SUBMITTED
        checkin.submitted_at = now
        checkin.submitted_by = person.id
        checkin.late = now > checkin.deadline_at
        checkin.next_reminder_at = None
    checkin.draft = {}
    await uow.checkins.save(checkin)
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
    card = cards.receipt_card(
        checkin,
        unit,
        [c.metric for c in loaded.metrics],
        validated.values,
        edited=edited,
        changes=changes,
        new_commitment=new_commitment,
    )
    return Reply(messages=(card,))


async def _apply_commitment_changes(
    uow: UnitOfWork,
    validated: Validated,
    person: Person,
    now: dt.datetime,
) -> list[str]:
    described = []
    for change in validated.changes:
        c = change.commitment
        assert c.id is not None
        if change.status == forms.DONE:
            c.status, c.closed_at = CommitmentStatus.DONE, now
            described.append(f"#{c.id} done")
        elif change.status == forms.DROPPED:
            c.status, c.closed_at = CommitmentStatus.DROPPED, now
            described.append(f"#{c.id} dropped")
        elif change.status == forms.MOVED and change.due_on is not None:
            c.due_on = change.due_on
            described.append(f"#{c.id} moved to {change.due_on:%a %d %b}")
        # Saying "still on track" is an update too: the commitment has not gone quiet.
        c.updated_at = now
        await uow.commitments.save(c)
        await uow.commitments.add_update(
            CommitmentUpdate(
                commitment_id=c.id,
                at=now,
                by=person.id,
                status=c.status,
                due_on=c.due_on,
                note=change.note or {"keep": "still on track"}.get(change.status, change.status),
            )
        )
    return described
