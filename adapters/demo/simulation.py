"""The world of `statbot demo`: a fresh database, a moving clock and the real bot.

The simulation moves the clock through working hours, runs every sweep and drains the
outbox each hour, prints the conversation, hands each delivery to the simulated people
(personas.py) to react to, and writes a summary (and each Monday's digest) per week.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from rich.console import Console
from rich.text import Text

from adapters.console.chat import ConsoleGateway
from adapters.demo.sessions import session_lines
from adapters.digest_print import write_digest_files
from bot.clock import FakeClock
from bot.conversation import StatBot
from bot.deliveries.jobs import drain
from bot.deliveries.models import Delivery
from bot.messages import Card, Reply
from bot.org.models import Metric, Person, Unit
from bot.ports import UnitOfWorkFactory
from bot.sweeps import SWEEPS
from bot.weeks import week_of

Action = Callable[[], Awaitable[None]]
Reactor = Callable[[Delivery, Card], Awaitable[None]]


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
    stats: dict[str, int] = field(default_factory=dict)
    digests_written: set[str] = field(default_factory=set)
    # What the simulated people do with each delivery (personas.People.react).
    reactor: Reactor | None = None

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
            if delivery.audience.startswith("channel:"):
                who = "#" + delivery.audience.split(":", 1)[1]
            else:
                who = self.people[int(delivery.audience.split(":")[1])].name
            self.say(f"bot → {who}", card.summary, "cyan")
            if self.out is not None and delivery.idempotency_key.startswith("digest:"):
                week = delivery.idempotency_key.split(":")[1]
                if week not in self.digests_written:
                    self.digests_written.add(week)
                    await write_digest_files(self.uow, self.clock, week, self.out / week)
            if self.reactor is not None:
                await self.reactor(delivery, card)

    def later(self, at: dt.datetime, label: str, action: Action) -> None:
        self.queue.append(Pending(at, label, action))

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
        sessions = await session_lines(self.uow, self, week)
        if sessions:
            lines += ["", *sessions]
        (folder / "summary.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")

    # --- the clock ----------------------------------------------------------------------------

    async def tick(self) -> None:
        for sweep in SWEEPS.values():
            await sweep(self.uow, self.clock)
        await drain(self.uow, ConsoleGateway(), self.clock)
        await self.react()

    async def run(self, start: dt.datetime, weeks: int) -> None:
        end = start + dt.timedelta(weeks=weeks)
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
