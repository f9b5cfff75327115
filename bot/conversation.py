"""The bot's turn handling, shared by every platform.

Adapters identify the person and hand over text, a submitted form or a clicked button;
they get a Reply back and choose how to show it.  Nothing here knows a platform.

A turn is one transaction: the handlers (each domain's ``handlers.py``) change state
through the services and return the reply; the turn commits once at the end, and a
refusal or a failure leaves nothing written.  Buttons and forms are dispatched through
the registries ``BUTTONS`` and ``FORMS``, one handler per ``Action``.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Collection, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from bot import commands as c
from bot.actions import Action
from bot.cards import UNREADABLE, UNREADABLE_FIELD, database_unavailable
from bot.checkins import handlers as checkins
from bot.clock import Clock
from bot.commitments import handlers as commitments
from bot.digests.handlers import digest_for
from bot.escalations import handlers as escalations
from bot.messages import Form, Reply
from bot.org.context import NoOrganisationError
from bot.org.models import Person
from bot.people import handlers as people
from bot.permissions import NotAllowed
from bot.ports import DatabaseUnavailable, UnitOfWork, UnitOfWorkFactory
from bot.sessions import brief_handlers as briefs
from bot.sessions import handlers as sessions
from bot.sessions.models import ItemKind

log = logging.getLogger(__name__)

SHORT_HELP = (
    "I did not understand that. Try `help`, `status`, `report`, `commitments`, or `commit <text> by <date>`."
)
STALE_FORM = "That form is out of date; type `report` to get a fresh one."
STALE_BUTTON = "That button is out of date."


@dataclass(frozen=True, slots=True)
class Turn:
    """What a button or form handler gets: the ids and values are as they came from the
    outside, so a handler reloads what they name and checks the person's rights."""

    uow: UnitOfWork
    person: Person
    ids: Mapping[str, str]
    values: Mapping[str, str]
    now: dt.datetime

    def id(self, name: str) -> int | None:
        return _int(self.ids.get(name))


# None: the ids do not name what the action needs (a stale or forged payload).
Handler = Callable[[Turn], Awaitable[Reply | None]]


async def _open_checkin(t: Turn) -> Reply:
    return await checkins.open_form(t.uow, t.person, t.id("checkin"))


async def _submit_checkin(t: Turn) -> Reply | None:
    checkin_id = t.id("checkin")
    if checkin_id is None:
        return None
    return await checkins.submit(t.uow, t.person, checkin_id, t.values, t.now)


async def _confirm_checkin(t: Turn) -> Reply | None:
    checkin_id = t.id("checkin")
    if checkin_id is None:
        return None
    return await checkins.confirm(t.uow, t.person, checkin_id, t.values, t.now)


async def _ask_form(t: Turn) -> Reply:
    return await commitments.ask_form(t.uow, t.person, t.ids, t.now)


async def _ask(t: Turn) -> Reply:
    return await commitments.ask_submitted(t.uow, t.person, t.ids, t.values, t.now)


async def _answer_form(t: Turn) -> Reply | None:
    commitment_id = t.id("commitment")
    if commitment_id is None:
        return None
    return await commitments.answer_form(t.uow, t.person, commitment_id)


async def _answer(t: Turn) -> Reply | None:
    commitment_id = t.id("commitment")
    if commitment_id is None:
        return None
    return await commitments.answer(t.uow, t.person, commitment_id, t.values, t.now)


async def _track(t: Turn) -> Reply | None:
    commitment_id = t.id("commitment")
    if commitment_id is None:
        return None
    return await commitments.track(t.uow, t.person, commitment_id, t.now)


async def _show_digest(t: Turn) -> Reply:
    return await digest_for(t.uow, t.person, t.ids.get("week"), t.now)


async def _acknowledge(t: Turn) -> Reply | None:
    escalation_id = t.id("escalation")
    if escalation_id is None:
        return None
    return (await escalations.acknowledge(t.uow, t.person, escalation_id, t.now)).settling()


async def _snooze(t: Turn) -> Reply | None:
    escalation_id = t.id("escalation")
    if escalation_id is None:
        return None
    days = t.id("days") or 2
    return (await escalations.snooze(t.uow, t.person, escalation_id, days, t.now)).settling()


async def _mark_done(t: Turn) -> Reply | None:
    escalation_id = t.id("escalation")
    if escalation_id is None:
        return None
    return (await escalations.mark_done(t.uow, t.person, escalation_id, t.now)).settling()


async def _approve_memo(t: Turn) -> Reply | None:
    session_id = t.id("session")
    if session_id is None:
        return None
    return await sessions.approve_memo(t.uow, t.person, session_id, t.now)


async def _decision_form(t: Turn) -> Reply | None:
    return await sessions.decision_form(t.uow, t.person, t.ids)


async def _decide(t: Turn) -> Reply | None:
    return await sessions.decide(t.uow, t.person, t.ids, t.values, t.now)


# Every action a button can carry, and its handler.
async def _send_brief(t: Turn) -> Reply | None:
    session_id = t.id("session")
    if session_id is None:
        return None
    return await briefs.send_now(t.uow, t.person, session_id, t.now)


BUTTONS: dict[Action, Handler] = {
    Action.CHECKIN_OPEN: _open_checkin,
    Action.FOLLOWUP_ASK: _ask_form,
    Action.FOLLOWUP_ANSWER: _answer_form,
    Action.FOLLOWUP_TRACK: _track,
    Action.DIGEST_SHOW: _show_digest,
    Action.ESCALATION_ACK: _acknowledge,
    Action.ESCALATION_SNOOZE: _snooze,
    Action.ESCALATION_DONE: _mark_done,
    Action.MEMO_APPROVE: _approve_memo,
    Action.DECISION_CHOOSE: _decision_form,
    Action.BRIEF_SEND: _send_brief,
}

# Every action a submitted form can carry, and its handler.
FORMS: dict[Action, Handler] = {
    Action.CHECKIN_SUBMIT: _submit_checkin,
    Action.CHECKIN_CONFIRM: _confirm_checkin,
    Action.FOLLOWUP_ASK: _ask,
    Action.FOLLOWUP_ANSWER: _answer,
    Action.DECISION_CHOOSE: _decide,
}


# The button that opens the form each action submits: a form can be shown again (with what
# was typed) without running its submission.
_OPENERS: dict[Action, Handler] = {
    Action.CHECKIN_SUBMIT: _open_checkin,
    Action.FOLLOWUP_ASK: _ask_form,
    Action.FOLLOWUP_ANSWER: _answer_form,
    Action.DECISION_CHOOSE: _decision_form,
}


class UnknownPerson(Exception):
    pass


# Whether the turn running in this task was counted (on_turn): an adapter that answers
# on its own after the core ran (its reply could not be shown) must not count it again.
_COUNTED: ContextVar[bool] = ContextVar("statbot_turn_counted", default=False)


def _no_observer(kind: str, outcome: str) -> None:
    return None


class StatBot:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self.uow = uow
        self.clock = clock
        # Told each turn's kind and outcome (metrics); the adapters set it.
        self.on_turn: Callable[[str, str], None] = _no_observer

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
        self,
        person_id: int,
        action: str,
        ids: Mapping[str, str],
        values: Mapping[str, str],
        *,
        unreadable: Collection[str] = (),
    ) -> Reply:
        """A submitted form.  ``unreadable`` names the fields that held only characters
        statbot cannot store (the adapter stripped them, leaving them empty): the
        submission is not taken, and the form comes back with those fields' errors."""
        if unreadable:
            return await self._guard(
                lambda: self._unreadable(person_id, action, ids, values, unreadable), action
            )
        return await self._guard(lambda: self._form(person_id, action, ids, values), action)

    async def on_button(self, person_id: int, action: str, ids: Mapping[str, str]) -> Reply:
        return await self._guard(lambda: self._button(person_id, action, ids), action)

    def answered_outside(self, what: str, outcome: str) -> None:
        """A turn a platform adapter answered without the core: someone it does not know
        (``refused``), text it could not read (``refused``), or the database gone before
        the turn could begin (``unavailable``).  Counted as the core counts its own
        turns, unless the core counted this one already."""
        if not _COUNTED.get():
            self._count(what, outcome)

    def _count(self, what: str, outcome: str) -> None:
        _COUNTED.set(True)
        self.on_turn(what if what == "text" or _action(what) is not None else "unknown", outcome)

    async def _guard(self, turn: Callable[[], Awaitable[Reply]], what: str) -> Reply:
        """Refusals become replies that say why; a bug becomes an apology, never a trace.
        A database outage says so (the unit of work logged it once for the outage)."""
        outcome = "cancelled"
        try:
            reply = await turn()
            outcome = "ok"
            return reply
        except DatabaseUnavailable:
            outcome = "unavailable"
            return database_unavailable()
        except NotAllowed as exc:
            outcome = "refused"
            return Reply.text(str(exc))
        except NoOrganisationError as exc:
            outcome = "refused"
            return Reply.text(str(exc))
        except UnknownPerson:
            outcome = "refused"
            return Reply.text("I don't know you yet: ask an admin to add your email to the org file.")
        except Exception:
            outcome = "error"
            log.exception("turn failed: %s", what)
            return Reply.text("Something went wrong on my side; nothing was changed. Please try again.")
        finally:
            self._count(what, outcome)

    async def _text(self, person_id: int, text: str) -> Reply:
        async with self.uow() as uow:
            person = await self._person(uow, person_id)
            reply = await self._read(uow, person, text)
            await uow.commit()
            return reply

    async def _read(self, uow: UnitOfWork, person: Person, text: str) -> Reply:
        try:
            command = c.parse_command(text, today=self.today(person))
        except c.CommandError as exc:
            # A check-in answer may begin with a command word ("overdue 12, ...").
            final = exc.final  # e.g. "away" with reversed dates: never a check-in answer
            answered = None if final else await checkins.text_answer(uow, person, text, self.clock.now())
            return answered if answered is not None else Reply.text(exc.message)
        if command is None:
            answered = await checkins.text_answer(uow, person, text, self.clock.now())
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
            case c.Home():
                return Reply(messages=(await people.home_card(uow, person, now),))
            case c.Status(unit=unit):
                return await checkins.status(uow, person, unit, now)
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
                return await people.away(uow, person, start, end, now)
            case c.Ask(unit=unit, question=question):
                return await commitments.ask(uow, person, unit, question, None, now)
            case c.Digest(week=week):
                return await digest_for(uow, person, week, now)
            case c.Sessions():
                return await sessions.list_upcoming(uow, person, now)
            case c.SessionSchedule(unit=unit, day=day, time=time):
                return await sessions.schedule(uow, person, unit, day, time, now)
            case c.SessionCancel(id=number, reason=reason):
                return await sessions.cancel(uow, person, number, reason, now)
            case c.SessionChair(id=number, person=target):
                return await sessions.hand_over(uow, person, number, target, now)
            case c.SessionClose():
                return await sessions.close(uow, person, now)
            case c.Promise(owner=owner, text=text, due=due):
                return await sessions.promise(uow, person, owner, text, due, now)
            case c.Decide(text=text):
                return await sessions.record(uow, person, ItemKind.DECISION, text, now)
            case c.Request(text=text, due=due):
                return await sessions.record(uow, person, ItemKind.REQUEST, text, now, due)
            case c.Note(text=text):
                return await sessions.record(uow, person, ItemKind.NOTE, text, now)
            case c.Provide(id=number, answer=answer):
                return await sessions.provide(uow, person, number, answer, now)
            case c.Memo(id=number, add=None):
                return await sessions.show_memo(uow, person, number)
            case c.Memo(id=number, add=str() as line):
                return await sessions.add_to_memo(uow, person, number, line, now)
            case c.Ledger(leader=leader):
                return await sessions.ledger(uow, person, leader, now)
            case c.BriefShow(id=number):
                return await briefs.show(uow, person, number, now)
            case c.BriefAdd(id=number, text=text):
                return await briefs.add(uow, person, number, text, now)
            case c.BriefDrop(id=number, item=item):
                return await briefs.drop(uow, person, number, item, now)
        raise AssertionError(f"unhandled command {command!r}")

    async def _form(
        self, person_id: int, action: str, ids: Mapping[str, str], values: Mapping[str, str]
    ) -> Reply:
        return await self._dispatch(FORMS, person_id, action, ids, values, STALE_FORM)

    async def _button(self, person_id: int, action: str, ids: Mapping[str, str]) -> Reply:
        return await self._dispatch(BUTTONS, person_id, action, ids, {}, STALE_BUTTON)

    async def _unreadable(
        self,
        person_id: int,
        action: str,
        ids: Mapping[str, str],
        values: Mapping[str, str],
        unreadable: Collection[str],
    ) -> Reply:
        """The form as the person left it, with an error on each unreadable field; the
        submission is not run, so nothing is stored.  A form that cannot be opened again
        this way gets the words instead."""
        known = _action(action)
        opener = _OPENERS.get(known) if known is not None else None
        if opener is None:
            return Reply.text(UNREADABLE)
        async with self.uow() as uow:  # left without a commit: opening changes nothing
            person = await self._person(uow, person_id)
            form = _form_of(await opener(Turn(uow, person, ids, {}, self.clock.now())), action)
        if form is None:
            return Reply.text(UNREADABLE)
        inputs = tuple(
            i.model_copy(update={"value": None if i.name in unreadable else values[i.name]})
            if i.name in values
            else i
            for i in form.inputs
        )
        names = {i.name for i in form.inputs}
        errors = {name: UNREADABLE_FIELD for name in unreadable if name in names} or {"": UNREADABLE}
        return Reply(messages=(form.model_copy(update={"inputs": inputs, "errors": errors}),))

    async def _dispatch(
        self,
        registry: Mapping[Action, Handler],
        person_id: int,
        action: str,
        ids: Mapping[str, str],
        values: Mapping[str, str],
        stale: str,
    ) -> Reply:
        async with self.uow() as uow:
            person = await self._person(uow, person_id)
            known = _action(action)
            handler = registry.get(known) if known is not None else None
            reply = None
            if handler is not None:
                reply = await handler(Turn(uow, person, ids, values, self.clock.now()))
            await uow.commit()
            return reply if reply is not None else Reply.text(stale)


def _form_of(reply: Reply | None, action: str) -> Form | None:
    """The form ``action`` submits, when ``reply`` shows it (again)."""
    found = (m for m in (reply.messages if reply else ()) if isinstance(m, Form) and m.action == action)
    return next(found, None)


def _action(value: str) -> Action | None:
    try:
        return Action(value)
    except ValueError:
        return None


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None
