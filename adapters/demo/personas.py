"""The simulated people of `statbot demo`: how each unit's head behaves, and what heads
and leaders do with what the bot sends them.

Heads answer on time, late, never, or with a typo that validation catches; leaders act on
escalations and ask about digest items; heads answer those questions.  Everything they do
goes through the real bot (the same StatBot every platform uses).

They react to what the bot's messages are, never to their wording: a delivery's kind
(its idempotency key), the buttons on a card (the prompt's "fill in", an escalation's
acknowledge, a digest item's "ask"), a form and its errors, a receipt, and the commands a
text reply offers (its code spans, such as `confirm`).  What a head types in a text answer
follows from what they know: a number of theirs that misses its target needs a reason.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.checkins.cards import OPEN_FORM
from bot.checkins.models import CheckIn
from bot.checkins.status import metric_status
from bot.deliveries.models import Delivery
from bot.messages import Button, Buttons, Card, Form, Paragraph, Reply, Text
from bot.org.models import Metric, Unit

if TYPE_CHECKING:
    from adapters.demo.simulation import Simulation

# How each unit's head behaves, so every path of the cycle shows up.
PERSONAS = {
    "sanitation": "punctual",
    "streets": "sloppy",
    "customer_service": "punctual",
    "fire": "punctual",
    "parks": "late",
    "permits": "erratic",
    "housing": "slipping",
    "water": "punctual",
    "hr": "late",
}


# How the commitments heads make in their check-ins end, in turn.
FATES = ("on time", "late", "dropped", "quiet")


def buttons_of(reply: Reply) -> list[Button]:
    return [
        b
        for m in reply.messages
        if isinstance(m, Card)
        for p in m.parts
        if isinstance(p, Buttons)
        for b in p.buttons
    ]


def recorded(reply: Reply, fill: Button) -> bool:
    """The check-in's numbers were stored: the receipt offers to edit them (the same
    button as the prompt's, which opens that check-in's form)."""
    return any(b.action == fill.action and b.ids == fill.ids for b in buttons_of(reply))


def offered_commands(reply: Reply) -> set[str]:
    """The words a reply offers to type (``Reply `confirm` to keep it``): its code spans."""
    return {
        span.text.strip()
        for m in reply.messages
        if isinstance(m, Card)
        for part in m.parts
        if isinstance(part, Paragraph)
        for span in part.spans
        if isinstance(span, Text) and span.style == "code"
    }


@dataclass
class People:
    """Everyone in the org, acting through the bot as their persona says."""

    sim: Simulation
    asked_weeks: set[str] = field(default_factory=set)
    typos: set[tuple[int, str]] = field(default_factory=set)
    # Each commitment made in a check-in, by unit and text, and how it will end.
    fates: dict[tuple[str, str], str] = field(default_factory=dict)
    made: int = 0

    def value_for(self, unit: Unit, metric: Metric, week: str) -> float:
        """A plausible reading: near target, some units drifting off it over the weeks."""
        index = int(week[-2:])
        persona = PERSONAS.get(unit.key, "punctual")
        sign = 1 if metric.direction == "higher" else -1
        noise = self.sim.rng.uniform(-0.6, 0.6) * max(metric.amber, abs(metric.target) * 0.04)
        drift = 0.0
        if persona == "slipping":
            drift = -sign * (index % 10) * max(metric.amber, abs(metric.target) * 0.05) * 0.6
        value = metric.target + sign * max(metric.amber, abs(metric.target) * 0.03) * 0.3 + noise + drift
        if metric.minimum is not None:
            value = max(value, metric.minimum)
        if metric.maximum is not None:
            value = min(value, metric.maximum)
        return round(value) if metric.integer else round(value, 1)

    async def plan_reaction(self, delivery: Delivery, card: Card) -> None:
        key = delivery.idempotency_key
        buttons = [b for p in card.parts if isinstance(p, Buttons) for b in p.buttons]
        person_id = int(delivery.audience.split(":")[1]) if delivery.audience.startswith("person:") else None
        now = self.sim.clock.now()
        if key.endswith(":prompt") and person_id is not None:
            fill = next((b for b in buttons if b.action == OPEN_FORM), None)
            if fill is not None:
                await self.plan_answer(person_id, fill)
        elif key.startswith("followup:") and key.endswith(":asked") and person_id is not None:
            button = next(b for b in buttons if b.action == "followup.answer")
            self.sim.later(
                now + dt.timedelta(hours=self.sim.rng.choice([3, 20, 26])),
                "answer",
                lambda: self.answer_followup(person_id, button),
            )
        elif key.startswith("escalation:") and person_id is not None:
            person = self.sim.people[person_id]
            ack = next((b for b in buttons if b.action == "escalation.ack"), None)
            if person.is_leader and ack is not None:
                self.sim.later(now + dt.timedelta(hours=2), "ack", lambda: self.click(person_id, ack))
        elif key.startswith("digest:") and person_id is not None and self.sim.people[person_id].is_leader:
            ask = next((b for b in buttons if b.action == "followup.ask"), None)
            week = key.split(":")[1]
            if ask is not None and week not in self.asked_weeks:
                self.asked_weeks.add(week)
                self.sim.later(now + dt.timedelta(hours=1), "ask", lambda: self.ask_about(person_id, ask))

    async def plan_answer(self, person_id: int, fill: Button) -> None:
        """When (and how) the head answers the check-in the prompt's button opens."""
        async with self.sim.uow() as uow:
            checkin = await uow.checkins.get(int(fill.ids["checkin"]))
        if checkin is None:
            return
        unit = self.sim.units[checkin.unit_id]
        persona = PERSONAS.get(unit.key, "punctual")
        week_number = int(checkin.week[-2:])
        if persona == "erratic" and week_number % 3 == 0:
            return  # never answers this week: the escalation chain takes over
        if persona == "late" or (persona == "erratic" and week_number % 3 == 1):
            when = checkin.deadline_at + dt.timedelta(hours=self.sim.rng.choice([2, 20, 70]))
        else:
            when = self.sim.clock.now() + dt.timedelta(hours=self.sim.rng.choice([1, 3, 5]))
        use_text = persona in ("slipping",) or week_number % 4 == 0
        self.sim.later(when, "answer", lambda: self.answer_checkin(person_id, checkin, fill, use_text))

    async def answer_checkin(self, person_id: int, checkin: CheckIn, fill: Button, use_text: bool) -> None:
        person, unit = self.sim.people[person_id], self.sim.units[checkin.unit_id]
        values = {m.key: self.value_for(unit, m, checkin.week) for m in self.sim.metrics[unit.id or 0]}
        if use_text:
            text = ", ".join(f"{key} {value:g}" for key, value in values.items())
            self.sim.say(person.name, text, "magenta")
            reply = await self.sim.bot.on_text(person_id, text)
            await self.sim.show(person.name, reply)
            if not recorded(reply, fill):
                # Not stored: the head explains each number of theirs that misses its target
                # (the bot stores no such number without a reason).
                for metric in self.sim.metrics[unit.id or 0]:
                    if metric_status(metric, float(f"{values[metric.key]:g}")) == "red":
                        reason = self.sim.rng.choice(["two crews out sick", "storm week", "vendor delay"])
                        why = f"why {metric.key}: {reason}"
                        self.sim.say(person.name, why, "magenta")
                        reply = await self.sim.bot.on_text(person_id, why)
                        await self.sim.show(person.name, reply)
            if "confirm" in offered_commands(reply):
                self.sim.say(person.name, "confirm", "magenta")
                await self.sim.show(person.name, await self.sim.bot.on_text(person_id, "confirm"))
            self.sim.count("answered by text")
            return
        reply = await self.sim.bot.on_button(person_id, fill.action, fill.ids)
        form = next((m for m in reply.messages if isinstance(m, Form)), None)
        if form is None:
            await self.sim.show(person.name, reply)
            return
        typed = {f"m.{k}": f"{v:g}" for k, v in values.items()}
        typed.update(await self.commitment_moves(form, unit, values))
        first_metric = self.sim.metrics[unit.id or 0][0]
        if PERSONAS.get(unit.key) == "sloppy" and (unit.id or 0, checkin.week) not in self.typos:
            self.typos.add((unit.id or 0, checkin.week))
            typed[f"m.{first_metric.key}"] = self.sim.rng.choice(
                ["4OO", "1,2", "-5", f"{values[first_metric.key] * 10:g}"]
            )
        for _attempt in range(4):
            self.sim.say(
                person.name,
                "[form] " + ", ".join(f"{k[2:]}={v}" for k, v in typed.items() if k.startswith("m.")),
                "magenta",
            )
            reply = await self.sim.bot.on_form(person_id, form.action, form.ids, typed)
            await self.sim.show(person.name, reply)
            form = next((m for m in reply.messages if isinstance(m, Form)), None)
            if form is None:
                self.sim.count("answered by form")
                return
            if form.action == "checkin.confirm":
                typed = {
                    f"ok.{first_metric.key}": "correct",
                    f"m.{first_metric.key}": f"{values[first_metric.key]:g}",
                }
                typed.update(
                    {
                        i.name: "confirm"
                        for i in form.inputs
                        if i.name.startswith("ok.") and i.name not in typed
                    }
                )
                continue
            # Fix what validation caught: real values, and a reason where one is needed.
            typed = {i.name: i.value or "" for i in form.inputs}
            for name in form.errors:
                if name.startswith("m."):
                    typed[name] = f"{values[name[2:]]:g}"
                elif name.startswith("why."):
                    reasons = ["Storm week: crews reassigned", "Vendor delay on parts"]
                    typed[name] = self.sim.rng.choice(reasons)
                self.sim.count("validation caught")

    async def commitment_moves(self, form: Form, unit: Unit, values: dict[str, float]) -> dict[str, str]:
        """What the head does with the commitments the check-in form lists, and a new
        one when a number is off target: every way a promise ends, over the weeks.  Each
        new commitment gets its fate when it is made: delivered on time, delivered late,
        dropped with a reason, or left to go quiet (its escalation takes over)."""
        today = self.sim.clock.now().astimezone(ZoneInfo(unit.timezone)).date()
        moves: dict[str, str] = {}
        listed = [i for i in form.inputs if i.name.startswith("c.") and i.name[2:].isdigit()]
        for item in listed:
            ident = int(item.name[2:])
            async with self.sim.uow() as uow:
                commitment = await uow.commitments.get(ident)
            if commitment is None:
                continue
            fate = self.fates.get((unit.key, commitment.text))
            if fate == "dropped":
                moves[item.name] = "dropped"
                moves[f"cnote.{ident}"] = "Budget moved to the storm response"
            elif (fate, today <= commitment.due_on) in (("on time", True), ("late", False)):
                moves[item.name] = "done"
        off = [
            m
            for m in self.sim.metrics[unit.id or 0]
            if metric_status(m, float(f"{values[m.key]:g}")) in ("red", "amber")
        ]
        if off and not listed:
            fate = FATES[self.made % len(FATES)]
            self.made += 1
            text = f"Bring {off[0].name[0].lower()}{off[0].name[1:]} back on target"[:120]
            self.fates[(unit.key, text)] = fate
            moves["new.text"] = text
            moves["new.due"] = "in 2 weeks" if fate == "on time" else "in 5 days"
        return moves

    async def answer_followup(self, person_id: int, button: Button) -> None:
        person = self.sim.people[person_id]
        reply = await self.sim.bot.on_button(person_id, button.action, button.ids)
        form = next((m for m in reply.messages if isinstance(m, Form)), None)
        if form is None:
            await self.sim.show(person.name, reply)
            return
        answer = self.sim.rng.choice(
            [
                "Two trucks were in the shop; both are back and the backlog clears by Friday.",
                "We shifted a crew from nights; numbers should recover next week.",
                "A vendor missed delivery; we escalated to procurement.",
            ]
        )
        typed = {"answer": answer}
        if "backlog" not in answer and self.sim.rng.random() < 0.5:
            # The form's promise: tracked as a commitment, owned by the head.
            typed |= {"promise": "Numbers back on target", "promise_due": "in 2 weeks"}
        self.sim.say(person.name, f"[answer] {answer}", "magenta")
        reply = await self.sim.bot.on_form(person_id, form.action, form.ids, typed)
        await self.sim.show(person.name, reply)
        track = next((b for b in buttons_of(reply) if b.action == "followup.track"), None)
        if track is not None:
            self.sim.say(person.name, "[clicks Track this]", "magenta")
            await self.sim.show(person.name, await self.sim.bot.on_button(person_id, track.action, track.ids))
        self.sim.count("follow-ups answered")

    async def click(self, person_id: int, button: Button) -> None:
        person = self.sim.people[person_id]
        self.sim.say(person.name, f"[clicks {button.label}]", "magenta")
        await self.sim.show(person.name, await self.sim.bot.on_button(person_id, button.action, button.ids))
        self.sim.count("leader actions")

    async def ask_about(self, person_id: int, button: Button) -> None:
        person = self.sim.people[person_id]
        self.sim.say(person.name, "[clicks Ask about this]", "magenta")
        reply = await self.sim.bot.on_button(person_id, button.action, button.ids)
        form = next((m for m in reply.messages if isinstance(m, Form)), None)
        if form is None:
            await self.sim.show(person.name, reply)
            return
        values = {i.name: i.value or "" for i in form.inputs}
        await self.sim.show(person.name, await self.sim.bot.on_form(person_id, form.action, form.ids, values))
        self.sim.count("follow-ups asked")

    def plan_absences(self, start: dt.datetime, weeks: int) -> None:
        """A head with a deputy goes away in week 2 (the deputy stands in); a head
        without one in week 3 (the check-in is excused)."""
        zone = ZoneInfo("America/New_York")
        monday = start.astimezone(zone).date()
        for unit in self.sim.units.values():
            week = 1 if unit.deputy_id else 2
            if unit.key not in ("sanitation", "parks") or week >= weeks:
                continue
            first = monday + dt.timedelta(weeks=week)
            text = f"away {first.isoformat()} to {(first + dt.timedelta(days=6)).isoformat()}"
            at = dt.datetime.combine(first - dt.timedelta(days=3), dt.time(10), zone).astimezone(dt.UTC)
            self.sim.later(at, "away", partial(self.type, unit.head_id, text))

    async def type(self, person_id: int, text: str) -> None:
        person = self.sim.people[person_id]
        self.sim.say(person.name, text, "magenta")
        await self.sim.show(person.name, await self.sim.bot.on_text(person_id, text))
