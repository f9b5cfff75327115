"""Two people changing one brief or memo at the same instant (the fake clock does not
move between them): the document's version decides, exactly one change is made, and the
other person is told who got there first.  Each race runs two StatBot turns on two
engines of one database, held at a gate until both have read the document
(tests/test_races.py)."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable

import pytest

from bot.clock import FakeClock
from bot.conversation import StatBot
from bot.messages import Reply
from bot.sessions.jobs import plan_sessions
from bot.sessions.models import DocumentKind, DocumentState
from storage.uow import SqlUnitOfWorkFactory
from tests.helpers import deliveries_to, pid, text_of
from tests.test_races import Gate, audit_rows, gated, replica, winner_and_loser
from tests.test_session_brief import _session, history
from tests.test_sessions import ANALYST, CHAIR, HEAD, planned

__all__ = ["history", "planned", "replica"]  # fixtures

# Sanitation's two sessions of the next six weeks: both have a brief with the same items.
REPEAT = 2
NAMES = ("Jordan Kim", "Luis Ortega")  # the analyst's turn, the chair's turn


def _bots(
    first: SqlUnitOfWorkFactory, second: SqlUnitOfWorkFactory, clock: FakeClock
) -> tuple[StatBot, StatBot]:
    gate = Gate()
    return (
        StatBot(gated(first, gate, "session_documents", "of"), clock),
        StatBot(gated(second, gate, "session_documents", "of"), clock),
    )


def _brief_turn(bot: StatBot, person: int, number: int, does: str) -> Awaitable[Reply]:
    if does == "send now":
        return bot.on_button(person, "brief.send", {"session": str(number)})
    return bot.on_text(person, f"brief {number} {does}")


@pytest.mark.parametrize(
    ("analyst_does", "chair_does"),
    [
        ("add Ask about the new trucks", "add Ask about overtime"),
        ("add Ask about the new trucks", "drop 8"),
        ("send now", "add Ask about overtime"),
    ],
)
async def test_two_changes_of_a_draft_brief_at_the_same_instant_one_is_made(
    history: SqlUnitOfWorkFactory,
    replica: SqlUnitOfWorkFactory,
    clock: FakeClock,
    analyst_does: str,
    chair_does: str,
) -> None:
    analyst, chair = await pid(history, ANALYST), await pid(history, CHAIR)
    for n in range(REPEAT):
        session = await _session(history, "sanitation", n)
        number = session.id
        assert number is not None
        # The draft is made at this very instant, and the clock stays there.
        await StatBot(history, clock).on_text(analyst, f"brief {number}")

        a, b = _bots(history, replica, clock)
        one, two = await asyncio.gather(
            _brief_turn(a, analyst, number, analyst_does), _brief_turn(b, chair, number, chair_does)
        )
        replies = text_of(one), text_of(two)
        winner, _, lost = winner_and_loser(replies, NAMES)
        did = {"send now": "sent", "drop 8": "dropped an item from"}
        expected = did.get(analyst_does if winner == NAMES[0] else chair_does, "added an item to")
        assert f"{winner} {expected} the brief for session #{number} a moment ago" in lost, lost
        assert "Your change was not made" in lost
        async with history() as work:
            document = await work.session_documents.of(number, DocumentKind.BRIEF)
        assert document is not None and document.version == 1, n
        changes = [
            await audit_rows(history, action, f"session:{number}")
            for action in ("brief.item_added", "brief.item_dropped", "brief.sent")
        ]
        assert sum(changes) == 1, (n, changes)
        if analyst_does == "send now" and winner == NAMES[0]:
            assert document.state == DocumentState.SENT and document.edits["added"] == []
        else:
            assert document.state == DocumentState.DRAFT
            kept = len(document.edits["added"]) + len(document.edits["dropped"])
            assert kept == 1, document.edits
        sent = [
            d
            for d in await deliveries_to(history, CHAIR)
            if d.idempotency_key.startswith(f"session:{number}:brief:")
        ]
        assert len(sent) == (1 if document.state == DocumentState.SENT else 0)


async def test_approving_the_memo_and_adding_a_line_at_the_same_instant_one_is_made(
    planned: SqlUnitOfWorkFactory, replica: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    chair = await pid(planned, CHAIR)
    clock.set(dt.datetime(2026, 12, 1, 15, 10, tzinfo=dt.UTC))  # Sanitation's session, under way
    await plan_sessions(planned, clock)
    bot = StatBot(planned, clock)
    await bot.on_text(chair, "decide Two trucks move to Route 7")
    await bot.on_text(chair, "session close")  # the memo is drafted at this instant
    a, b = _bots(planned, replica, clock)
    one, two = await asyncio.gather(
        a.on_button(chair, "memo.approve", {"session": "1"}),
        b.on_text(chair, "memo 1 add The depot reopens Monday"),
    )
    approved, added = text_of(one), text_of(two)
    lost = [r for r in (approved, added) if "got there first" in r]
    assert len(lost) == 1, (approved, added)
    async with planned() as work:
        memo = await work.session_documents.of(1, DocumentKind.MEMO)
    assert memo is not None and memo.version == 1
    to_head = [
        d for d in await deliveries_to(planned, HEAD) if d.idempotency_key.startswith("session:1:memo:")
    ]
    if memo.state == DocumentState.SENT:
        assert approved.startswith("Sent the memo of session #1")
        assert "Luis Ortega approved and sent the memo of session #1 a moment ago" in added
        assert "Your line was not added" in added
        assert memo.edits.get("added", []) == [] and len(to_head) == 1
    else:
        assert "Luis Ortega added a line to the memo of session #1 a moment ago" in approved
        assert "Nothing was sent" in approved
        assert memo.edits["added"] == ["The depot reopens Monday"] and to_head == []
    assert (
        await audit_rows(planned, "session.memo_sent", "session:1")
        + await audit_rows(planned, "session.memo_edited", "session:1")
        == 1
    )
