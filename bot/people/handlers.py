"""Turns about a person's own things: `away`, and their home (Slack's App Home tab today;
any platform with a home surface).  The home is read-only: every button on it goes
through the normal button path."""

from __future__ import annotations

import datetime as dt

from bot.digests.handlers import digest_for
from bot.digests.models import AUDIENCE
from bot.messages import Card, Heading, Reply
from bot.org.context import load_context
from bot.org.models import Person
from bot.people import cards, service
from bot.people.cards import SHOW_DIGEST, Home
from bot.permissions import can_see_digest, is_unit_member
from bot.ports import UnitOfWork
from bot.sessions.ledger import figures as ledger_figures

__all__ = ["SHOW_DIGEST", "away", "home_card"]


LEDGER_HOME_WEEKS = 4


async def away(uow: UnitOfWork, person: Person, start: dt.date, end: dt.date, now: dt.datetime) -> Reply:
    stand_ins = await service.away(uow, person, start, end, now)
    return Reply.text(cards.away_text(start, end, stand_ins))


async def home_card(uow: UnitOfWork, person: Person, now: dt.datetime) -> Card:
    assert person.id is not None
    home = Home(person=person, now=now)
    open_ids = set()
    for checkin in await uow.checkins.open_for_person(person.id):
        unit = await uow.units.get(checkin.unit_id)
        open_ids.add(checkin.id)
        home.open_checkins.append((unit.name if unit else "?", checkin))
    for unit in await uow.units.all():
        if not is_unit_member(person, unit) or unit.id is None:
            continue
        latest = next(iter(await uow.checkins.for_unit(unit.id, limit=1)), None)
        if latest is not None and latest.id not in open_ids:
            home.latest.append((unit, latest))
    home.commitments = sorted(await uow.commitments.open_for_owner(person.id), key=lambda c: c.due_on)
    if can_see_digest(person):
        home.shows_digest = True
        digest = await uow.digests.latest(AUDIENCE)
        if digest is not None:
            home.digest_week = digest.week
            shown = (await digest_for(uow, person, digest.week, now)).messages
            if shown and isinstance(shown[0], Card):
                home.digest_summary = [p for p in shown[0].parts if not isinstance(p, Heading)]
    if "leader" in person.roles:
        # A leader's own follow-through, where only they see it.
        ctx = await load_context(uow)
        home.ledger = await ledger_figures(uow, person, now, LEDGER_HOME_WEEKS, ctx.calendar)
    return cards.home_card(home)
