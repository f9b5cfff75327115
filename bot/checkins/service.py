"""The weekly check-in cycle: open, prompt, remind, fill in, check, submit.

Sweeps take a unit-of-work factory and do each item in its own transaction, so one bad
unit never blocks the others and each state change commits together with the
deliveries it causes.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from bot.audit import AuditEntry
from bot.checkins import cards, forms
from bot.checkins.answers import MetricLabel, parse_answer
from bot.checkins.forms import MetricContext, Validated
from bot.checkins.models import CheckIn, Reading, ReadingRevision
from bot.checkins.schedule import CheckinWindow, reminder_times, weeks_to_open
from bot.checkins.status import format_value, target_text
from bot.clock import Clock
from bot.commitments.models import Commitment, CommitmentUpdate
from bot.deliveries.models import Delivery
from bot.deliveries.service import enqueue
from bot.messages import Card, Form, Reply
from bot.messages.text import possessive
from bot.org.context import OrgContext, load_context
from bot.org.models import Metric, Person, Unit
from bot.permissions import NotAllowed, require_submit
from bot.ports import UnitOfWork, UnitOfWorkFactory
from bot.weeks import previous_weeks

log = logging.getLogger(__name__)


# --- opening -------------------------------------------------------------------------------


async def _away(uow: UnitOfWork, person_id: int | None, day: dt.date) -> bool:
    if person_id is None:
        return True
    return any(p.covers(day) for p in await uow.away.for_person(person_id))


def _window_of(unit: Unit, ctx: OrgContext, now: dt.datetime) -> list[CheckinWindow]:
    return weeks_to_open(
        now,
        tz=unit.timezone,
        open_weekday=unit.checkin_weekday,
        open_time=unit.checkin_time,
        deadline_weekday=unit.deadline_weekday,
        deadline_time=unit.deadline_time,
        calendar=ctx.calendar,
    )


def reminder_schedule(checkin: CheckIn, ctx: OrgContext, tz: str) -> list[dt.datetime]:
    reminders = ctx.organisation.reminders
    window = CheckinWindow(checkin.week, checkin.opened_at, checkin.deadline_at, None)
    return reminder_times(
        window,
        before_deadline=reminders.before_deadline,
        after_every=reminders.after_deadline_every,
        after_times=reminders.after_deadline_times,
        calendar=ctx.calendar,
        tz=tz,
    )


async def open_due_checkins(uow_factory: UnitOfWorkFactory, clock: Clock) -> int:
    """Open every check-in that is due and not open yet; returns how many were opened or
    excused.  Running it twice, late, or in two processes opens each one once."""
    now = clock.now()
    due: list[tuple[Unit, CheckinWindow]] = []
    async with uow_factory() as uow:
        ctx = await load_context(uow)
        opened: dict[str, set[int]] = {}
        for unit in await uow.units.all():
            for window in _window_of(unit, ctx, now):
                if unit.created_at is not None and window.opens_at < unit.created_at:
                    continue
                if window.week not in opened:
                    opened[window.week] = {c.unit_id for c in await uow.checkins.for_week(window.week)}
                if unit.id not in opened[window.week]:
                    due.append((unit, window))
    done = 0
    for unit, window in due:
        async with uow_factory() as uow:
            if await _open_one(uow, await load_context(uow), unit, window, now):
                done += 1
            await uow.commit()
    return done


async def _open_one(
    uow: UnitOfWork, ctx: OrgContext, unit: Unit, window: CheckinWindow, now: dt.datetime
) -> bool:
    assert unit.id is not None
    open_day = window.opens_at.astimezone(ZoneInfo(unit.timezone)).date()
    excuse = window.excused
    respondent_id: int | None = unit.head_id
    standing_in_for: Person | None = None
    if excuse is None and await _away(uow, unit.head_id, open_day):
        head = await uow.people.get(unit.head_id)
        if unit.deputy_id is not None and not await _away(uow, unit.deputy_id, open_day):
            respondent_id, standing_in_for = unit.deputy_id, head
        else:
            respondent_id = None
            excuse = "the head is away and no deputy is available"
    checkin = CheckIn(
        unit_id=unit.id,
        week=window.week,
        state="open" if excuse is None else "excused",
        opened_at=max(now, window.opens_at) if excuse is None else now,
        deadline_at=window.deadline_at,
        respondent_id=respondent_id,
        excuse=excuse,
    )
    respondent = await uow.people.get(respondent_id) if respondent_id else None
    if excuse is None and respondent is not None:
        schedule = reminder_schedule(checkin, ctx, respondent.timezone)
        checkin.next_reminder_at = schedule[0] if schedule else None
    stored = await uow.checkins.open_if_absent(checkin)
    if stored is None:
        return False  # another sweep won the race
    await uow.audit.record(
        AuditEntry(
            at=now,
            actor_id=None,
            action="checkin.excused" if excuse else "checkin.opened",
            subject=f"checkin:{stored.id}",
            detail={"unit": unit.key, "week": window.week, "excuse": excuse},
        )
    )
    if respondent is None:
        return True
    metrics = await uow.metrics.for_unit(unit.id)
    open_commitments = await uow.commitments.open_for_unit(unit.id)
    moved = None
    if window.deadline_moved_from is not None:
        reason = window.deadline_moved_because or "a day off"
        moved = f"(Moved from {window.deadline_moved_from:%A} because of {reason}.)"
    card = cards.prompt_card(
        stored,
        unit,
        respondent,
        standing_in_for=standing_in_for,
        metrics=metrics,
        open_commitments=len(open_commitments),
        moved_note=moved,
    )
    assert respondent.id is not None
    await enqueue(
        uow,
        audience=Delivery.to_person(respondent.id),
        message=card,
        key=f"checkin:{stored.id}:prompt",
        now=now,
        # Opened late at night after downtime: the prompt waits for working hours.
        not_before=ctx.calendar.next_working_moment(now, respondent.timezone),
    )
    return True


# --- reminders -----------------------------------------------------------------------------


async def send_due_reminders(uow_factory: UnitOfWorkFactory, clock: Clock) -> int:
    now = clock.now()
    async with uow_factory() as uow:
        due = await uow.checkins.due_reminders(now)
    sent = 0
    for checkin in due:
        async with uow_factory() as uow:
            ctx = await load_context(uow)
            unit = await uow.units.get(checkin.unit_id)
            respondent = await uow.people.get(checkin.respondent_id) if checkin.respondent_id else None
            if unit is None or respondent is None or checkin.id is None:
                continue
            number = checkin.reminders_sent
            if not ctx.calendar.is_working_moment(now, respondent.timezone):
                # A sweep catching up after downtime, at night: wait for working hours.
                later = ctx.calendar.next_working_moment(now, respondent.timezone)
                if await uow.checkins.postpone_reminder(checkin.id, number, later):
                    await uow.commit()
                continue
            schedule = [t for t in reminder_schedule(checkin, ctx, respondent.timezone) if t > now]
            following = schedule[0] if schedule else None
            if not await uow.checkins.claim_reminder(checkin.id, number, following, now):
                continue  # another sweep sent it
            card = cards.reminder_card(checkin, unit, respondent, now, number + 1)
            assert respondent.id is not None
            await enqueue(
                uow,
                audience=Delivery.to_person(respondent.id),
                message=card,
                key=f"checkin:{checkin.id}:reminder:{number}",
                now=now,
            )
            await uow.commit()
            sent += 1
    return sent


# --- filling in ----------------------------------------------------------------------------


@dataclass(slots=True)
class Loaded:
    checkin: CheckIn
    unit: Unit
    metrics: list[MetricContext]
    commitments: list[Commitment]
    owners: dict[int, Person]
    unit_people: list[Person]


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
    commitments = list(await uow.commitments.open_for_unit(unit.id))
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
    return Loaded(checkin, unit, contexts, commitments, owners, unit_people)


def _draft_values(checkin: CheckIn) -> dict[str, str]:
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
        draft=_draft_values(loaded.checkin),
        errors=errors,
        deadline=cards.local(loaded.checkin.deadline_at, person.timezone),
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
    if checkin.state == "excused":
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
                checkin.state == "submitted" and submitted is not None and now - submitted <= EDITABLE_FOR
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
        today=_today(person, now),
        factor=ctx.organisation.data_check.factor,
    )
    if validated.outliers and not validated.errors:
        checkin.draft["pending"] = {k: validated.values[k] for k in validated.outliers}
    back = await _not_yet(uow, loaded, person, validated)
    if back is not None:
        return back
    reply = await _finalise(uow, loaded, person, validated, set(), now)
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
    typed = _draft_values(checkin)
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
        today=_today(person, now),
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
    reply = await _finalise(uow, loaded, person, validated, set(confirmed), now)
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


def _today(person: Person, now: dt.datetime) -> dt.date:
    return now.astimezone(ZoneInfo(person.timezone)).date()


async def _finalise(
    uow: UnitOfWork,
    loaded: Loaded,
    person: Person,
    validated: Validated,
    confirmed: set[str],
    now: dt.datetime,
) -> Reply:
    checkin, unit = loaded.checkin, loaded.unit
    assert unit.id is not None and person.id is not None and checkin.id is not None
    edited = checkin.state == "submitted"
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
        new_commitment = await uow.commitments.add(
            Commitment(
                unit_id=unit.id,
                owner_id=validated.new.owner_id,
                text=validated.new.text,
                due_on=validated.new.due_on,
                status="open",
                origin="checkin",
                created_at=now,
                updated_at=now,
                created_by=person.id,
            )
        )
        assert new_commitment.id is not None
        await uow.commitments.add_update(
            CommitmentUpdate(
                commitment_id=new_commitment.id,
                at=now,
                by=person.id,
                status="open",
                due_on=new_commitment.due_on,
                note="created in the check-in",
            )
        )
    if not edited:
        checkin.state = "submitted"
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
            c.status, c.closed_at = "done", now
            described.append(f"#{c.id} done")
        elif change.status == forms.DROPPED:
            c.status, c.closed_at = "dropped", now
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


# --- plain-text answers --------------------------------------------------------------------


async def text_answer(uow: UnitOfWork, person: Person, text: str, now: dt.datetime) -> Reply | None:
    """Read ``filled 412, backlog 35`` as a check-in answer; None when the person has no
    open check-in (the caller then answers with help)."""
    assert person.id is not None
    open_ = [c for c in await uow.checkins.open_for_person(person.id)]
    if not open_:
        return None
    ctx = await load_context(uow)
    checkin = open_[-1]
    unit = await uow.units.get(checkin.unit_id)
    assert unit is not None
    try:
        require_submit(person, unit)
    except NotAllowed:
        return None
    loaded = await load(uow, ctx, checkin)
    typed = _draft_values(checkin)
    stripped = text.strip()
    lowered = stripped.lower()
    pending = checkin.draft.get("pending") if isinstance(checkin.draft.get("pending"), dict) else None
    if lowered in ("confirm", "yes", "confirmed") and pending:
        assert checkin.id is not None
        return await confirm(uow, person, checkin.id, {f"ok.{k}": "confirm" for k in pending}, now)
    if lowered.startswith("why "):
        return await _why(uow, loaded, person, stripped[4:], typed, now)
    labels = [MetricLabel(key=c.metric.key, name=c.metric.name) for c in loaded.metrics]
    parsed = parse_answer(stripped, labels)
    if not parsed.values:
        return Reply.text(
            (parsed.question or "; ".join(parsed.problems) or "I could not read any numbers.")
            + _missing_text(loaded, typed)
        )
    for key, raw in parsed.values.items():
        typed[f"m.{key}"] = raw
    checkin.draft = {"values": typed}
    if parsed.question or parsed.problems:
        await uow.checkins.save(checkin)
        await uow.commit()
        return Reply.text((parsed.question or "; ".join(parsed.problems)) + _missing_text(loaded, typed))
    return await _check_typed(uow, loaded, person, typed, now)


def _missing_text(loaded: Loaded, typed: Mapping[str, str]) -> str:
    missing = [c.metric.name for c in loaded.metrics if not typed.get(f"m.{c.metric.key}")]
    if not missing:
        return ""
    return f"\nStill needed for {loaded.checkin.week}: " + ", ".join(missing) + "."


async def _why(
    uow: UnitOfWork,
    loaded: Loaded,
    person: Person,
    rest: str,
    typed: dict[str, str],
    now: dt.datetime,
) -> Reply:
    name, _, reason = rest.partition(":")
    labels = [MetricLabel(key=c.metric.key, name=c.metric.name) for c in loaded.metrics]
    matches = [
        label
        for label in labels
        if name.strip().lower() in (label.key, label.name.lower())
        or name.strip().lower() in label.name.lower()
    ]
    if len(matches) != 1 or not reason.strip():
        return Reply.text("Write the explanation like: why backlog: two crews were out sick")
    typed[f"why.{matches[0].key}"] = reason.strip()
    loaded.checkin.draft = {"values": typed}
    return await _check_typed(uow, loaded, person, typed, now)


async def _check_typed(
    uow: UnitOfWork,
    loaded: Loaded,
    person: Person,
    typed: dict[str, str],
    now: dt.datetime,
) -> Reply:
    ctx = await load_context(uow)
    checkin = loaded.checkin
    checkin.draft = {"values": typed}
    missing = _missing_text(loaded, typed)
    if missing:
        await uow.checkins.save(checkin)
        await uow.commit()
        got = [
            f"{c.metric.name} {typed[f'm.{c.metric.key}']}"
            for c in loaded.metrics
            if typed.get(f"m.{c.metric.key}")
        ]
        return Reply.text("Got it: " + ", ".join(got) + "." + missing)
    validated = forms.validate(
        typed,
        metrics=loaded.metrics,
        commitments=[],
        unit_people=loaded.unit_people,
        submitter=person,
        today=_today(person, now),
        factor=ctx.organisation.data_check.factor,
    )
    if validated.errors:
        await uow.checkins.save(checkin)
        await uow.commit()
        lines = [_error_line(loaded.metrics, name, message) for name, message in validated.errors.items()]
        return Reply.text("Not stored yet:\n" + "\n".join(lines))
    if validated.outliers:
        checkin.draft["pending"] = {k: validated.values[k] for k in validated.outliers}
        await uow.checkins.save(checkin)
        await uow.commit()
        lines = []
        for c in loaded.metrics:
            if c.metric.key in validated.outliers:
                ratio = validated.outliers[c.metric.key]
                times = "far from" if ratio == float("inf") else f"{ratio:.0f}× away from"
                lines.append(
                    f"{c.metric.name}: {format_value(c.metric, validated.values[c.metric.key])} is "
                    f"{times} recent weeks (target {target_text(c.metric)})."
                )
        return Reply.text("\n".join(lines) + "\nReply `confirm` to keep it, or send the corrected value.")
    reply = await _finalise(uow, loaded, person, validated, set(), now)
    await uow.commit()
    return reply


def _error_line(metrics: Sequence[MetricContext], name: str, message: str) -> str:
    kind, _, key = name.partition(".")
    label = next((c.metric.name for c in metrics if c.metric.key == key), key)
    if kind == "why":
        return f"• {label}: {message} Reply like: why {key}: <reason>"
    return f"• {label}: {message}"


def metric_of(loaded: Loaded, key: str) -> Metric | None:
    return next((c.metric for c in loaded.metrics if c.metric.key == key), None)


__all__ = [
    "Card",
    "confirm",
    "open_due_checkins",
    "open_form",
    "send_due_reminders",
    "submit",
    "text_answer",
]
