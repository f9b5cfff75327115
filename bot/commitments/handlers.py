"""Turns about commitments and follow-ups: reload what the ids name, check the person's
rights, call the service, answer with cards.  The bot's turn commits."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from zoneinfo import ZoneInfo

from bot.commitments import cards, forms, service
from bot.commitments.models import Commitment, CommitmentStatus, answer_origin
from bot.commitments.service import NotOpen
from bot.messages import Form, Reply, paragraph
from bot.org.context import load_context
from bot.org.lookup import find_unit, units_of
from bot.org.models import Person, Unit
from bot.parsing import parse_date
from bot.permissions import NO_UNIT_TO_COMMIT_FOR, NotAllowed, Right, can_read, may, require
from bot.ports import UnitOfWork


def _today(person: Person, now: dt.datetime) -> dt.date:
    return now.astimezone(ZoneInfo(person.timezone)).date()


async def editable(uow: UnitOfWork, person: Person, commitment_id: int) -> tuple[Commitment, Unit]:
    """The commitment an id names, when the person may change it."""
    commitment = await uow.commitments.get(commitment_id)
    if commitment is None:
        raise NotAllowed(cards.no_such_commitment(commitment_id))
    unit = await uow.units.get(commitment.unit_id)
    assert unit is not None
    if not can_read(person, unit):
        raise NotAllowed(cards.no_such_visible_commitment(commitment_id))
    if not may(person, Right.CHANGE_COMMITMENT, unit, owner_id=commitment.owner_id):
        raise NotAllowed(cards.not_yours_to_change(commitment_id, unit))
    return commitment, unit


async def create(uow: UnitOfWork, person: Person, text: str, due_on: dt.date, now: dt.datetime) -> Reply:
    units = await units_of(uow, person)
    if not units:
        raise NotAllowed(NO_UNIT_TO_COMMIT_FOR)
    unit = units[0]
    require(person, Right.COMMIT, unit)
    commitment = await service.create(uow, person, unit, text, due_on, now)
    return Reply.text(cards.created_text(commitment, unit))


async def close(
    uow: UnitOfWork, person: Person, commitment_id: int, now: dt.datetime, *, note: str = ""
) -> Reply:
    question = await uow.commitments.get(commitment_id)
    if question is not None and question.origin == "followup":
        return await _close_question(uow, person, question, now)
    commitment, _ = await editable(uow, person, commitment_id)
    try:
        await service.close(uow, commitment, person.id, now, note=note)
    except NotOpen:
        return Reply.text(cards.already_closed_text(commitment))
    return Reply.text(cards.closed_text(commitment, person))


async def _close_question(uow: UnitOfWork, person: Person, question: Commitment, now: dt.datetime) -> Reply:
    """A question is closed only by its answer, or by the asker withdrawing it: ``done``
    from the one who owes the answer opens the answer form; from the asker it withdraws
    the question."""
    assert question.id is not None
    if question.status != "open":
        return Reply.text(cards.already_answered(question.id))
    if person.id is not None and person.id == question.asked_by:
        await service.close(
            uow, question, person.id, now, status=CommitmentStatus.DROPPED, note="withdrawn by the asker"
        )
        return Reply.text(cards.withdrawn_text(question))
    followup = await _owed(uow, person, question.id)
    form = forms.answer_form(followup)
    return Reply(
        messages=(form.model_copy(update={"intro": (*form.intro, paragraph(cards.ANSWER_TO_CLOSE))}),)
    )


async def update(uow: UnitOfWork, person: Person, commitment_id: int, note: str, now: dt.datetime) -> Reply:
    commitment, _ = await editable(uow, person, commitment_id)
    try:
        await service.add_note(uow, commitment, person.id, now, note)
    except NotOpen:
        return Reply.text(cards.nothing_to_update_text(commitment))
    return Reply.text(cards.noted_text(commitment, note))


async def list_for(uow: UnitOfWork, person: Person, target: str | None, today: dt.date) -> Reply:
    """``commitments`` (mine / my unit's), ``commitments <unit>``, ``commitments @email``."""
    units = {u.id: u for u in await uow.units.all()}
    if target is None:
        mine = await units_of(uow, person)
        if mine:
            unit = mine[0]
            assert unit.id is not None
            items = list(await uow.commitments.open_for_unit(unit.id))
            title = cards.unit_title(unit)
        else:
            assert person.id is not None
            items = list(await uow.commitments.open_for_owner(person.id))
            title = cards.YOUR_TITLE
    elif target.startswith("@") or "@" in target:
        other = await uow.people.by_email(target.lstrip("@"))
        if other is None:
            raise NotAllowed(cards.unknown_person_text(target))
        assert other.id is not None
        items = [
            c for c in await uow.commitments.open_for_owner(other.id) if can_read(person, units[c.unit_id])
        ]
        title = cards.person_title(other)
    else:
        unit = await find_unit(uow, target)
        if not can_read(person, unit):
            raise NotAllowed(cards.restricted_list_text(unit))
        assert unit.id is not None
        items = list(await uow.commitments.open_for_unit(unit.id))
        title = cards.unit_title(unit)
    questions = [c for c in items if c.origin == "followup"]
    promised = [c for c in items if c.origin != "followup"]
    owners = await service.people_by_id(
        uow, [c.owner_id for c in items] + [c.asked_by or 0 for c in questions]
    )
    messages = [cards.commitments_card(title, promised, owners, units, today)]
    if questions:
        messages.append(cards.questions_card(questions, owners, units, today))
    return Reply(messages=tuple(messages))


async def overdue(uow: UnitOfWork, person: Person, today: dt.date) -> Reply:
    units = {u.id: u for u in await uow.units.all()}
    items = await service.visible_overdue(uow, person, today)
    if not items:
        readable = [u.id for u in units.values() if u.id is not None and can_read(person, u)]
        not_due = [c for unit_id in readable for c in await uow.commitments.open_for_unit(unit_id)]
        return Reply(messages=(cards.nothing_overdue_card(not_due),))
    owners = await service.people_by_id(uow, [c.owner_id for c in items])
    return Reply(messages=(cards.commitments_card(cards.OVERDUE_TITLE, items, owners, units, today),))


# --- follow-ups ----------------------------------------------------------------------------


async def _asked_unit(uow: UnitOfWork, ids: Mapping[str, str]) -> Unit:
    """The unit a question is about: named, or the unit of the commitment it names."""
    commitment_id = ids.get("commitment", "")
    if not ids.get("unit") and commitment_id.isdigit():
        commitment = await uow.commitments.get(int(commitment_id))
        unit = await uow.units.get(commitment.unit_id) if commitment is not None else None
        if unit is not None:
            return unit
    return await find_unit(uow, ids.get("unit", ""))


async def ask_form(uow: UnitOfWork, person: Person, ids: Mapping[str, str], now: dt.datetime) -> Reply:
    """The question form behind an "Ask about this" button."""
    unit = await _asked_unit(uow, ids)
    require(person, Right.ASK, unit)
    ctx = await load_context(uow)
    suggestion = ""
    metric_key = ids.get("metric")
    if metric_key and unit.id is not None:
        metric = next((m for m in await uow.metrics.for_unit(unit.id) if m.key == metric_key), None)
        if metric is not None:
            suggestion = forms.metric_question(metric)
    commitment_id = ids.get("commitment")
    if commitment_id and commitment_id.isdigit():
        commitment = await uow.commitments.get(int(commitment_id))
        # Only a commitment of the unit asked about: ids from a button are not trusted.
        if commitment is not None and commitment.unit_id == unit.id:
            suggestion = forms.commitment_question(commitment)
    due = service.default_due(ctx, _today(person, now))
    return Reply(
        messages=(
            forms.ask_form(unit, ids if ids.get("unit") else {**ids, "unit": unit.key}, suggestion, due),
        )
    )


async def ask(
    uow: UnitOfWork,
    person: Person,
    unit_name: str,
    question: str,
    due_text: str | None,
    now: dt.datetime,
    about: Mapping[str, str] | None = None,
) -> Reply:
    """Send the question; ``about`` names the digest item or escalation it came from."""
    unit = await find_unit(uow, unit_name)
    require(person, Right.ASK, unit)
    question = question.strip()
    if not question:
        raise NotAllowed(cards.NO_QUESTION)
    today = _today(person, now)
    due = (
        parse_date(due_text, today=today) if due_text else service.default_due(await load_context(uow), today)
    )
    followup, owner = await service.ask(uow, person, unit, question, due, now, about)
    metric_key = (about or {}).get("metric")
    if metric_key and unit.id is not None:
        # Asked about a metric: the digest shows the item's history with the leader.
        metric = next((m for m in await uow.metrics.for_unit(unit.id) if m.key == metric_key), None)
        if metric is not None:
            followup.metric_id = metric.id
            await uow.commitments.save(followup)
    return Reply.text(cards.asked_text(followup, owner, unit, question))


async def ask_submitted(
    uow: UnitOfWork, person: Person, ids: Mapping[str, str], values: Mapping[str, str], now: dt.datetime
) -> Reply:
    question = (values.get("question") or "").strip()
    due = (values.get("due") or "").strip() or None
    errors = {}
    if not question:
        errors["question"] = cards.WRITE_THE_QUESTION
    if due:
        try:
            parse_date(due, today=_today(person, now))
        except ValueError as exc:
            errors["due"] = str(exc)
    if errors:
        form = (await ask_form(uow, person, ids, now)).messages[0]
        assert isinstance(form, Form)
        inputs = tuple(i.model_copy(update={"value": values.get(i.name, i.value)}) for i in form.inputs)
        return Reply(messages=(form.model_copy(update={"errors": errors, "inputs": inputs}),))
    unit = await _asked_unit(uow, ids)
    return await ask(uow, person, unit.key, question, due, now, about=ids)


async def _owed(uow: UnitOfWork, person: Person, commitment_id: int) -> Commitment:
    """The open follow-up an id names, when the person owes its answer."""
    followup = await uow.commitments.get(commitment_id)
    if followup is None or followup.origin != "followup":
        raise NotAllowed(cards.QUESTION_GONE)
    unit = await uow.units.get(followup.unit_id)
    assert unit is not None
    require(person, Right.ANSWER, unit, owner_id=followup.owner_id)
    if followup.status != "open":
        raise NotAllowed(cards.already_answered(commitment_id))
    return followup


async def answer_form(uow: UnitOfWork, person: Person, commitment_id: int) -> Reply:
    followup = await _owed(uow, person, commitment_id)
    return Reply(messages=(forms.answer_form(followup),))


def promise_in(text: str, today: dt.date) -> tuple[str, dt.date] | None:
    """The promise a plain answer makes, when it names a date: "the backlog clears by
    Friday" → ("the backlog clears by Friday", Friday).  The sentence holding the first
    "by <date>" that reads as a date; None when there is none."""
    for sentence in re.split(r"(?<=[.!?;])\s+|\n+", text):
        words = sentence.split()
        for i, word in enumerate(words):
            if word.lower() not in ("by", "before", "until"):
                continue
            for end in range(min(len(words), i + 5), i + 1, -1):
                phrase = " ".join(words[i + 1 : end]).strip(" ,.;!?")
                try:
                    return sentence.strip()[:300], parse_date(phrase, today=today)
                except ValueError:
                    continue
    return None


async def answer(
    uow: UnitOfWork, person: Person, commitment_id: int, values: Mapping[str, str], now: dt.datetime
) -> Reply:
    text = (values.get("answer") or "").strip()
    promise = (values.get("promise") or "").strip()
    promise_due = (values.get("promise_due") or "").strip()
    followup = await _owed(uow, person, commitment_id)
    errors: dict[str, str] = {}
    if not text:
        errors["answer"] = cards.WRITE_THE_ANSWER
    due: dt.date | None = None
    if promise and not promise_due:
        errors["promise_due"] = cards.PROMISE_NEEDS_A_DATE
    elif promise_due:
        try:
            due = parse_date(promise_due, today=_today(person, now))
        except ValueError as exc:
            errors["promise_due"] = str(exc)
        if not promise:
            errors["promise"] = cards.DATE_NEEDS_A_PROMISE
    if errors:
        form = forms.answer_form(followup)
        inputs = tuple(i.model_copy(update={"value": values.get(i.name) or None}) for i in form.inputs)
        return Reply(messages=(form.model_copy(update={"errors": errors, "inputs": inputs}),))
    try:
        await service.answer(uow, person, followup, text, now)
    except NotOpen:
        raise NotAllowed(cards.already_answered(commitment_id)) from None
    if promise and due is not None:
        # The answer is conditional (answered once), so its promise is new.
        tracked = await _track_promise(uow, person, followup, promise, due, now)
        assert tracked is not None
        return Reply.text(cards.answered_and_tracked_text(commitment_id, tracked))
    found = promise_in(text, _today(person, now))
    if found is not None:
        return Reply(messages=(cards.answered_offer_tracking(commitment_id, found[0], found[1]),))
    return Reply.text(cards.answered_text(commitment_id))


async def _track_promise(
    uow: UnitOfWork, person: Person, followup: Commitment, text: str, due: dt.date, now: dt.datetime
) -> Commitment | None:
    """The answer's promise as a commitment; None when it was tracked already."""
    assert followup.id is not None and person.id is not None
    unit = await uow.units.get(followup.unit_id)
    assert unit is not None
    return await service.open_commitment_once(
        uow,
        unit=unit,
        owner_id=person.id,
        text=text[:300],
        due_on=due,
        origin=answer_origin(followup.id),
        by=person.id,
        now=now,
        note=f"promised in the answer to follow-up #{followup.id}",
        detail={"text": text[:200], "followup": followup.id},
    )


async def track(uow: UnitOfWork, person: Person, followup_id: int, now: dt.datetime) -> Reply:
    """ "Track this": the promise of an answered follow-up becomes a commitment.  The
    promise is read again from the stored answer (ids from a button are not trusted), and
    tracked once, whatever became of it since and however many click at once."""
    followup = await uow.commitments.get(followup_id)
    if followup is None or followup.origin != "followup" or not followup.answer:
        raise NotAllowed(cards.QUESTION_GONE)
    unit = await uow.units.get(followup.unit_id)
    assert unit is not None and unit.id is not None
    require(person, Right.ANSWER, unit, owner_id=followup.owner_id)
    origin = answer_origin(followup_id)
    already = await uow.commitments.by_origin(origin)
    if already is not None:
        return Reply.text(cards.already_tracked_text(already, await _creator(uow, already)))
    found = promise_in(followup.answer, _today(person, followup.closed_at or now))
    if found is None:
        return Reply.text(cards.NO_PROMISE_FOUND)
    tracked = await _track_promise(uow, person, followup, found[0], found[1], now)
    if tracked is None:  # someone else's click landed first
        first = await uow.commitments.by_origin(origin)
        assert first is not None
        return Reply.text(cards.tracked_first_text(first, await _creator(uow, first)))
    return Reply.text(cards.tracked_text(tracked))


async def _creator(uow: UnitOfWork, commitment: Commitment) -> Person | None:
    return await uow.people.get(commitment.created_by) if commitment.created_by is not None else None
