"""The console as a newcomer's first place to try the bot: buttons, the README's block,
the clock kept per database, and forms that never eat a command."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from rich.console import Console

from adapters.console.chat import ConsoleChat, strip_comment
from bot.clock import FakeClock
from bot.conversation import StatBot
from storage.console_clock import ConsoleClockStore
from storage.uow import SqlUnitOfWorkFactory
from tests.helpers import ny
from tests.test_console import Script

README = Path(__file__).resolve().parent.parent / "README.md"


@pytest.fixture
def console() -> Console:
    return Console(record=True, width=120, force_terminal=False, color_system=None, file=io.StringIO())


def make_chat(
    uow: SqlUnitOfWorkFactory, clock: FakeClock, console: Console, script: Script, **kw: object
) -> ConsoleChat:
    return ConsoleChat(StatBot(uow, clock), uow, clock, ask=script, console=console, plain=True, **kw)  # type: ignore[arg-type]


def number_of(out: str, label: str, occurrence: int = 0) -> str:
    found = re.findall(r"\[(\d+)\] " + re.escape(label), out)
    assert len(found) > occurrence, (label, out[-3000:])
    return found[occurrence]


class Interactive(Script):
    """A script whose next line may depend on what the console has shown so far."""

    def __init__(self, console: Console, *steps: object) -> None:
        super().__init__()
        self.console = console
        self.steps = list(steps)

    async def __call__(self, prompt: str) -> str:
        self.prompts.append(prompt)
        if not self.steps:
            raise EOFError
        step = self.steps.pop(0)
        if callable(step):
            return str(step(self.console.export_text(clear=False)))
        return str(step)


# --- 10: every card's buttons stay reachable ----------------------------------------------


async def test_an_earlier_cards_button_stays_clickable(
    org_uow: SqlUnitOfWorkFactory, clock: FakeClock, console: Console
) -> None:
    """After the Monday digest (many cards with buttons), the escalation card shown before
    it can still be acknowledged, and the digest's "Ask about #1" asks about #1."""
    clock.set(ny(2026, 12, 3, 8))
    script = Interactive(
        console,
        "commit Replace truck 12 by Friday",
        "/as luis.ortega@riverton.gov",
        "/clock monday 09:00",  # the digest: escalations, promised vs delivered, …
        lambda out: f"/click {number_of(out, 'Ask about #1')}",
        "",  # keep the suggested question
        "",  # and the suggested date
        # The first "Acknowledge" shown: on a card that many later cards followed.
        lambda out: number_of(out, "Acknowledge"),
        "/quit",
    )
    chat = make_chat(org_uow, clock, console, script)
    await chat.run("robert.hayes@riverton.gov")
    out = console.export_text()
    assert "[clicked Ask about #1]" in out
    assert "There is no unit" not in out
    assert re.search(r"Asked Robert Hayes \(Sanitation\), answer due .*Where does #1", out)
    assert "[clicked Acknowledge]" in out
    after = out.split("[clicked Acknowledge]")[1]
    assert "acknowledged" in after.lower()
    # Numbers are never reused within a session: the last button has the largest number.
    numbers = [int(n) for n in re.findall(r"\[(\d+)\] ", out)]
    assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers)


async def test_a_button_shown_to_someone_else_is_not_clicked_as_you(
    org_uow: SqlUnitOfWorkFactory, clock: FakeClock, console: Console
) -> None:
    clock.set(ny(2026, 12, 3, 8))
    script = Script("/clock thursday 09:30", "/as luis.ortega@riverton.gov", "1", "/click 999", "/quit")
    chat = make_chat(org_uow, clock, console, script)
    await chat.run("robert.hayes@riverton.gov")
    out = console.export_text()
    assert "Button [1] was shown to someone else" in out
    assert "There is no button 999." in out
    assert "[clicked" not in out


# --- 11: the README's block pastes as is; the clock is kept per database ------------------


def first_look_lines() -> list[str]:
    text = README.read_text()
    section = text.split("## A first look", 1)[1].split("\n## ", 1)[0]
    block = section.split("```", 2)[1]
    return [line for line in block.splitlines() if line.strip()]


def test_comments_are_not_sent() -> None:
    assert strip_comment("/clock thursday 09:30      # move the bot's clock") == "/clock thursday 09:30"
    assert strip_comment("# a whole comment line") == ""
    assert strip_comment("done #3") == "done #3"
    assert strip_comment("update 3 see ticket #12 for details") == "update 3 see ticket #12 for details"


async def test_the_readme_first_look_block_pastes_as_is(
    org_uow: SqlUnitOfWorkFactory, clock: FakeClock, console: Console
) -> None:
    lines = first_look_lines()
    assert not any(strip_comment(line) in ("...", "…") for line in lines), "a placeholder line"
    clock.set(ny(2026, 12, 3, 8))
    script = Script(*lines, "/quit")
    chat = make_chat(org_uow, clock, console, script)
    await chat.run("robert.hayes@riverton.gov")
    out = console.export_text()
    assert "#" not in "".join(p for p in script.prompts if "] > " in p)
    assert "Thanks! Recorded Sanitation's numbers" in out, out[-4000:]
    assert "I did not understand" not in out
    assert "not a console command" not in out
    assert "Commitment #1 for Sanitation: Replace truck 12" in out
    assert "Asked Robert Hayes (Sanitation)" in out
    assert "Needs attention" in out or "Escalation" in out
    assert "Something went wrong" not in out


async def test_a_second_session_continues_the_clock_of_the_first(
    org_uow: SqlUnitOfWorkFactory, clock: FakeClock, console: Console, engine: object
) -> None:
    from storage.engine import Engine

    assert isinstance(engine, Engine)
    store = ConsoleClockStore(engine)
    clock.set(ny(2026, 12, 3, 8))
    first = make_chat(org_uow, clock, console, Script("/clock +5d", "/quit"), clock_store=store)
    await first.run("robert.hayes@riverton.gov")
    assert clock.now() == ny(2026, 12, 8, 8)

    # The next `make run` starts a fresh process whose clock says "now" again.
    later = FakeClock(ny(2026, 12, 3, 9))
    second_console = Console(record=True, width=120, color_system=None, file=io.StringIO())
    second = make_chat(org_uow, later, second_console, Script("/quit"), clock_store=store)
    await second.run("robert.hayes@riverton.gov")
    assert later.now() == ny(2026, 12, 8, 8)
    assert "it is Tue 08 Dec 2026" in second_console.export_text()
    # Moving it back would mix weeks: refused.
    assert second.move_clock("2026-12-01T09:00") is not None
    assert later.now() == ny(2026, 12, 8, 8)


# --- 12: the check-in form in the console -------------------------------------------------


async def test_a_bad_number_is_refused_when_typed_and_never_becomes_the_default(
    org_uow: SqlUnitOfWorkFactory, clock: FakeClock, console: Console
) -> None:
    clock.set(ny(2026, 12, 3, 9, 30))
    script = Script("report", "lots", "-5", "12,5", "110", "/cancel", "/quit")
    chat = make_chat(org_uow, clock, console, script)
    await chat.run("robert.hayes@riverton.gov")
    asked = [p for p in script.prompts if p.startswith(("✗", "Missed pickups reported"))]
    assert len(asked) == 4, asked  # the same field, until 110
    assert '"lots" is not a number' in asked[1]
    assert "-5" in asked[2] and "✗" in asked[2]
    assert "12,5" in asked[3] and "✗" in asked[3]
    assert not any(f"[{bad}]" in p for p in script.prompts for bad in ("lots", "-5", "12,5"))
    assert "Tons of refuse collected" in script.prompts[5]


async def test_why_is_asked_only_for_a_red_value_right_after_it(
    org_uow: SqlUnitOfWorkFactory, clock: FakeClock, console: Console
) -> None:
    clock.set(ny(2026, 12, 3, 9, 30))
    note = "Help from Streets came late"  # begins with a command word, yet it is the answer
    script = Script("report", "250", note, "1950", "26", "92", "", "", "", "/quit")
    chat = make_chat(org_uow, clock, console, script)
    await chat.run("robert.hayes@riverton.gov")
    whys = [i for i, p in enumerate(script.prompts) if "Why" in p]
    assert len(whys) == 1, script.prompts
    why = script.prompts[whys[0]]
    assert script.prompts[whys[0] - 1].startswith("Missed pickups reported to 311")
    assert "250 misses the target (≤ 120)" in why and "Enter to skip" not in why
    out = console.export_text()
    assert "Thanks! Recorded Sanitation's numbers" in out
    async with org_uow() as uow:
        unit = await uow.units.by_key("sanitation")
        assert unit is not None and unit.id is not None
        notes = [r.note for r in await uow.readings.for_unit_week(unit.id, "2026-W49") if r.note]
    assert notes == [note]


async def test_commands_typed_in_a_form_are_run_not_stored(
    org_uow: SqlUnitOfWorkFactory, clock: FakeClock, console: Console
) -> None:
    clock.set(ny(2026, 12, 3, 9, 30))
    script = Script(
        "report", "/clock +1h", "report", "help", "report", "110", "away Dec 10", "/cancel", "/quit"
    )
    chat = make_chat(org_uow, clock, console, script)
    await chat.run("robert.hayes@riverton.gov")
    out = console.export_text()
    assert "Form closed to run /clock" in out and "It is now Thu 03 Dec 2026 10:30 EST." in out
    assert "Form closed to run help" in out
    assert "Form closed to run away" in out and "Noted: you are away" in out
    assert "There is no form open to cancel." in out
    async with org_uow() as uow:
        unit = await uow.units.by_key("sanitation")
        assert unit is not None and unit.id is not None
        assert await uow.readings.for_unit_week(unit.id, "2026-W49") == []


async def test_reversed_away_dates_get_a_clear_error_while_a_checkin_is_open(
    org_uow: SqlUnitOfWorkFactory, clock: FakeClock, console: Console
) -> None:
    clock.set(ny(2026, 12, 3, 9, 30))
    script = Script("away Dec 10 Dec 8", "/cancel", "/quit")
    chat = make_chat(org_uow, clock, console, script)
    await chat.run("robert.hayes@riverton.gov")
    out = console.export_text()
    assert "is before the start" in out, out[-2000:]
    assert "There is no form open to cancel." in out


# --- stat sessions in the console ----------------------------------------------------------


async def test_a_stat_session_from_list_to_memo_in_the_console(
    org_uow: SqlUnitOfWorkFactory, clock: FakeClock, console: Console
) -> None:
    from bot.sessions.jobs import plan_sessions

    await plan_sessions(org_uow, clock)
    script = Interactive(
        console,
        "/as luis.ortega@riverton.gov",
        "session",
        "/clock 2026-12-01T10:05",
        "promise @robert.hayes@riverton.gov Clear the bulk-item backlog by Dec 18",
        "request Overtime hours by route by next session",
        "decide Two trucks move to Route 7",
        "note Head asks for a mechanic",
        "session close",
        "memo 1 add The next session moves to Thursday",
        lambda out: f"/click {number_of(out, 'Approve and send', 1)}",  # on the edited draft
        "ledger",
        "/as robert.hayes@riverton.gov",
        "provide 2 https://data.riverton.gov/ot.xlsx",
        "memo 1",
        "/quit",
    )
    await make_chat(org_uow, clock, console, script).run(None)
    out = console.export_text()
    assert "Upcoming stat sessions" in out and "#1 · Sanitation · Tue 01 Dec 10:00 EST" in out
    assert "Recorded promise #1 in session #1 (Sanitation)" in out
    assert (
        "Recorded request for data #2" in out and "Recorded decision #3" in out and "Recorded note #4" in out
    )
    assert "Closed session #1 (Sanitation)" in out and "Added by the chair" in out
    assert "[clicked Approve and send]" in out
    assert "Sent the memo of session #1 to Robert Hayes, Maria Santos, Jordan Kim." in out
    assert "Leader attention ledger: Luis Ortega" in out
    assert "Thanks: request #2 (Overtime hours by route) is provided" in out
    assert out.count("Follow-up memo: Sanitation stat session") >= 2  # the draft, then the sent one


async def test_scheduling_handing_over_cancelling_and_the_brief_in_the_console(
    org_uow: SqlUnitOfWorkFactory, clock: FakeClock, console: Console
) -> None:
    from bot.sessions.jobs import plan_sessions

    await plan_sessions(org_uow, clock)
    async with org_uow() as uow:  # Sanitation's meeting of Tue 29 Dec: its brief is not due yet
        (later,) = [s.id for s in await uow.sessions.between(ny(2026, 12, 29, 10), ny(2026, 12, 29, 11))]

    def scheduled(out: str) -> str:
        found = re.findall(r"Scheduled session #(\d+)", out)
        assert found, out
        return found[-1]

    script = Interactive(
        console,
        "/as jordan.kim@riverton.gov",
        "session streets 2026-12-10 14:00",
        lambda out: f"session chair {scheduled(out)} samuel.okafor@riverton.gov",
        lambda out: f"session cancel {scheduled(out)} Budget week",
        f"brief {later}",
        f"brief add {later} Ask about the new trucks",
        f"brief drop {later} 1",
        lambda out: f"/click {number_of(out, 'Send now', -1)}",
        "/quit",
    )
    await make_chat(org_uow, clock, console, script).run(None)
    out = " ".join(console.export_text().split())  # whatever the console's width wrapped
    new = scheduled(out)
    assert f"Scheduled session #{new}: Public Works - Streets, Thu 10 Dec 14:00 EST, chaired by" in out
    assert f"Samuel Okafor now chairs session #{new}" in out and "recorded as a delegation" in out
    assert f"Cancelled session #{new} (Public Works - Streets, Thu 10 Dec 14:00 EST): Budget week" in out
    assert "Draft. It goes out Thu 24 Dec 10:00 EST." in out
    assert "1. Ask about the new trucks" in out and "1 item dropped from the draft." in out
    assert "[clicked Send now]" in out and f"Sent the brief for session #{later} to 2 people." in out
    assert f"[attached: session-{later}-sanitation-brief.pdf, session-{later}-sanitation-brief.md]" in out
