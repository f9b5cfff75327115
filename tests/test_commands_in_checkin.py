"""While a check-in is open, a malformed command is answered as that command, never read
as the week's numbers."""

from __future__ import annotations

import pytest

from bot.clock import FakeClock
from bot.conversation import StatBot
from bot.sweeps import run_all
from storage.uow import SqlUnitOfWorkFactory
from tests.helpers import ny, pid, text_of


@pytest.mark.parametrize(
    ("typed", "answer"),
    [
        ("done", "done needs the commitment number"),
        ("done 1,200", '"1,200" is not a commitment number'),
        ("away 12", '"12" is not a date I understand'),
        ("away Dec 12 Dec 10", "the end (Thu 10 Dec 2026) is before the start (Sat 12 Dec 2026)"),
    ],
)
async def test_a_malformed_command_is_not_a_checkin_answer(
    org_uow: SqlUnitOfWorkFactory, clock: FakeClock, typed: str, answer: str
) -> None:
    clock.set(ny(2026, 12, 3, 9, 30))
    await run_all(org_uow, clock, None)  # the check-in opens
    bot = StatBot(org_uow, clock)
    said = text_of(await bot.on_text(await pid(org_uow, "robert.hayes@riverton.gov"), typed))
    assert answer in said
    assert "metric" not in said and "Still needed" not in said
