"""`statbot chat`: the real bot in a terminal.

You act as any person of the org (`/as`), move the clock (`/clock`), fill forms field by
field with the bot's own validation, and see the messages the bot delivers to whoever
you are.  After every line the sweeps run once, as the scheduler would.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Awaitable, Callable
from zoneinfo import ZoneInfo

from rich.console import Console
from rich.text import Text

from adapters.console.render import (
    buttons_of,
    render_card,
    render_card_rich,
    render_form_intro,
    render_input_prompt,
)
from bot.clock import FakeClock
from bot.conversation import StatBot
from bot.deliveries.models import Audience, Delivery, DeliveryState
from bot.messages import Button, Card, ChoiceInput, Form, Reply
from bot.org.models import Person
from bot.org.schema import LeadershipChannel
from bot.ports import DeliveryError, UnitOfWorkFactory
from bot.sweeps import run_all

Ask = Callable[[str], Awaitable[str]]

CONSOLE_HELP = """\
Console commands (everything else goes to the bot, as a DM would):
  /as EMAIL        act as someone else (a name or the start of an email works too)
  /who             list the people of the org
  /clock           show the bot's time;  /clock +2d  /clock +3h  /clock monday 08:00
                   /clock 2026-12-03T09:00  (your time zone unless the time has one)
  /tick            run the sweeps now (they also run after every line)
  1, 2, …          click that button of the last card
  /cancel          (inside a form) stop filling it in
  /quit            leave
The bot's own words: help, report, status, commitments, overdue, commit …, done …,
update …, away …, digest, ask …"""

_WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


class ConsoleGateway:
    """Deliveries "sent" to the console are shown when their addressee is at the keyboard."""

    async def send(self, delivery: Delivery) -> str | None:
        if Audience.parse(delivery.audience) is None:
            raise DeliveryError(f"unknown audience {delivery.audience}", permanent=True)
        return "console"


class ConsoleChat:
    def __init__(
        self,
        bot: StatBot,
        uow: UnitOfWorkFactory,
        clock: FakeClock,
        *,
        ask: Ask,
        console: Console | None = None,
        plain: bool = False,
    ) -> None:
        self.bot = bot
        self.uow = uow
        self.clock = clock
        self.ask = ask
        self.console = console or Console(highlight=False)
        self.plain = plain
        self.gateway = ConsoleGateway()
        self.person: Person | None = None
        self.buttons: list[Button] = []
        self.seen: dict[str, int] = {}
        # Deliveries older than the session are history, not news.
        self.session_start = 0

    # --- output ------------------------------------------------------------------------------

    def say(self, text: str, style: str = "") -> None:
        self.console.print(Text(text, style=style))

    def show_card(self, card: Card, source: str = "bot") -> None:
        # Numbers click the buttons of the latest card that has any: a card without
        # buttons shown after it (e.g. the end of a digest) must not take them away.
        self.buttons = buttons_of(card) or self.buttons
        if self.plain:
            self.say(f"{source}:")
            self.say(render_card(card))
        else:
            self.say(f"{source}:", "dim")
            self.console.print(render_card_rich(card))

    async def show_reply(self, reply: Reply) -> None:
        for message in reply.messages:
            if isinstance(message, Card):
                self.show_card(message)
            else:
                await self.fill(message)

    # --- people and time ---------------------------------------------------------------------

    async def become(self, who: str) -> bool:
        wanted = who.strip().lower().lstrip("@")
        async with self.uow() as uow:
            people = await uow.people.all()
        matches = [p for p in people if p.email == wanted]
        if not matches:
            matches = [p for p in people if p.email.startswith(wanted) or wanted in p.name.lower()]
        if len(matches) != 1:
            options = ", ".join(p.email for p in matches[:8]) or "nobody"
            self.say(f"No single person matches {who!r} ({options}). /who lists everyone.", "red")
            return False
        self.person = matches[0]
        self.buttons = []
        roles = f" ({', '.join(self.person.roles)})" if self.person.roles else ""
        self.say(f"You are now {self.person.name} <{self.person.email}>{roles}.", "bold")
        # What reached this person since the session started and they have not seen yet
        # (e.g. an escalation while you were someone else): shown now, buttons and all.
        await self.show_deliveries()
        return True

    async def who(self) -> None:
        async with self.uow() as uow:
            people = await uow.people.all()
            units = await uow.units.all()
        for p in people:
            jobs = [f"head of {u.key}" for u in units if u.head_id == p.id]
            jobs += [f"deputy of {u.key}" for u in units if u.deputy_id == p.id]
            jobs += [f"leader of {u.key}" for u in units if u.leader_id == p.id]
            extra = ", ".join([*p.roles, *jobs])
            self.say(f"  {p.email:<34} {p.name}" + (f" — {extra}" if extra else ""))

    def now_text(self) -> str:
        zone = self.person.timezone if self.person else "UTC"
        return self.clock.now().astimezone(ZoneInfo(zone)).strftime("%a %d %b %Y %H:%M %Z")

    def move_clock(self, arg: str) -> str | None:
        """Move the clock; returns an error message or None."""
        zone = ZoneInfo(self.person.timezone if self.person else "UTC")
        arg = arg.strip().lower()
        if not arg:
            return None
        relative = re.fullmatch(r"([+-])\s*(\d+)\s*([mhdw])", arg)
        if relative:
            sign = 1 if relative.group(1) == "+" else -1
            unit = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}[relative.group(3)]
            self.clock.advance(sign * dt.timedelta(**{unit: int(relative.group(2))}))
            return None
        named = re.fullmatch(r"(next\s+)?([a-z]+)(?:\s+(\d{1,2}):(\d{2}))?", arg)
        if named and named.group(2)[:3] in [d[:3] for d in _WEEKDAYS]:
            weekday = [d[:3] for d in _WEEKDAYS].index(named.group(2)[:3])
            local = self.clock.now().astimezone(zone)
            hour, minute = int(named.group(3) or 9), int(named.group(4) or 0)
            days = (weekday - local.weekday()) % 7
            target = dt.datetime.combine(local.date() + dt.timedelta(days=days), dt.time(hour, minute), zone)
            if target <= local:
                target = dt.datetime.combine(
                    target.date() + dt.timedelta(days=7), dt.time(hour, minute), zone
                )
            self.clock.set(target.astimezone(dt.UTC))
            return None
        try:
            instant = dt.datetime.fromisoformat(arg.upper())
        except ValueError:
            return f"I can't read {arg!r}: try /clock +2d, /clock monday 08:00 or /clock 2026-12-03T09:00"
        if instant.tzinfo is None:
            instant = instant.replace(tzinfo=zone)
        self.clock.set(instant.astimezone(dt.UTC))
        return None

    # --- the loop ----------------------------------------------------------------------------

    async def tick(self) -> None:
        await run_all(self.uow, self.clock, self.gateway)
        await self.show_deliveries()

    async def show_deliveries(self) -> None:
        if self.person is None:
            return
        audiences = [Delivery.to_person(self.person.id or 0)]
        async with self.uow() as uow:
            settings = await uow.org.settings()
            named = (settings.options.get("leadership_channel") if settings else None) or None
            channel = LeadershipChannel.model_validate(named) if named else None
            if channel and self.person.is_leader:
                audiences.extend(channel.audiences())
            for audience in audiences:
                new = [
                    d
                    for d in await uow.deliveries.for_audience(
                        audience, since_id=self.seen.get(audience, self.session_start)
                    )
                    if d.state == DeliveryState.SENT
                ]
                if new:
                    self.seen[audience] = max(d.id or 0 for d in new)
                for delivery in new:
                    dm = audience.startswith("person:")
                    where = "bot (DM)" if dm else f"bot in #{_channel_name(audience)}"
                    message = delivery.payload
                    if message.get("kind") == "card":
                        self.show_card(Card.model_validate(message), where)

    async def handle(self, line: str) -> bool:
        """One line typed by the user; False means quit."""
        line = line.strip()
        if not line:
            return True
        if line in ("/quit", "/exit", "/q"):
            return False
        if line == "/help":
            self.say(CONSOLE_HELP)
        elif line == "/who":
            await self.who()
        elif line.startswith("/as"):
            await self.become(line[3:].strip())
        elif line.startswith("/clock"):
            error = self.move_clock(line[6:])
            if error:
                self.say(error, "red")
            else:
                self.say(f"It is now {self.now_text()}.", "cyan")
        elif line == "/tick":
            pass
        elif self.person is None:
            self.say("Choose who you are first: /as EMAIL (/who lists everyone).", "red")
        elif line.isdigit() and self.buttons:
            index = int(line) - 1
            if 0 <= index < len(self.buttons):
                button = self.buttons[index]
                self.say(f"[clicked {button.label}]", "dim")
                await self.show_reply(
                    await self.bot.on_button(self.person.id or 0, button.action, button.ids)
                )
            else:
                self.say(f"There is no button {line}.", "red")
        else:
            await self.show_reply(await self.bot.on_text(self.person.id or 0, line))
        await self.tick()
        return True

    async def fill(self, form: Form) -> None:
        """Ask the form's fields one by one, submit, and repeat while it comes back with errors."""
        assert self.person is not None
        values = {i.name: i.value or "" for i in form.inputs}
        to_ask = list(form.inputs)
        while True:
            self.say(render_form_intro(form))
            if not form.errors:
                self.say("(Enter keeps the value in [brackets]; /cancel stops.)", "dim")
            for inp in to_ask:
                answer = await self.ask(render_input_prompt(inp, form.errors.get(inp.name)) + "\n> ")
                if answer.strip() == "/cancel":
                    self.say("Form closed; nothing was submitted. `report` opens it again.", "yellow")
                    return
                if answer.strip():
                    values[inp.name] = _choice(inp, answer.strip())
            reply = await self.bot.on_form(self.person.id or 0, form.action, form.ids, values)
            forms = [m for m in reply.messages if isinstance(m, Form)]
            for message in reply.messages:
                if isinstance(message, Card):
                    self.show_card(message)
            if not forms:
                return
            form = forms[0]
            values = {i.name: i.value or "" for i in form.inputs}
            # Back with errors: ask only what needs fixing.  A new form: ask all of it.
            to_ask = [i for i in form.inputs if i.name in form.errors] or list(form.inputs)

    async def run(self, start_as: str | None) -> None:
        async with self.uow() as uow:
            self.session_start = await uow.deliveries.last_id()
        self.say(f"statbot console — it is {self.now_text()}. /help for console commands.", "bold")
        if start_as:
            await self.become(start_as)
        await self.tick()
        while True:
            try:
                who = self.person.name if self.person else "nobody"
                line = await self.ask(f"[{who}] > ")
            except (EOFError, KeyboardInterrupt):
                break
            if not await self.handle(line):
                break
        self.say("Bye. Everything you entered is stored.")


def _choice(inp: object, answer: str) -> str:
    if isinstance(inp, ChoiceInput):
        if answer.isdigit() and 1 <= int(answer) <= len(inp.options):
            return inp.options[int(answer) - 1].value
        for option in inp.options:
            if answer.lower() in (option.value.lower(), option.label.lower()):
                return option.value
    return answer


def _channel_name(audience: str) -> str:
    found = Delivery.channel_of(audience)
    return found[1] if found else audience
