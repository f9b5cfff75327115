"""The bot's turn handling, shared by every platform.

Adapters identify the person and hand over text, a submitted form or a clicked button;
they get a Reply back and choose how to show it.  Nothing here knows a platform.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Mapping
from zoneinfo import ZoneInfo

from bot import commands as c
from bot import followups
from bot.audit import AuditEntry
from bot.checkins import cards as checkin_cards
from bot.checkins import forms as checkin_forms
from bot.checkins import service as checkins
from bot.checkins.text import text_answer
from bot.clock import Clock
from bot.commitments import service as commitments
from bot.digests.handlers import digest_for
from bot.escalations import actions as escalation_actions
from bot.escalations import cards as escalation_cards
from bot.home import SHOW_DIGEST
from bot.messages import Reply
from bot.messages.text import possessive
from bot.org.context import NoOrganisationError
from bot.org.models import AwayPeriod, Person
from bot.permissions import NotAllowed
from bot.ports import UnitOfWork, UnitOfWorkFactory
from bot.status import status

log = logging.getLogger(__name__)

SHORT_HELP = (
    "I did not understand that. Try `help`, `status`, `report`, `commitments`, or `commit <text> by <date>`."
)


class UnknownPerson(Exception):
    pass


class StatBot:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self.uow = uow
        self.clock = clock

    def today(self, person: Person) -> dt.date:
        return self.clock.now().astimezone(ZoneInfo(person.timezone)).date()

    async def _person(self, uow: UnitOfWork, person_id: int) -> Person:
        person = await uow.people.get(person_id)
        if person is None or not person.active:
            raise UnknownPerson(person_id)
        return person

    async def on_text(self, person_id: int, text: str) -> Reply:
        return await self._guard(lambda: self._text(person_id, text), "text")

    async def on_form(
        self, person_id: int, action: str, ids: Mapping[str, str], values: Mapping[str, str]
    ) -> Reply:
        return await self._guard(lambda: self._form(person_id, action, ids, values), action)

    async def on_button(self, person_id: int, action: str, ids: Mapping[str, str]) -> Reply:
        return await self._guard(lambda: self._button(person_id, action, ids), action)

    async def _guard(self, turn: Callable[[], Awaitable[Reply]], what: str) -> Reply:
        """Refusals become replies that say why; a bug becomes an apology, never a trace."""
        try:
            return await turn()
        except NotAllowed as exc:
            return Reply.text(str(exc))
        except NoOrganisationError as exc:
            return Reply.text(str(exc))
        except UnknownPerson:
            return Reply.text("I don't know you yet: ask an admin to add your email to the org file.")
        except Exception:
            log.exception("turn failed: %s", what)
            return Reply.text("Something went wrong on my side; nothing was changed. Please try again.")

    async def _text(self, person_id: int, text: str) -> Reply:
        async with self.uow() as uow:
            person = await self._person(uow, person_id)
            try:
                command = c.parse_command(text, today=self.today(person))
            except c.CommandError as exc:
                # A check-in answer may begin with a command word ("overdue 12, ...").
                answered = await text_answer(uow, person, text, self.clock.now())
                return answered if answered is not None else Reply.text(exc.message)
            if command is None:
                answered = await text_answer(uow, person, text, self.clock.now())
                return answered if answered is not None else Reply.text(SHORT_HELP)
            return await self._command(uow, person, command)

    async def _command(self, uow: UnitOfWork, person: Person, command: c.Command) -> Reply:
        now = self.clock.now()
        today = self.today(person)
        match command:
            case c.Help(topic=topic):
                return Reply.text(c.help_text(topic))
            case c.Report():
                return await checkins.open_form(uow, person, now=now)
            case c.Status(unit=unit):
                return await status(uow, person, unit, now)
            case c.Commitments(target=target):
                return await commitments.list_for(uow, person, target, today)
            case c.Overdue():
                return await commitments.overdue(uow, person, today)
            case c.Commit(text=text, due=due):
                return await commitments.create(uow, person, text, due, now)
            case c.Done(id=commitment_id):
                return await commitments.close(uow, person, commitment_id, now)
            case c.Update(id=commitment_id, note=note):
                return await commitments.update(uow, person, commitment_id, note, now)
            case c.Away(start=start, end=end):
                return await self._away(uow, person, start, end, now)
            case c.Ask(unit=unit, question=question):
                return await followups.ask(uow, person, unit, question, None, now)
            case c.Digest(week=week):
                return await digest_for(uow, person, week, now)
        raise AssertionError(f"unhandled command {command!r}")

    async def _away(
        self, uow: UnitOfWork, person: Person, start: dt.date, end: dt.date, now: dt.datetime
    ) -> Reply:
        assert person.id is not None
        await uow.away.add(AwayPeriod(person_id=person.id, starts_on=start, ends_on=end))
        await uow.audit.record(
            AuditEntry(
                at=now,
                actor_id=person.id,
                action="person.away",
                subject=f"person:{person.id}",
                detail={"from": start.isoformat(), "to": end.isoformat()},
            )
        )
        await uow.commit()
        stand_ins = []
        for unit in await commitments.units_of(uow, person):
            if unit.head_id == person.id and unit.deputy_id:
                deputy = await uow.people.get(unit.deputy_id)
                if deputy is not None:
                    stand_ins.append(f"{deputy.name} will get {possessive(unit.name)} check-ins")
            elif unit.head_id == person.id:
                stand_ins.append(f"{unit.name} has no deputy, so its check-ins are excused")
        more = (" " + "; ".join(stand_ins) + ".") if stand_ins else ""
        return Reply.text(f"Noted: you are away {start:%a %d %b} – {end:%a %d %b}.{more}")

    async def _form(
        self, person_id: int, action: str, ids: Mapping[str, str], values: Mapping[str, str]
    ) -> Reply:
        async with self.uow() as uow:
            person = await self._person(uow, person_id)
            checkin_id = _int(ids.get("checkin"))
            if action == checkin_forms.SUBMIT and checkin_id is not None:
                return await checkins.submit(uow, person, checkin_id, values, self.clock.now())
            if action == checkin_forms.CONFIRM and checkin_id is not None:
                return await checkins.confirm(uow, person, checkin_id, values, self.clock.now())
            if action == followups.ASK:
                return await followups.ask_submitted(uow, person, ids, values, self.clock.now())
            commitment_id = _int(ids.get("commitment"))
            if action == followups.ANSWER and commitment_id is not None:
                return await followups.answer(uow, person, commitment_id, values, self.clock.now())
        return Reply.text("That form is out of date; type `report` to get a fresh one.")

    async def _button(self, person_id: int, action: str, ids: Mapping[str, str]) -> Reply:
        async with self.uow() as uow:
            person = await self._person(uow, person_id)
            now = self.clock.now()
            if action == checkin_cards.OPEN_FORM:
                return await checkins.open_form(uow, person, _int(ids.get("checkin")))
            if action == followups.ASK:
                return await followups.ask_form(uow, person, ids, now)
            if action == SHOW_DIGEST:
                return await digest_for(uow, person, ids.get("week"), now)
            commitment_id = _int(ids.get("commitment"))
            if action == followups.ANSWER and commitment_id is not None:
                return await followups.answer_form(uow, person, commitment_id)
            escalation_id = _int(ids.get("escalation"))
            if escalation_id is not None:
                if action == escalation_cards.ACK:
                    reply = await escalation_actions.acknowledge(uow, person, escalation_id, now)
                    return reply.settling()
                if action == escalation_cards.SNOOZE:
                    days = _int(ids.get("days")) or 2
                    return (await escalation_actions.snooze(uow, person, escalation_id, days, now)).settling()
                if action == escalation_cards.DONE:
                    return (await escalation_actions.mark_done(uow, person, escalation_id, now)).settling()
        return Reply.text("That button is out of date.")


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None
