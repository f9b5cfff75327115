"""`statbot demo`: N weeks of the example org on a fresh database, with a moving clock
and simulated people, driven through the real bot (the same StatBot every platform
uses).  It prints the conversation and writes a summary (and each Monday's digest)
per week to a folder.

The people are simulated, not the bot: heads answer on time, late, never, or with a
typo that validation catches; leaders act on escalations and ask about digest items;
heads answer those questions.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from zoneinfo import ZoneInfo

from rich.console import Console
from rich.text import Text

from adapters.console.chat import ConsoleGateway
from adapters.reports import write_digest_files
from bot.checkins.models import CheckIn
from bot.clock import FakeClock
from bot.conversation import StatBot
from bot.deliveries.models import Delivery, KeyKind
from bot.deliveries.service import drain
from bot.messages import Button, Buttons, Card, Form, Reply
from bot.org.apply import apply_org
from bot.org.models import Metric, Person, Unit
from bot.org.schema import load_org
from bot.ports import UnitOfWorkFactory
from bot.sweeps import SWEEPS
from bot.weeks import week_of

Action = Callable[[], Awaitable[None]]

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


@dataclass
class Pending:
    at: dt.datetime
    label: str
    action: Action


@dataclass
class Simulation:
    uow: UnitOfWorkFactory
    clock: FakeClock
    bot: StatBot
    console: Console
    out: Path | None
    rng: random.Random
    queue: list[Pending] = field(default_factory=list)
    seen: int = 0
    people: dict[int, Person] = field(default_factory=dict)
    units: dict[int, Unit] = field(default_factory=dict)
    metrics: dict[int, list[Metric]] = field(default_factory=dict)
    asked_weeks: set[str] = field(default_factory=set)
    typos: set[tuple[int, str]] = field(default_factory=set)
    stats: dict[str, int] = field(default_factory=dict)
    digests_written: set[str] = field(default_factory=set)

    # --- printing ----------------------------------------------------------------------------

    def stamp(self) -> str:
        return self.clock.now().astimezone(ZoneInfo("America/New_York")).strftime("%a %d %b %H:%M")

    def say(self, who: str, text: str, style: str = "") -> None:
        line = Text(f"{self.stamp()}  ", style="dim")
        line.append(f"{who}: ", style="bold " + style)
        line.append(text.replace("\n", " ⏎ ")[:220])
        self.console.print(line)

    def count(self, what: str) -> None:
        self.stats[what] = self.stats.get(what, 0) + 1

    # --- the world ----------------------------------------------------------------------------

    async def load(self) -> None:
        async with self.uow() as uow:
            self.people = {p.id or 0: p for p in await uow.people.all()}
            self.units = {u.id or 0: u for u in await uow.units.all()}
            for unit_id in self.units:
                self.metrics[unit_id] = list(await uow.metrics.for_unit(unit_id))

    def value_for(self, unit: Unit, metric: Metric, week: str) -> float:
        """A plausible reading: near target, some units drifting off it over the weeks."""
        index = int(week[-2:])
        persona = PERSONAS.get(unit.key, "punctual")
        sign = 1 if metric.direction == "higher" else -1
        noise = self.rng.uniform(-0.6, 0.6) * max(metric.amber, abs(metric.target) * 0.04)
        drift = 0.0
        if persona == "slipping":
            drift = -sign * (index % 10) * max(metric.amber, abs(metric.target) * 0.05) * 0.6
        value = metric.target + sign * max(metric.amber, abs(metric.target) * 0.03) * 0.3 + noise + drift
        if metric.minimum is not None:
            value = max(value, metric.minimum)
        if metric.maximum is not None:
            value = min(value, metric.maximum)
        return round(value) if metric.integer else round(value, 1)

    # --- reacting to what the bot sends ------------------------------------------------------

    async def deliveries(self) -> list[Delivery]:
        async with self.uow() as uow:
            found = list(await uow.deliveries.since(self.seen))
        if found:
            self.seen = max(d.id or 0 for d in found)
        return found

    async def react(self) -> None:
        for delivery in await self.deliveries():
            card = Card.model_validate(delivery.payload)
            to, key = delivery.to, delivery.key
            assert to is not None
            who = f"#{to.channel_name}" if to.person_id is None else self.people[to.person_id].name
            self.say(f"bot → {who}", card.summary, "cyan")
            week = key.week if key else None
            if self.out is not None and week is not None and week not in self.digests_written:
                self.digests_written.add(week)
                await write_digest_files(self.uow, self.clock, week, self.out / week)
            await self.plan_reaction(delivery, card)

    async def plan_reaction(self, delivery: Delivery, card: Card) -> None:
        key = delivery.key
        if key is None:
            return
        buttons = [b for p in card.parts if isinstance(p, Buttons) for b in p.buttons]
        person_id = delivery.to.person_id if delivery.to else None
        now = self.clock.now()
        prompt = key.kind == KeyKind.CHECKIN and key.detail == "prompt"
        if prompt and key.id is not None and person_id is not None:
            await self.plan_answer(person_id, key.id)
        elif key.kind == KeyKind.FOLLOWUP and key.detail == "asked" and person_id is not None:
            button = next(b for b in buttons if b.action == "followup.answer")
            self.later(
                now + dt.timedelta(hours=self.rng.choice([3, 20, 26])),
                "answer",
                lambda: self.answer_followup(person_id, button),
            )
        elif key.kind == KeyKind.ESCALATION and person_id is not None:
            person = self.people[person_id]
            ack = next((b for b in buttons if b.action == "escalation.ack"), None)
            if person.is_leader and ack is not None:
                self.later(now + dt.timedelta(hours=2), "ack", lambda: self.click(person_id, ack))
        elif key.week is not None and person_id is not None and self.people[person_id].is_leader:
            ask = next((b for b in buttons if b.action == "followup.ask"), None)
            week = key.week
            if ask is not None and week not in self.asked_weeks:
                self.asked_weeks.add(week)
                self.later(now + dt.timedelta(hours=1), "ask", lambda: self.ask_about(person_id, ask))

    async def plan_answer(self, person_id: int, checkin_id: int) -> None:
        async with self.uow() as uow:
            checkin = await uow.checkins.get(checkin_id)
        if checkin is None:
            return
        unit = self.units[checkin.unit_id]
        persona = PERSONAS.get(unit.key, "punctual")
        week_number = int(checkin.week[-2:])
        if persona == "erratic" and week_number % 3 == 0:
            return  # never answers this week: the escalation chain takes over
        if persona == "late" or (persona == "erratic" and week_number % 3 == 1):
            when = checkin.deadline_at + dt.timedelta(hours=self.rng.choice([2, 20, 70]))
        else:
            when = self.clock.now() + dt.timedelta(hours=self.rng.choice([1, 3, 5]))
        use_text = persona in ("slipping",) or week_number % 4 == 0
        self.later(when, "answer", lambda: self.answer_checkin(person_id, checkin, use_text))

    def later(self, at: dt.datetime, label: str, action: Action) -> None:
        self.queue.append(Pending(at, label, action))

    # --- simulated people doing things through the bot ---------------------------------------

    async def show(self, who: str, reply: Reply) -> None:
        for message in reply.messages:
            if isinstance(message, Card):
                self.say(f"bot → {who}", message.plain_text(), "green")
            else:
                errors = "; ".join(f"{k}: {v}" for k, v in message.errors.items())
                self.say(
                    f"bot → {who}",
                    f"[form: {message.title}]" + (f" ✗ {errors}" if errors else ""),
                    "yellow" if errors else "green",
                )

    async def answer_checkin(self, person_id: int, checkin: CheckIn, use_text: bool) -> None:
        person, unit = self.people[person_id], self.units[checkin.unit_id]
        values = {m.key: self.value_for(unit, m, checkin.week) for m in self.metrics[unit.id or 0]}
        if use_text:
            text = ", ".join(f"{key} {value:g}" for key, value in values.items())
            self.say(person.name, text, "magenta")
            reply = await self.bot.on_text(person_id, text)
            await self.show(person.name, reply)
            reply_text = "\n".join(m.plain_text() for m in reply.messages if isinstance(m, Card))
            for metric in self.metrics[unit.id or 0]:
                if f"why {metric.key}" in reply_text:
                    reason = self.rng.choice(["two crews out sick", "storm week", "vendor delay"])
                    why = f"why {metric.key}: {reason}"
                    self.say(person.name, why, "magenta")
                    reply = await self.bot.on_text(person_id, why)
                    await self.show(person.name, reply)
            if "confirm" in "\n".join(m.plain_text() for m in reply.messages if isinstance(m, Card)):
                self.say(person.name, "confirm", "magenta")
                await self.show(person.name, await self.bot.on_text(person_id, "confirm"))
            self.count("answered by text")
            return
        reply = await self.bot.on_button(person_id, "checkin.open", {"checkin": str(checkin.id)})
        form = next((m for m in reply.messages if isinstance(m, Form)), None)
        if form is None:
            await self.show(person.name, reply)
            return
        typed = {f"m.{k}": f"{v:g}" for k, v in values.items()}
        first_metric = self.metrics[unit.id or 0][0]
        if PERSONAS.get(unit.key) == "sloppy" and (unit.id or 0, checkin.week) not in self.typos:
            self.typos.add((unit.id or 0, checkin.week))
            typed[f"m.{first_metric.key}"] = self.rng.choice(
                ["4OO", "1,2", "-5", f"{values[first_metric.key] * 10:g}"]
            )
        for _attempt in range(4):
            self.say(
                person.name,
                "[form] " + ", ".join(f"{k[2:]}={v}" for k, v in typed.items() if k.startswith("m.")),
                "magenta",
            )
            reply = await self.bot.on_form(person_id, form.action, form.ids, typed)
            await self.show(person.name, reply)
            form = next((m for m in reply.messages if isinstance(m, Form)), None)
            if form is None:
                self.count("answered by form")
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
                    typed[name] = self.rng.choice(["Storm week: crews reassigned", "Vendor delay on parts"])
                self.count("validation caught")

    async def answer_followup(self, person_id: int, button: Button) -> None:
        person = self.people[person_id]
        reply = await self.bot.on_button(person_id, button.action, button.ids)
        form = next((m for m in reply.messages if isinstance(m, Form)), None)
        if form is None:
            await self.show(person.name, reply)
            return
        answer = self.rng.choice(
            [
                "Two trucks were in the shop; both are back and the backlog clears by Friday.",
                "We shifted a crew from nights; numbers should recover next week.",
                "A vendor missed delivery; we escalated to procurement.",
            ]
        )
        self.say(person.name, f"[answer] {answer}", "magenta")
        await self.show(
            person.name, await self.bot.on_form(person_id, form.action, form.ids, {"answer": answer})
        )
        self.count("follow-ups answered")

    async def click(self, person_id: int, button: Button) -> None:
        person = self.people[person_id]
        self.say(person.name, f"[clicks {button.label}]", "magenta")
        await self.show(person.name, await self.bot.on_button(person_id, button.action, button.ids))
        self.count("leader actions")

    async def ask_about(self, person_id: int, button: Button) -> None:
        person = self.people[person_id]
        self.say(person.name, "[clicks Ask about this]", "magenta")
        reply = await self.bot.on_button(person_id, button.action, button.ids)
        form = next((m for m in reply.messages if isinstance(m, Form)), None)
        if form is None:
            await self.show(person.name, reply)
            return
        values = {i.name: i.value or "" for i in form.inputs}
        await self.show(person.name, await self.bot.on_form(person_id, form.action, form.ids, values))
        self.count("follow-ups asked")

    # --- output files ------------------------------------------------------------------------

    async def write_week_summary(self, week: str) -> None:
        if self.out is None:
            return
        folder = self.out / week
        folder.mkdir(parents=True, exist_ok=True)
        lines = [f"statbot demo — summary of {week}", ""]
        async with self.uow() as uow:
            for unit_id, unit in self.units.items():
                checkin = await uow.checkins.for_unit_week(unit_id, week)
                state = (
                    "not opened" if checkin is None else checkin.state + (" (late)" if checkin.late else "")
                )
                readings = {r.metric_id: r.value for r in await uow.readings.for_unit_week(unit_id, week)}
                values = ", ".join(
                    f"{m.name} {readings[m.id or 0]:g}"
                    for m in self.metrics[unit_id]
                    if (m.id or 0) in readings
                )
                lines.append(f"{unit.name}: {state}" + (f" — {values}" if values else ""))
        (folder / "summary.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")

    # --- the clock ----------------------------------------------------------------------------

    async def tick(self) -> None:
        for sweep in SWEEPS.values():
            await sweep(self.uow, self.clock)
        await drain(self.uow, ConsoleGateway(), self.clock)
        await self.react()

    def plan_absences(self, start: dt.datetime, weeks: int) -> None:
        """A head with a deputy goes away in week 2 (the deputy stands in); a head
        without one in week 3 (the check-in is excused)."""
        zone = ZoneInfo("America/New_York")
        monday = start.astimezone(zone).date()
        for unit in self.units.values():
            week = 1 if unit.deputy_id else 2
            if unit.key not in ("sanitation", "parks") or week >= weeks:
                continue
            first = monday + dt.timedelta(weeks=week)
            text = f"away {first.isoformat()} to {(first + dt.timedelta(days=6)).isoformat()}"
            at = dt.datetime.combine(first - dt.timedelta(days=3), dt.time(10), zone).astimezone(dt.UTC)
            self.later(at, "away", partial(self.type, unit.head_id, text))

    async def type(self, person_id: int, text: str) -> None:
        person = self.people[person_id]
        self.say(person.name, text, "magenta")
        await self.show(person.name, await self.bot.on_text(person_id, text))

    async def run(self, start: dt.datetime, weeks: int) -> None:
        end = start + dt.timedelta(weeks=weeks)
        self.plan_absences(start, weeks)
        zone = ZoneInfo("America/New_York")
        current_week = week_of(start, "America/New_York")
        while self.clock.now() < end:
            due = sorted((p for p in self.queue if p.at <= self.clock.now()), key=lambda p: p.at)
            for pending in due:
                self.queue.remove(pending)
                await pending.action()
            await self.tick()
            # Hourly in the working day; nights and weekends are skipped (reminders and
            # escalations wait for working hours anyway).  The bot's sweeps are
            # idempotent, so the cadence only changes how punctual messages look.
            local = self.clock.now().astimezone(zone) + dt.timedelta(hours=1)
            if local.hour >= 19 or local.hour < 7:
                day = local.date() + dt.timedelta(days=1 if local.hour >= 19 else 0)
                local = dt.datetime.combine(day, dt.time(7), zone)
            while local.weekday() >= 5:
                local = dt.datetime.combine(local.date() + dt.timedelta(days=1), dt.time(7), zone)
            self.clock.set(local.astimezone(dt.UTC))
            week = week_of(self.clock.now(), "America/New_York")
            if week != current_week:
                await self.write_week_summary(current_week)
                current_week = week


async def run_demo(
    uow: UnitOfWorkFactory,
    org_file: str,
    weeks: int,
    out: Path | None,
    console: Console,
    *,
    seed: int = 7,
    today: dt.date | None = None,
) -> dict[str, int]:
    """Simulate ``weeks`` weeks ending around ``today``; returns counts of what happened."""
    org = load_org(org_file)
    zone = ZoneInfo(org.organisation.timezone)
    today = today or dt.datetime.now(zone).date()
    monday = today - dt.timedelta(days=today.weekday(), weeks=weeks)
    start = dt.datetime.combine(monday, dt.time(6, 0), zone).astimezone(dt.UTC)
    clock = FakeClock(start)
    async with uow() as work:
        await apply_org(work, org, now=clock.now())
        await work.commit()
    clock.set(start)
    sim = Simulation(uow, clock, StatBot(uow, clock), console, out, random.Random(seed))
    await sim.load()
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
    await sim.run(start, weeks)
    async with uow() as work:
        steps = 0
        for audience in [*(Delivery.to_person(i) for i in sim.people), Delivery.to_channel("citistat")]:
            steps += sum(
                1
                for d in await work.deliveries.for_audience(audience)
                if d.idempotency_key.startswith("escalation:")
            )
        sim.stats["escalation steps sent"] = steps
    if out is not None:
        (out / "stats.json").write_text(json.dumps(sim.stats, indent=2, sort_keys=True), encoding="utf-8")
    return sim.stats
