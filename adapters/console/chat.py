"""`statbot chat`: the real bot in a terminal.

You act as any person of the org (`/as`), move the clock (`/clock`), fill forms field by
field with the bot's own validation, and see the messages the bot delivers to whoever
you are.  After every line the sweeps run once, as the scheduler would.  While the
database is out of reach a line gets the bot's "try again" words and the session goes on.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Awaitable, Callable
from typing import Protocol
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
from bot.cards import UNREADABLE, UNREADABLE_FIELD, database_unavailable, is_database_unavailable
from bot.checkins.forms import SUBMIT, why_input
from bot.checkins.status import format_value, metric_status, target_text
from bot.clock import FakeClock
from bot.commands import CommandError, parse_command
from bot.conversation import StatBot
from bot.deliveries.models import Audience, Delivery, DeliveryState
from bot.messages import Button, Card, ChoiceInput, Form, Input, NumberInput, Reply, TextInput
from bot.messages.text import format_number, only_nul, without_nul
from bot.org.models import Metric, Person
from bot.org.schema import LeadershipChannel
from bot.parsing import parse_number
from bot.ports import DatabaseUnavailable, DeliveryError, UnitOfWorkFactory
from bot.sweeps import run_all

Ask = Callable[[str], Awaitable[str]]


class ClockStore(Protocol):
    """Where the console keeps its moved clock, so the next session continues from it."""

    async def load(self) -> dt.datetime | None: ...

    async def save(self, now: dt.datetime) -> None: ...


CONSOLE_HELP = """\
Console commands (everything else goes to the bot, as a DM would):
  /as EMAIL        act as someone else (a name or the start of an email works too)
  /who             list the people of the org
  /clock           show the bot's time;  /clock +2d  /clock +3h  /clock monday 08:00
                   /clock 2026-12-03T09:00  (your time zone unless the time has one)
  /tick            run the sweeps now (they also run after every line)
  1, 2, …          click the button with that number (every card's buttons stay
                   numbered for the whole session);  /click N does the same
  /cancel          (inside a form) stop filling it in; a command typed in a form
                   (/clock, /as, help, away …) closes the form first, then runs
  /quit            leave
Anything after "  # " on a line is a comment and is not sent.
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
        clock_store: ClockStore | None = None,
    ) -> None:
        self.bot = bot
        self.uow = uow
        self.clock = clock
        self.ask = ask
        self.console = console or Console(highlight=False)
        self.plain = plain
        self.gateway = ConsoleGateway()
        self.person: Person | None = None
        self.clock_store = clock_store
        # Every button shown this session, by its number on screen, with whom it was shown to.
        self.buttons: dict[int, tuple[Button, int]] = {}
        self.next_button = 1
        self.seen: dict[str, int] = {}
        # Deliveries older than the session are history, not news.
        self.session_start = 0
        # Lines typed inside a form that turned out to be commands, run after it closes.
        self.pending: list[str] = []
        # Whether the line being handled has already said the database is out of reach.
        self.outage_said = False

    # --- output ------------------------------------------------------------------------------

    def say(self, text: str, style: str = "") -> None:
        self.console.print(Text(text, style=style))

    def show_card(self, card: Card, source: str = "bot") -> None:
        # Buttons are numbered for the whole session, so an earlier card (an escalation
        # above the digest) stays clickable after later cards arrive.
        first = self.next_button
        for button in buttons_of(card):
            self.buttons[self.next_button] = (button, (self.person.id or 0) if self.person else 0)
            self.next_button += 1
        if self.plain:
            self.say(f"{source}:")
            self.say(render_card(card, first_button=first))
        else:
            self.say(f"{source}:", "dim")
            self.console.print(render_card_rich(card, first_button=first))

    async def show_reply(self, reply: Reply) -> None:
        self.outage_said = self.outage_said or is_database_unavailable(reply)
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
            step = sign * dt.timedelta(**{unit: int(relative.group(2))})
            if step < dt.timedelta(0):
                return "The bot's clock only moves forward: what happened stays stored."
            self.clock.advance(step)
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
        if instant.astimezone(dt.UTC) < self.clock.now():
            return "The bot's clock only moves forward: what happened stays stored."
        self.clock.set(instant.astimezone(dt.UTC))
        return None

    async def save_clock(self) -> None:
        if self.clock_store is not None:
            await self.clock_store.save(self.clock.now())

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

    async def handle_safely(self, line: str) -> bool:
        """``handle``, surviving a database outage: the line (or the sweeps after it) gets
        the bot's "try again" words, once, and the session goes on."""
        self.outage_said = False
        try:
            return await self.handle(line)
        except DatabaseUnavailable:
            if not self.outage_said:
                await self.show_reply(database_unavailable())
            return True

    async def handle(self, line: str) -> bool:
        """One line typed by the user; False means quit."""
        # NUL characters are stripped (PostgreSQL refuses them); a line of nothing else
        # is said to be unreadable rather than read as empty.
        unreadable = only_nul(line)
        line = strip_comment(without_nul(line))
        if not line and not unreadable:
            return True
        if line in ("/quit", "/exit", "/q"):
            return False
        if unreadable:
            self.say(UNREADABLE, "red")
        elif line == "/help":
            self.say(CONSOLE_HELP)
        elif line == "/who":
            await self.who()
        elif _is(line, "/as"):
            await self.become(line[3:].strip())
        elif _is(line, "/clock"):
            error = self.move_clock(line[6:])
            if error:
                self.say(error, "red")
            else:
                await self.save_clock()
                self.say(f"It is now {self.now_text()}.", "cyan")
        elif line == "/tick":
            pass
        elif line == "/cancel":
            self.say("There is no form open to cancel.", "yellow")
        elif line.startswith("/") and not _is(line, "/click") and not _is(line, "/stat"):
            self.say(f"{line.split()[0]} is not a console command; /help lists them.", "red")
        elif self.person is None:
            self.say("Choose who you are first: /as EMAIL (/who lists everyone).", "red")
        elif (number := _button_number(line)) is not None:
            await self.click(number)
        elif _is(line, "/click"):
            self.say("Which button? /click 3 clicks button [3].", "red")
        else:
            await self.show_reply(await self.bot.on_text(self.person.id or 0, line))
        await self.tick()
        return True

    async def click(self, number: int) -> None:
        assert self.person is not None
        shown = self.buttons.get(number)
        if shown is None:
            self.say(f"There is no button {number}.", "red")
            return
        button, shown_to = shown
        if shown_to != (self.person.id or 0):
            self.say(
                f"Button [{number}] was shown to someone else: /as them to click it.",
                "red",
            )
            return
        self.say(f"[clicked {button.label}]", "dim")
        await self.show_reply(await self.bot.on_button(self.person.id or 0, button.action, button.ids))

    async def fill(self, form: Form) -> None:
        """Ask the form's fields one by one, submit, and repeat while it comes back with errors."""
        assert self.person is not None
        values = {i.name: i.value or "" for i in form.inputs}
        to_ask = list(form.inputs)
        targets = await self.form_metrics(form)
        while True:
            self.say(render_form_intro(form))
            if not form.errors:
                self.say("(Enter keeps the value in [brackets]; /cancel stops.)", "dim")
                # A check-in's "why" is asked only for a value off target, right after it.
                to_ask = [i for i in to_ask if not i.name.startswith("why.")]
            whys = {i.name: i for i in form.inputs if i.name.startswith("why.")}
            for inp in to_ask:
                answer = await self.ask_field(inp, form.errors.get(inp.name))
                if answer is None:
                    return
                if answer:
                    values[inp.name] = _choice(inp, answer)
                key = inp.name.removeprefix("m.")
                if not inp.name.startswith("m.") or key not in targets:
                    continue
                # The form asks why only for a value already red; one typed red now is asked here.
                why = whys.get(f"why.{key}") or why_input(targets[key])
                if why in to_ask:
                    continue
                reason = _off_target(targets[key], values.get(inp.name, ""))
                if reason is None:
                    continue
                answer = await self.ask_field(why, reason)
                if answer is None:
                    return
                if answer:
                    values[why.name] = answer
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

    async def ask_field(self, inp: Input, error: str | None) -> str | None:
        """One field's answer ("" keeps its value), checked as typed; None when a command
        or /cancel closed the form instead."""
        while True:
            typed = await self.ask(render_input_prompt(inp, error) + "\n> ")
            if only_nul(typed):
                # Asked again with the reason; what the other fields hold is kept.
                error = UNREADABLE_FIELD
                continue
            answer = strip_comment(without_nul(typed))
            error = _refused(inp, answer) if answer and not self.is_command(answer, inp) else None
            if error is None:
                break
        if answer == "/cancel":
            self.say("Form closed; nothing was submitted. `report` opens it again.", "yellow")
            return None
        if self.is_command(answer, inp):
            # A command is never taken for a value: leave the form, then run it.
            self.say(f"Form closed to run {answer.split()[0]}; nothing was submitted.", "yellow")
            self.pending.append(answer)
            return None
        return answer

    async def form_metrics(self, form: Form) -> dict[str, Metric]:
        """The metrics of the unit a check-in form is about, by key (empty for other forms)."""
        keys = {i.name.removeprefix("m.") for i in form.inputs if i.name.startswith("m.")}
        if form.action != SUBMIT or not keys:
            return {}
        async with self.uow() as uow:
            for unit in await uow.units.all():
                if unit.id is None or not form.title.startswith(unit.name[:50]):
                    continue
                metrics = {m.key: m for m in await uow.metrics.for_unit(unit.id)}
                if keys <= metrics.keys():
                    return metrics
        return {}

    def is_command(self, answer: str, inp: Input | None = None) -> bool:
        """A console command, or one of the bot's own words with its arguments.  In a free
        text field only a bare word counts ("help"): "Help from Streets came late" is text."""
        if answer.startswith("/"):
            return True
        if self.person is None or not answer:
            return False
        if isinstance(inp, TextInput) and len(answer.split()) > 1:
            return False
        today = self.clock.now().astimezone(ZoneInfo(self.person.timezone)).date()
        try:
            return parse_command(answer, today=today) is not None
        except CommandError:
            return False

    async def run(self, start_as: str | None) -> None:
        if self.clock_store is not None:
            kept = await self.clock_store.load()
            if kept is not None and kept > self.clock.now():
                # The bot's clock of this database: continue where the last session stopped.
                self.clock.set(kept)
            await self.save_clock()
        async with self.uow() as uow:
            self.session_start = await uow.deliveries.last_id()
        self.say(f"statbot console — it is {self.now_text()}. /help for console commands.", "bold")
        # Both run the sweeps once, as after every line.
        await self.handle_safely(f"/as {start_as}" if start_as else "/tick")
        while True:
            try:
                who = self.person.name if self.person else "nobody"
                line = await self.ask(f"[{who}] > ")
            except (EOFError, KeyboardInterrupt):
                break
            if not await self.handle_safely(line):
                break
            while self.pending:
                if not await self.handle_safely(self.pending.pop(0)):
                    self.pending.clear()
                    self.say("Bye. Everything you entered is stored.")
                    return
        self.say("Bye. Everything you entered is stored.")


def strip_comment(line: str) -> str:
    """The line without a trailing comment: "#" after whitespace and before a space (so
    "done #3" keeps its number), or a line that starts with "# "."""
    line = line.strip()
    if line.startswith("# ") or line == "#":
        return ""
    return re.sub(r"\s+#(\s.*)?$", "", line).strip()


def _is(line: str, command: str) -> bool:
    return line == command or line.startswith(command + " ")


def _button_number(line: str) -> int | None:
    word = line.removeprefix("/click").strip() if _is(line, "/click") else line
    return int(word) if word.isdigit() and len(word) < 6 else None


def _off_target(metric: Metric, typed: str) -> str | None:
    """Why the value needs a word of explanation (it misses the target band), or None."""
    try:
        number = parse_number(typed, integer=metric.integer)
    except ValueError:
        return None
    if metric_status(metric, number) != "red":
        return None
    return f"{format_value(metric, number)} misses the target ({target_text(metric)}): say why in a sentence."


def _refused(inp: Input, answer: str) -> str | None:
    """Why a typed number cannot be the field's value, checked as soon as it is typed."""
    if not isinstance(inp, NumberInput):
        return None
    try:
        number = parse_number(answer, integer=inp.integer)
    except ValueError as exc:
        return str(exc)
    if (inp.minimum is not None and number < inp.minimum) or (
        inp.maximum is not None and number > inp.maximum
    ):
        low = "" if inp.minimum is None else format_number(inp.minimum)
        high = "" if inp.maximum is None else format_number(inp.maximum)
        allowed = f"{low} to {high}" if low and high else f"at least {low}" if low else f"at most {high}"
        return f"{format_number(number)} is outside the valid range ({allowed})."
    return None


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
