"""`overdue` when nothing is overdue yet, and one notice at a time for a missed check-in."""

from __future__ import annotations

import datetime as dt
from collections import Counter

from bot.clock import FakeClock
from bot.conversation import StatBot
from bot.sweeps import run_all
from storage.uow import SqlUnitOfWorkFactory
from tests.helpers import card_text, deliveries_to, ny, pid, text_of

HEAD = "robert.hayes@riverton.gov"
LEADER = "luis.ortega@riverton.gov"


async def test_overdue_says_when_open_commitments_are_not_due_yet(
    org_uow: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    clock.set(ny(2026, 12, 1, 10))
    bot = StatBot(org_uow, clock)
    head, leader = await pid(org_uow, HEAD), await pid(org_uow, LEADER)
    empty = text_of(await bot.on_text(leader, "overdue"))
    assert "Nothing is overdue, and no commitment is open." in empty
    text_of(await bot.on_text(head, "commit Replace truck 12 by Friday"))
    said = text_of(await bot.on_text(leader, "overdue"))
    assert "Nothing is overdue. 1 open commitment is not due yet (the next on Fri 04 Dec)" in said
    assert "Nothing open." not in said


async def test_a_missed_checkin_brings_one_notice_not_a_reminder_and_a_needs_attention(
    org_uow: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    clock.set(ny(2026, 12, 3, 9, 30))
    for _ in range(24 * 6):  # the check-in opens; nobody answers; an hour at a time
        await run_all(org_uow, clock, None)
        clock.advance(dt.timedelta(hours=1))
    deliveries = await deliveries_to(org_uow, HEAD)
    at = Counter(d.created_at for d in deliveries)
    assert all(n == 1 for n in at.values()), [
        (d.created_at, card_text(d).splitlines()[0]) for d in deliveries
    ]
    headings = [card_text(d).splitlines()[0] for d in deliveries]
    assert any(h.startswith("Needs attention") for h in headings)
    assert any(h.startswith("Reminder") for h in headings)
