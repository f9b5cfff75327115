"""`statbot chat` during a database outage (issue 10, item 7): every line, and the sweeps
that run after it, get the bot's "try again" words once; the session goes on and picks
up by itself when the database is back."""

from __future__ import annotations

import io
from collections import deque

from rich.console import Console

from adapters.console.chat import ConsoleChat
from bot.clock import FakeClock
from bot.conversation import StatBot
from storage.engine import session_factory
from storage.uow import SqlUnitOfWorkFactory
from tests.helpers import pid
from tests.test_outage import OUTAGE_WORDS, Unreachable, cut, db_url

__all__ = ["cut", "db_url"]  # fixtures

HEAD_EMAIL = "robert.hayes@riverton.gov"
DOWN, UP = "<the database goes away>", "<the database is back>"


async def test_the_console_says_try_again_during_an_outage_and_goes_on(
    cut: Unreachable, org_uow: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    console = Console(record=True, width=200, force_terminal=False, color_system=None, file=io.StringIO())
    lines = deque(
        [
            "status",
            DOWN,
            "status",  # a turn: the bot's own answer, then the sweeps meet the outage too
            "/tick",  # the sweeps alone
            "/who",  # a console command that reads the org
            "commit Fix the hotline by Friday",
            UP,
            "status",
            "/quit",
        ]
    )
    marks: list[int] = []

    async def ask(prompt: str) -> str:
        line = lines.popleft()
        if line in (DOWN, UP):
            await (cut.down() if line == DOWN else cut.up())
            marks.append(len(console.export_text(clear=False)))
            line = lines.popleft()
        return line

    uow = SqlUnitOfWorkFactory(session_factory(cut.engine))
    chat = ConsoleChat(StatBot(uow, clock), uow, clock, ask=ask, console=console, plain=True)
    await chat.run(HEAD_EMAIL)

    out = console.export_text()
    # Cards are wrapped to the terminal's width: compare words, not lines.
    before, during, after = (
        " ".join(part.split()) for part in (out[: marks[0]], out[marks[0] : marks[1]], out[marks[1] :])
    )
    assert "Sanitation" in before and OUTAGE_WORDS not in before
    assert during.count(OUTAGE_WORDS) == 4, during  # once for each of the four lines
    assert "Sanitation" in after and OUTAGE_WORDS not in after
    assert "Bye. Everything you entered is stored." in after
    async with org_uow() as work:  # nothing typed during the outage was written
        assert await work.commitments.open_for_owner(await pid(org_uow, HEAD_EMAIL)) == []
