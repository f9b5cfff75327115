"""The console adapter: the real bot in a terminal, driven line by line."""

from __future__ import annotations

import io
import re
from collections import deque

import pytest
from rich.console import Console

from adapters.console.chat import ConsoleChat
from bot.clock import FakeClock
from bot.conversation import StatBot
from storage.uow import SqlUnitOfWorkFactory
from tests.helpers import ny


class Script:
    """Feeds typed lines to the chat and records the prompts it showed."""

    def __init__(self, *lines: str) -> None:
        self.lines = deque(lines)
        self.prompts: list[str] = []

    async def __call__(self, prompt: str) -> str:
        self.prompts.append(prompt)
        if not self.lines:
            raise EOFError
        return self.lines.popleft()


@pytest.fixture
def console() -> Console:
    return Console(record=True, width=120, force_terminal=False, color_system=None, file=io.StringIO())


def make_chat(
    org_uow: SqlUnitOfWorkFactory, clock: FakeClock, console: Console, script: Script
) -> ConsoleChat:
    return ConsoleChat(StatBot(org_uow, clock), org_uow, clock, ask=script, console=console, plain=True)


async def test_a_whole_checkin_in_the_console(
    org_uow: SqlUnitOfWorkFactory, clock: FakeClock, console: Console
) -> None:
    clock.set(ny(2026, 12, 3, 8))
    script = Script(
        "/clock thursday 09:30",
        "1",  # the prompt's "Fill in this week's numbers" button
        "lots",  # refused at once; the same field is asked again
        "110",
        "1950",
        "26",
        "92",
        "",  # no new commitment
        "",
        "",
        "status",
        "/quit",
    )
    chat = make_chat(org_uow, clock, console, script)
    await chat.run("robert.hayes@riverton.gov")
    out = console.export_text()
    assert "You are now Robert Hayes" in out
    assert "It is now Thu 03 Dec 2026 09:30 EST." in out
    assert "Weekly check-in · Sanitation · 2026-W49" in out
    assert '✗ "lots" is not a number' in "\n".join(script.prompts)
    assert "Thanks! Recorded Sanitation's numbers for 2026-W49." in out
    assert "Check-in:  submitted on time Thu 03 Dec 09:30 EST" in out
    assert "Bye. Everything you entered is stored." in out


async def test_switching_people_shows_their_deliveries(
    org_uow: SqlUnitOfWorkFactory, clock: FakeClock, console: Console
) -> None:
    clock.set(ny(2026, 12, 3, 9, 30))
    script = Script("/as maria", "away Dec 3", "/as robert.hayes@riverton.gov", "/as nobody", "/who", "/quit")
    chat = make_chat(org_uow, clock, console, script)
    await chat.run(None)
    out = console.export_text()
    assert "You are now Maria Santos" in out
    assert "Noted: you are away Thu 03 Dec – Thu 03 Dec." in out
    assert "No single person matches 'nobody'" in out
    assert "robert.hayes@riverton.gov" in out and "head of sanitation" in out


async def test_console_refuses_bad_input_clearly(
    org_uow: SqlUnitOfWorkFactory, clock: FakeClock, console: Console
) -> None:
    script = Script("help", "/as robert", "/clock someday", "7", "/clock +2d", "/quit")
    chat = make_chat(org_uow, clock, console, script)
    await chat.run(None)
    out = console.export_text()
    assert "Choose who you are first" in out
    assert "I can't read 'someday'" in out
    assert "It is now" in out


async def test_cancel_keeps_nothing_half_submitted(
    org_uow: SqlUnitOfWorkFactory, clock: FakeClock, console: Console
) -> None:
    clock.set(ny(2026, 12, 3, 9, 30))
    script = Script("report", "110", "/cancel", "/quit")
    chat = make_chat(org_uow, clock, console, script)
    await chat.run("robert.hayes@riverton.gov")
    assert "Form closed; nothing was submitted." in console.export_text()
    async with org_uow() as uow:
        unit = await uow.units.by_key("sanitation")
        assert unit is not None and unit.id is not None
        assert await uow.readings.for_unit_week(unit.id, "2026-W49") == []


async def test_becoming_someone_shows_what_reached_them(
    org_uow: SqlUnitOfWorkFactory, clock: FakeClock, console: Console
) -> None:
    clock.set(ny(2026, 12, 3, 8))
    script = Script(
        "/clock thursday 09:30",  # the check-in opens; Robert never answers
        *["/clock +1d"] * 6,  # a day at a time: reminders, then the chain climbs
        "/as luis.ortega@riverton.gov",  # the leader sees what reached him meanwhile
        "/quit",
    )
    chat = make_chat(org_uow, clock, console, script)
    await chat.run("robert.hayes@riverton.gov")
    out = console.export_text()
    after_switch = out.split("You are now Luis Ortega")[1]
    assert "Needs attention" in after_switch
    assert re.search(r"\[\d+\] Acknowledge", after_switch)


async def test_buttons_survive_a_card_without_buttons(
    org_uow: SqlUnitOfWorkFactory, clock: FakeClock, console: Console
) -> None:
    clock.set(ny(2026, 12, 3, 8))
    script = Script("/clock thursday 09:30", "help", "1", "/cancel", "/quit")
    chat = make_chat(org_uow, clock, console, script)
    await chat.run("robert.hayes@riverton.gov")
    # "help" answered with a card without buttons; "1" still clicks the prompt's button.
    assert "[clicked Fill in this week's numbers]" in console.export_text()
