"""The stat sessions of `statbot demo`: the simulated chairs, analysts and unit heads
take part in the meetings the org file's `sessions:` section plans.

Everything goes through the real bot, as for the other personas.  When a session's draft
brief reaches its chair, the chair decides what happens to the meeting (in turn, so every
path shows up once in a few weeks): it is held; its chair is handed to another leader
(a delegation); it is cancelled with a reason; or it is held and its memo is approved
only after the bot escalated it as late.  A held session is run in the room: the chair
and the attending analyst record promises owed by the unit's head, a request for data, a
decision and a note, the chair closes it and approves the memo from the draft card.
The head later keeps the promises (on time, late) or drops one, and provides the data.

Like personas.py, they react to what the messages are (a delivery's kind, a card's
buttons, the commands a card offers), never to their wording.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.actions import Action
from bot.deliveries.models import Delivery
from bot.messages import Button, Buttons, Card, Reply
from bot.org.models import Person, Unit
from bot.ports import UnitOfWorkFactory
from bot.sessions.documents import attachment
from bot.sessions.models import DocumentKind, ItemKind, SessionState, StatSession
from bot.weeks import week_of

if TYPE_CHECKING:
    from adapters.demo.personas import People
    from adapters.demo.simulation import Simulation

# What each chair does with a session, in the order their draft briefs arrive.
SESSION_FATES = ("held", "delegated", "cancelled", "late memo")
# How the promises captured in sessions end, in turn ("dropped": the head drops it in a
# check-in form, with a reason, as personas.py does for check-in commitments).
PROMISE_FATES = ("on time", "late", "on time", "dropped")
CANCEL_REASON = "the head is testifying at the council budget hearing"
# The leader a chair hands a session to: the mayor's chief of staff.
STAND_IN = "dana.whitfield@riverton.gov"
ZONE = ZoneInfo("America/New_York")


def _buttons(card: Card) -> list[Button]:
    return [b for p in card.parts if isinstance(p, Buttons) for b in p.buttons]


def _reply_buttons(reply: Reply) -> list[Button]:
    return [b for m in reply.messages if isinstance(m, Card) for b in _buttons(m)]


def _session_id(key: str) -> int:
    return int(key.split(":")[1])


@dataclass
class Chairs:
    """The chairs, analysts and heads of the stat sessions."""

    sim: Simulation
    people: People
    # Their own stream of the demo's seed: the sessions leave the other personas' draws
    # (and so the weeks the earlier demo showed) as they were.
    rng: random.Random
    fates: dict[int, str] = field(default_factory=dict)
    promises: int = 0

    def _person(self, email: str) -> Person:
        return next(p for p in self.sim.people.values() if p.email == email)

    async def _session(self, session_id: int) -> StatSession | None:
        async with self.sim.uow() as uow:
            return await uow.sessions.get(session_id)

    async def type(self, person_id: int, text: str) -> Reply:
        person = self.sim.people[person_id]
        self.sim.say(person.name, text, "magenta")
        reply = await self.sim.bot.on_text(person_id, text)
        await self.sim.show(person.name, reply)
        return reply

    async def click(self, person_id: int, button: Button) -> None:
        person = self.sim.people[person_id]
        self.sim.say(person.name, f"[clicks {button.label}]", "magenta")
        await self.sim.show(person.name, await self.sim.bot.on_button(person_id, button.action, button.ids))

    # --- reacting to what the bot sends ------------------------------------------------------

    async def plan_reaction(self, delivery: Delivery, card: Card) -> None:
        key = delivery.idempotency_key
        if not key.startswith("session:") or not delivery.audience.startswith("person:"):
            return
        person_id = int(delivery.audience.split(":")[1])
        session_id = _session_id(key)
        now = self.sim.clock.now()
        if ":brief-draft:" in key:
            session = await self._session(session_id)
            if session is not None and person_id == session.scheduled_chair_id:
                await self.decide(session, now)
        elif key.endswith(":memo:late"):
            approve = next((b for b in _buttons(card) if b.action == Action.MEMO_APPROVE), None)
            if approve is not None:
                self.sim.count("memos escalated as late")
                self.sim.later(
                    now + dt.timedelta(hours=1), "approve", lambda: self.approve(person_id, approve)
                )
        elif ":item:" in key and ":provided:" not in key:
            await self.head_reacts(person_id, key, now)

    async def decide(self, session: StatSession, now: dt.datetime) -> None:
        """The chair, shown the draft brief, decides what becomes of the meeting."""
        assert session.id is not None
        # Each rarer path once, then the sessions are simply held.
        seen = len(self.fates)
        fate = SESSION_FATES[seen] if seen < len(SESSION_FATES) else "held"
        self.fates[session.id] = fate
        chair, number = session.chair_id, session.id
        if fate == "cancelled":
            text = f"session cancel {number} {CANCEL_REASON}"
            self.sim.later(now + dt.timedelta(hours=2), "cancel", lambda: self.cancel(chair, text))
            return
        if fate == "delegated":
            text = f"session chair {number} {STAND_IN}"
            self.sim.later(now + dt.timedelta(hours=2), "delegate", lambda: self.delegate(chair, text))
        self.sim.later(session.starts_at, "session", lambda: self.run(number))
        close_at = session.starts_at + dt.timedelta(minutes=session.minutes)
        self.sim.later(close_at, "close", lambda: self.close(number))

    async def cancel(self, chair_id: int, text: str) -> None:
        await self.type(chair_id, text)
        self.sim.count("sessions cancelled")

    async def delegate(self, chair_id: int, text: str) -> None:
        await self.type(chair_id, text)
        self.sim.count("session chairs delegated")

    # --- in the room ---------------------------------------------------------------------------

    async def _held(self, session_id: int) -> tuple[StatSession, Unit, Person] | None:
        session = await self._session(session_id)
        if session is None or session.state != SessionState.SCHEDULED:
            return None
        unit = self.sim.units[session.unit_id]
        return session, unit, self.sim.people[unit.head_id]

    async def run(self, session_id: int) -> None:
        """The chair opens with the unit's numbers; promises, a request for data, a
        decision and a note are recorded as the meeting goes."""
        held = await self._held(session_id)
        if held is None:
            return
        session, unit, head = held
        analyst = next((a for a in session.attendees if "analyst" in self.sim.people[a].roles), None)
        metrics = self.sim.metrics[unit.id or 0]
        today = self.sim.clock.now().astimezone(ZONE).date()
        first, second = metrics[0].name, metrics[1 % len(metrics)].name
        captures: list[tuple[int, str]] = [
            (
                session.chair_id,
                f"promise @{head.email} A recovery plan for {first.lower()} "
                f"by {today + dt.timedelta(days=9):%Y-%m-%d}",
            ),
        ]
        if analyst is not None:
            # The analyst records while the chair questions: a second promise.
            days = self.rng.choice([6, 8])
            captures.append(
                (
                    analyst,
                    f"promise @{head.email} Route-level figures for {second.lower()} weekly "
                    f"by {today + dt.timedelta(days=days):%Y-%m-%d}",
                )
            )
        captures += [
            (analyst or session.chair_id, f"request {first} by week and crew, last 8 weeks by next session"),
            (
                session.chair_id,
                self.rng.choice(
                    [
                        "decide Overtime for two extra crews approved until the backlog clears",
                        "decide Fleet maintenance moves one truck to this unit for a month",
                        "decide The target stays; the unit reports progress weekly",
                    ]
                ),
            ),
            (
                analyst or session.chair_id,
                self.rng.choice(
                    [
                        "note The head asks for a mechanic; budget office to advise",
                        "note Figures for the last two weeks to be checked against 311 data",
                    ]
                ),
            ),
        ]
        for person_id, text in captures:
            await self.type(person_id, text)
            if text.startswith("promise "):
                self.sim.count("session promises captured")
        self.sim.count("sessions held")

    async def close(self, session_id: int) -> None:
        held = await self._held(session_id)
        if held is None:
            return
        session, _, _ = held
        chair = session.chair_id
        reply = await self.type(chair, "session close")
        approve = next((b for b in _reply_buttons(reply) if b.action == Action.MEMO_APPROVE), None)
        if approve is None or self.fates.get(session_id) == "late memo":
            return  # the chair forgets it: the bot escalates the draft (late memos)
        hours = self.rng.choice([1, 3, 5])
        self.sim.later(
            self.sim.clock.now() + dt.timedelta(hours=hours), "approve", lambda: self.approve(chair, approve)
        )

    async def approve(self, chair_id: int, button: Button) -> None:
        await self.click(chair_id, button)
        self.sim.count("memos approved")

    # --- the unit afterwards -------------------------------------------------------------------

    async def head_reacts(self, person_id: int, key: str, now: dt.datetime) -> None:
        """What a head does with a promise recorded for them, or data asked of them (the
        delivery's key names the session's item; the head looks it up)."""
        async with self.sim.uow() as uow:
            item = await uow.session_items.get(int(key.split(":")[3]))
            commitment = (
                await uow.commitments.get(item.commitment_id)
                if item is not None and item.commitment_id is not None
                else None
            )
        if item is None:
            return
        unit_key = self.sim.units[commitment.unit_id].key if commitment is not None else "unit"
        if item.kind == ItemKind.REQUEST:
            session = await self._session(item.session_id)
            if session is not None:
                unit_key = self.sim.units[session.unit_id].key
            text = f"provide {item.id} https://data.riverton.gov/{unit_key}/request-{item.id}.csv"
            at = now + dt.timedelta(hours=self.rng.choice([20, 26, 44]))
            self.sim.later(at, "provide", lambda: self.provided(person_id, text))
            return
        if item.kind != ItemKind.PROMISE or commitment is None:
            return
        fate = PROMISE_FATES[self.promises % len(PROMISE_FATES)]
        self.promises += 1
        if fate == "dropped":
            # Dropped with a reason in the head's next check-in form (personas.py).
            self.people.fates[(unit_key, commitment.text)] = "dropped"
            return
        due = dt.datetime.combine(commitment.due_on, dt.time(11), ZONE).astimezone(dt.UTC)
        at = due - dt.timedelta(days=2) if fate == "on time" else due + dt.timedelta(days=2)
        text = f"done {commitment.id}"
        self.sim.later(max(at, now + dt.timedelta(hours=3)), "done", lambda: self.kept(person_id, text, fate))

    async def provided(self, person_id: int, text: str) -> None:
        await self.type(person_id, text)
        self.sim.count("session requests provided")

    async def kept(self, person_id: int, text: str, fate: str) -> None:
        await self.type(person_id, text)
        self.sim.count(f"session promises kept {fate}")


async def session_lines(uow: UnitOfWorkFactory, sim: Simulation, week: str) -> list[str]:
    """The summary's lines about the week's stat sessions, as they stand at its end."""
    monday = sim.clock.now() - dt.timedelta(days=10)
    lines: list[str] = []
    async with uow() as work:
        for session in await work.sessions.between(monday, sim.clock.now() + dt.timedelta(days=1)):
            if week_of(session.starts_at, "America/New_York") != week or session.id is None:
                continue
            unit = sim.units[session.unit_id]
            chair = sim.people[session.chair_id].name
            when = session.starts_at.astimezone(ZONE).strftime("%a %d %b %H:%M")
            head = f"Stat session #{session.id} ({unit.name}, {when})"
            if session.state == SessionState.CANCELLED:
                lines.append(f"{head}: cancelled — {session.cancel_reason}")
                continue
            if session.delegated:
                chair += f" for {sim.people[session.scheduled_chair_id].name} (delegated)"
            if session.state == SessionState.SCHEDULED:
                lines.append(f"{head}: scheduled, chair {chair}")
                continue
            memo = await work.session_documents.of(session.id, DocumentKind.MEMO)
            sent = "memo sent" if memo is not None and memo.sent_at is not None else "memo not approved yet"
            lines.append(f"{head}: held, chaired by {chair}; {sent}")
    return lines


async def write_session_documents(
    uow: UnitOfWorkFactory, sim: Simulation, out: Path, start: dt.datetime, end: dt.datetime
) -> int:
    """Each brief and memo the bot kept, as Markdown and as the PDF the chat attaches, in
    the folder of its session's week."""
    from adapters.documents import markdown_pdf

    written = 0
    async with uow() as work:
        for session in await work.sessions.between(start, end):
            if session.id is None:
                continue
            folder = out / week_of(session.starts_at, "America/New_York")
            unit = sim.units[session.unit_id]
            for kind in (DocumentKind.BRIEF, DocumentKind.MEMO):
                document = await work.session_documents.of(session.id, kind)
                if document is None:
                    continue
                folder.mkdir(parents=True, exist_ok=True)
                part = attachment(document, unit)
                (folder / f"{part.filename}.md").write_text(document.body, encoding="utf-8")
                pdf = markdown_pdf(document.body, title=part.title, created_at=document.sent_at)
                (folder / f"{part.filename}.pdf").write_bytes(pdf)
                written += 1
    return written
