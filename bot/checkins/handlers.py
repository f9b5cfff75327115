"""Turns about check-ins: the form (open, submit, confirm), answers typed as text, and
`status`.  Each reloads the check-in an id names, checks the person's rights, calls the
service and answers with cards and forms.  The bot's turn commits."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from bot.checkins import cards, forms, service
from bot.checkins.answers import MetricLabel, parse_answer
from bot.checkins.models import CheckIn
from bot.checkins.service import Loaded, NotYet, Outcome, Taken, draft_values, load
from bot.messages import Form, Reply
from bot.org.context import load_context
from bot.org.lookup import find_unit, units_of
from bot.org.models import Person
from bot.permissions import NotAllowed, Right, can_read, may, require
from bot.ports import UnitOfWork

# --- the form ------------------------------------------------------------------------------


async def checkin_to_fill(
    uow: UnitOfWork, person: Person, checkin_id: int | None = None, now: dt.datetime | None = None
) -> CheckIn:
    """The check-in this person should fill in: the one named, else their latest open one
    (an older missed week is reached through its own prompt), else the one they
    submitted in the last days, to correct it."""
    if checkin_id is not None:
        checkin = await uow.checkins.get(checkin_id)
        if checkin is None:
            raise NotAllowed(cards.CHECKIN_GONE)
    else:
        checkin = await service.latest_open(uow, person) or await service.recently_submitted(uow, person, now)
        if checkin is None:
            raise NotAllowed(cards.NOTHING_OPEN)
    unit = await uow.units.get(checkin.unit_id)
    assert unit is not None
    require(person, Right.SUBMIT, unit)
    if checkin.state == "excused":
        raise NotAllowed(cards.excused_text(unit, checkin))
    return checkin


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
        draft=draft_values(loaded.checkin, person),
        errors=errors,
        deadline=cards.local(loaded.checkin.deadline_at, person.timezone),
        more_commitments=loaded.more_commitments,
    )


def _form_reply(loaded: Loaded, person: Person, outcome: Outcome) -> Reply:
    """The form back (errors, or the data check), or the receipt."""
    checkin = loaded.checkin
    assert checkin.id is not None
    if isinstance(outcome, NotYet):
        validated = outcome.validated
        if validated.errors:
            return Reply(messages=(build_form(loaded, person, validated.errors),))
        form = forms.confirm_form(
            checkin_id=checkin.id,
            unit=loaded.unit,
            week=checkin.week,
            metrics=loaded.metrics,
            values=validated.values,
            outliers=validated.outliers,
        )
        return Reply(messages=(form,))
    if isinstance(outcome, Taken):
        # Someone else submitted it at the same moment: say who, keep the numbers.
        return Reply(
            messages=(
                cards.taken_first_card(
                    outcome.checkin, loaded.unit, outcome.by, person, edited=outcome.edited
                ),
            )
        )
    card = cards.receipt_card(
        checkin,
        loaded.unit,
        [c.metric for c in loaded.metrics],
        outcome.validated.values,
        edited=outcome.edited,
        changes=outcome.changes,
        new_commitment=outcome.new_commitment,
        lost=[str(taken) for taken in outcome.lost],
    )
    return Reply(messages=(card,))


async def open_form(
    uow: UnitOfWork, person: Person, checkin_id: int | None = None, now: dt.datetime | None = None
) -> Reply:
    ctx = await load_context(uow)
    checkin = await checkin_to_fill(uow, person, checkin_id, now)
    return Reply(messages=(build_form(await load(uow, ctx, checkin), person),))


async def submit(
    uow: UnitOfWork, person: Person, checkin_id: int, values: Mapping[str, str], now: dt.datetime
) -> Reply:
    """A submitted check-in form: errors come back on the same form with what was typed
    kept; far-off values get the confirmation form; otherwise everything is stored."""
    ctx = await load_context(uow)
    loaded = await load(uow, ctx, await checkin_to_fill(uow, person, checkin_id))
    return _form_reply(loaded, person, await service.submit(uow, ctx, loaded, person, values, now))


async def confirm(
    uow: UnitOfWork, person: Person, checkin_id: int, values: Mapping[str, str], now: dt.datetime
) -> Reply:
    """The answer to the data check: confirm each far-off value or correct it."""
    ctx = await load_context(uow)
    loaded = await load(uow, ctx, await checkin_to_fill(uow, person, checkin_id))
    outcome = await service.confirm(uow, ctx, loaded, person, values, now)
    if outcome is None:
        return Reply(messages=(build_form(loaded, person),))
    return _form_reply(loaded, person, outcome)


# --- answers typed as text -----------------------------------------------------------------


async def text_answer(uow: UnitOfWork, person: Person, text: str, now: dt.datetime) -> Reply | None:
    """Read ``filled 412, backlog 35`` as a check-in answer, with the same validation and
    data check as the form; ambiguity gets a question back, never a guess.  None when the
    person has no open check-in to answer (the caller then answers with help)."""
    checkin = await service.latest_open(uow, person)
    if checkin is None:
        return None
    unit = await uow.units.get(checkin.unit_id)
    assert unit is not None
    if not may(person, Right.SUBMIT, unit):
        return None
    ctx = await load_context(uow)
    loaded = await load(uow, ctx, checkin)
    typed = draft_values(checkin, person)
    stripped = text.strip()
    lowered = stripped.lower()
    if lowered in cards.CONFIRM_WORDS and service.pending_values(checkin):
        assert checkin.id is not None
        pending = service.pending_values(checkin) or {}
        return await confirm(uow, person, checkin.id, {f"ok.{k}": "confirm" for k in pending}, now)
    if lowered.startswith("why "):
        return await _why(uow, loaded, person, stripped[4:], typed, now)
    labels = [MetricLabel(key=c.metric.key, name=c.metric.name) for c in loaded.metrics]
    parsed = parse_answer(stripped, labels)
    if not parsed.values:
        return Reply.text(
            (parsed.question or "; ".join(parsed.problems) or cards.NO_NUMBERS) + _missing(loaded, typed)
        )
    for key, raw in parsed.values.items():
        typed[f"m.{key}"] = raw
    if parsed.question or parsed.problems:
        kept = await service.keep_draft(uow, checkin, typed)
        if kept is None:
            return Reply.text(cards.DRAFT_BUSY)
        return Reply.text((parsed.question or "; ".join(parsed.problems)) + _missing(loaded, kept))
    return await _check_typed(uow, loaded, person, typed, now)


def _missing(loaded: Loaded, typed: Mapping[str, str]) -> str:
    missing = [c.metric.name for c in loaded.metrics if not typed.get(f"m.{c.metric.key}")]
    return cards.missing_text(loaded.checkin.week, missing)


async def _why(
    uow: UnitOfWork, loaded: Loaded, person: Person, rest: str, typed: dict[str, str], now: dt.datetime
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
        return Reply.text(cards.WHY_USAGE)
    typed[f"why.{matches[0].key}"] = reason.strip()
    return await _check_typed(uow, loaded, person, typed, now)


async def _check_typed(
    uow: UnitOfWork, loaded: Loaded, person: Person, typed: dict[str, str], now: dt.datetime
) -> Reply:
    missing = _missing(loaded, typed)
    if missing:
        # Someone else's answers may have landed meanwhile: what is missing is what the
        # kept draft lacks.
        kept = await service.keep_draft(uow, loaded.checkin, typed)
        if kept is None:
            return Reply.text(cards.DRAFT_BUSY)
        typed, missing = kept, _missing(loaded, kept)
    if missing:
        got = [
            f"{c.metric.name} {typed[f'm.{c.metric.key}']}"
            for c in loaded.metrics
            if typed.get(f"m.{c.metric.key}")
        ]
        return Reply.text(cards.got_text(got, missing))
    ctx = await load_context(uow)
    outcome = await service.submit(uow, ctx, loaded, person, typed, now, with_commitments=False)
    if isinstance(outcome, NotYet):
        validated = outcome.validated
        if validated.errors:
            return Reply.text(cards.not_stored_text(loaded.metrics, validated.errors))
        return Reply.text(cards.far_off_text(loaded.metrics, validated.values, validated.outliers))
    return _form_reply(loaded, person, outcome)


# --- status --------------------------------------------------------------------------------


async def status(uow: UnitOfWork, person: Person, unit_name: str | None, now: dt.datetime) -> Reply:
    """`status [unit]`: one unit, the person's own units, or every unit they may see."""
    if unit_name:
        unit = await find_unit(uow, unit_name)
        require(person, Right.READ, unit)
        return Reply(messages=(cards.unit_card(await service.unit_week(uow, unit, now), person.timezone),))
    mine = await units_of(uow, person)
    if mine:
        views = [await service.unit_week(uow, u, now) for u in mine]
        return Reply(messages=tuple(cards.unit_card(v, person.timezone) for v in views))
    visible = [u for u in await uow.units.all() if can_read(person, u)]
    glances = [await service.glance(uow, u, now) for u in visible]
    return Reply(messages=(cards.overview_card(glances, person.timezone),))
