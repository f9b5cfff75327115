"""Small helpers shared by the tests."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from bot.deliveries.models import Delivery
from bot.messages import Card, Form, Reply
from bot.org.models import Person
from storage.uow import SqlUnitOfWorkFactory

NY = ZoneInfo("America/New_York")


def next_week(weekday: int, hour: int, minute: int = 0) -> dt.datetime:
    """A UTC moment in the ISO week after the real current one (weekday 0 is Monday).

    For tests whose processes apply the org file at the real time and then pretend a
    moment with ``tick --at``: the org is then set up before that week's check-ins open,
    whatever day the suite runs on (a fixed date turns into the past and the week owes
    nothing)."""
    today = dt.datetime.now(dt.UTC).date()
    monday = today - dt.timedelta(days=today.weekday()) + dt.timedelta(weeks=1)
    return dt.datetime.combine(monday + dt.timedelta(days=weekday), dt.time(hour, minute), tzinfo=dt.UTC)


def ny(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    """A New York wall-clock time as aware UTC."""
    return dt.datetime(year, month, day, hour, minute, tzinfo=NY).astimezone(dt.UTC)


async def person(uow: SqlUnitOfWorkFactory, email: str) -> Person:
    async with uow() as work:
        found = await work.people.by_email(email)
    assert found is not None, email
    return found


async def pid(uow: SqlUnitOfWorkFactory, email: str) -> int:
    found = await person(uow, email)
    assert found.id is not None
    return found.id


async def deliveries_to(uow: SqlUnitOfWorkFactory, email: str) -> list[Delivery]:
    person_id = await pid(uow, email)
    async with uow() as work:
        return list(await work.deliveries.for_audience(Delivery.to_person(person_id)))


def text_of(reply: Reply) -> str:
    out = []
    for message in reply.messages:
        if isinstance(message, Card):
            out.append(message.plain_text())
        else:
            out.append(f"[form {message.title}] " + " ".join(f"{k}: {v}" for k, v in message.errors.items()))
    return "\n".join(out)


def only_form(reply: Reply) -> Form:
    forms = [m for m in reply.messages if isinstance(m, Form)]
    assert len(forms) == 1, text_of(reply)
    return forms[0]


def card_text(delivery: Delivery) -> str:
    return Card.model_validate(delivery.payload).plain_text()
