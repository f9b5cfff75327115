"""Turns on an escalation's buttons: reload the escalation the ids name, check the
clicker's rights, call the service, answer in words.  The bot's turn commits."""

from __future__ import annotations

import datetime as dt

from bot.commitments import cards as commitment_cards
from bot.commitments.handlers import editable
from bot.escalations import cards, service
from bot.escalations.models import Escalation
from bot.escalations.subject import subject_of
from bot.messages import Reply
from bot.org.context import load_context
from bot.org.models import Person, Unit
from bot.permissions import NotAllowed, Right, require
from bot.ports import UnitOfWork


async def _load(
    uow: UnitOfWork, person: Person, escalation_id: int, now: dt.datetime, right: Right
) -> tuple[Escalation, Unit, str]:
    escalation = await uow.escalations.get(escalation_id)
    if escalation is None:
        raise NotAllowed(cards.GONE)
    unit = await uow.units.get(escalation.unit_id)
    assert unit is not None
    require(person, right, unit)
    subject = await subject_of(uow, escalation, now)
    return escalation, unit, cards.subject_title(subject) if subject else cards.THIS_ITEM


async def _already(uow: UnitOfWork, settled: service.Settled, title: str) -> str:
    """The chain was stopped before this click, or by someone else at the same moment."""
    escalation = settled.escalation
    by = await uow.people.get(escalation.acted_by) if escalation.acted_by is not None else None
    if settled.just_now:
        return cards.taken_first_text(escalation, by, title)
    return cards.already_text(escalation, title, by)


async def acknowledge(uow: UnitOfWork, person: Person, escalation_id: int, now: dt.datetime) -> Reply:
    escalation, _, title = await _load(uow, person, escalation_id, now, Right.CALL_OFF)
    try:
        await service.acknowledge(uow, escalation, person, now)
    except service.Settled as settled:
        return Reply.text(await _already(uow, settled, title))
    return Reply.text(cards.acknowledged_text(person, title))


async def snooze(uow: UnitOfWork, person: Person, escalation_id: int, days: int, now: dt.datetime) -> Reply:
    if not 1 <= days <= service.MAX_SNOOZE_DAYS:
        raise NotAllowed(cards.snooze_range_text(service.MAX_SNOOZE_DAYS))
    escalation, _, title = await _load(uow, person, escalation_id, now, Right.CALL_OFF)
    try:
        wake = await service.snooze(uow, await load_context(uow), escalation, person, days, now)
    except service.Settled as settled:
        return Reply.text(await _already(uow, settled, title))
    return Reply.text(cards.snoozed_text(wake, person, title))


async def mark_done(uow: UnitOfWork, person: Person, escalation_id: int, now: dt.datetime) -> Reply:
    escalation, unit, _ = await _load(uow, person, escalation_id, now, Right.ACT_ON_ESCALATION)
    if escalation.kind not in service.FINISHABLE:
        raise NotAllowed(cards.ONLY_COMMITMENTS)
    commitment, _ = await editable(uow, person, escalation.subject_id)
    require(person, Right.FINISH, unit, owner_id=commitment.owner_id)
    try:
        closed = await service.finish(uow, escalation, commitment, person, now)
    except service.Settled as settled:
        return Reply.text(await _already(uow, settled, cards.THIS_ITEM))
    if closed:
        return Reply.text(commitment_cards.closed_text(commitment, person))
    return Reply.text(commitment_cards.already_closed_text(commitment))
