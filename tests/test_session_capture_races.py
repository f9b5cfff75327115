"""Two people (or two replicas) at once in a stat session: something recorded while the
chair closes the session, the same decision submitted twice, a request provided by head
and deputy together.  Exactly one outcome stands, what was recorded is what the memo
shows, nothing is recorded twice, and whoever lost is told who got there first (the
turns run on two engines of one database, held at a gate: tests/test_races.py)."""

from __future__ import annotations

import asyncio

import pytest

from bot.clock import FakeClock
from bot.conversation import StatBot
from bot.messages import Form
from bot.sessions.models import DocumentKind, ItemKind
from storage.uow import SqlUnitOfWorkFactory
from tests.helpers import ny, pid, text_of
from tests.test_races import Gate, Hold, audit_rows, gated, replica
from tests.test_session_brief import _session, history
from tests.test_session_capture import ANALYST, CHAIR, DEPUTY, HEAD, meeting
from tests.test_session_decisions import _choice, _decision_card, _previous_brief_showed_missed_pickups
from tests.test_sessions import planned

__all__ = ["history", "meeting", "planned", "replica"]  # fixtures


@pytest.mark.parametrize("first", ["note", "close"])
async def test_a_note_and_closing_the_session_at_once_agree(
    meeting: tuple[StatBot, int],
    org_uow: SqlUnitOfWorkFactory,
    replica: SqlUnitOfWorkFactory,
    clock: FakeClock,
    first: str,
) -> None:
    """One turn has found the session under way; the other lands before it writes."""
    _, number = meeting
    analyst, chair = await pid(org_uow, ANALYST), await pid(org_uow, CHAIR)
    note = "note The route plan is due before Christmas"
    hold = Hold()
    if first == "close":  # the note is held; the chair closes meanwhile
        held = asyncio.create_task(
            StatBot(gated(replica, hold, "sessions", "between"), clock).on_text(analyst, note)
        )
        await asyncio.wait_for(hold.reached.wait(), 30)
        closed = text_of(await StatBot(org_uow, clock).on_text(chair, "session close"))
        hold.released.set()
        noted = text_of(await held)
    else:  # the close is held; the note lands meanwhile
        held = asyncio.create_task(
            StatBot(gated(replica, hold, "sessions", "between"), clock).on_text(chair, "session close")
        )
        await asyncio.wait_for(hold.reached.wait(), 30)
        noted = text_of(await StatBot(org_uow, clock).on_text(analyst, note))
        hold.released.set()
        closed = text_of(await held)
    assert f"Closed session #{number}" in closed, closed
    async with org_uow() as uow:
        notes = await uow.session_items.for_sessions([number], ItemKind.NOTE)
        memo = await uow.session_documents.of(number, DocumentKind.MEMO)
    assert memo is not None
    if first == "close":
        assert noted.startswith(f"Luis Ortega closed session #{number} a moment ago"), noted
        assert "What you typed: The route plan is due before Christmas" in noted
        assert notes == [] and "route plan" not in memo.body
    else:
        assert "Recorded note" in noted, noted
        assert len(notes) == 1 and "The route plan is due before Christmas" in memo.body


async def test_the_same_directive_submitted_twice_at_once_is_one_decision_and_one_promise(
    history: SqlUnitOfWorkFactory, replica: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    bot = StatBot(history, clock)
    await _previous_brief_showed_missed_pickups(history, ny(2026, 11, 17, 8))
    session = await _session(history, "sanitation")
    assert session.id is not None
    analyst, chair, head = [await pid(history, e) for e in (ANALYST, CHAIR, HEAD)]
    await bot.on_text(analyst, f"brief {session.id}")
    await bot.on_button(analyst, "brief.send", {"session": str(session.id)})
    action, ids = _choice(await _decision_card(history), "Directive")
    (form,) = (await bot.on_button(chair, action, ids)).messages
    assert isinstance(form, Form)
    values = {"text": "Run a second shift on Route 7", "owner": str(head), "due": "Dec 18"}
    gate = Gate()
    a = StatBot(gated(history, gate, "sessions"), clock)
    b = StatBot(gated(replica, gate, "sessions"), clock)
    replies = [
        text_of(r)
        for r in await asyncio.gather(
            a.on_form(chair, form.action, form.ids, values), b.on_form(chair, form.action, form.ids, values)
        )
    ]
    recorded = [r for r in replies if r.startswith(f"Recorded for session #{session.id}")]
    refused = [r for r in replies if "is recorded for session" in r and "already (by Luis Ortega)" in r]
    assert len(recorded) == 1 and len(refused) == 1, replies
    async with history() as work:
        decisions = await work.session_items.for_sessions([session.id], ItemKind.DECISION)
        promises = await work.session_items.for_sessions([session.id], ItemKind.PROMISE)
        commitments = [c for c in await work.commitments.all_open() if c.origin == f"session:{session.id}"]
    assert len(decisions) == 1 and len(promises) == 1 and len(commitments) == 1
    assert promises[0].commitment_id == commitments[0].id
    assert await audit_rows(history, "session.decided", f"session:{session.id}") == 1


async def test_head_and_deputy_provide_one_request_at_once(
    meeting: tuple[StatBot, int],
    org_uow: SqlUnitOfWorkFactory,
    replica: SqlUnitOfWorkFactory,
    clock: FakeClock,
) -> None:
    bot, number = meeting
    asked = text_of(
        await bot.on_text(await pid(org_uow, ANALYST), "request Overtime by route by next session")
    )
    item = int(asked.split("#")[1].split()[0])
    head, deputy = await pid(org_uow, HEAD), await pid(org_uow, DEPUTY)
    gate = Gate()
    a = StatBot(gated(org_uow, gate, "session_items"), clock)
    b = StatBot(gated(replica, gate, "session_items"), clock)
    replies = [
        text_of(r)
        for r in await asyncio.gather(
            a.on_text(head, f"provide {item} https://data.example/ot-head.xlsx"),
            b.on_text(deputy, f"provide {item} https://data.example/ot-deputy.xlsx"),
        )
    ]
    provided = [r for r in replies if "is provided" in r]
    refused = [r for r in replies if f"provided request #{item} already" in r]
    assert len(provided) == 1 and len(refused) == 1, replies
    winner = "Robert Hayes" if replies[0] in provided else "Maria Santos"
    assert refused[0].startswith(winner), (winner, replies)
    async with org_uow() as uow:
        stored = await uow.session_items.get(item)
    assert stored is not None and stored.answer is not None
    assert ("ot-head" in stored.answer) == (winner == "Robert Hayes")
    assert await audit_rows(org_uow, "session.provided", f"session:{number}") == 1
