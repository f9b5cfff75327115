"""Every change to a commitment, from any path (a command, the check-in form, a follow-up
answer, an escalation's button), writes the change, its history entry and its audit
entry; and a turn commits once, so a turn that fails leaves nothing written."""

from __future__ import annotations

import pytest

from bot.audit import AuditEntry
from bot.checkins.jobs import open_due_checkins
from bot.clock import FakeClock
from bot.conversation import StatBot
from bot.escalations.jobs import sweep
from bot.messages import Buttons, Card
from storage.uow import SqlUnitOfWorkFactory
from tests.helpers import deliveries_to, ny, only_form, pid, text_of

HEAD = "robert.hayes@riverton.gov"  # Sanitation head
DEPUTY = "maria.santos@riverton.gov"
MAYOR = "dana.whitfield@riverton.gov"
GOOD = {
    "m.missed_pickups": "110",
    "m.tons_collected": "1,950",
    "m.recycling_diversion": "26",
    "m.missed_pickups_48h": "92%",
}


@pytest.fixture
def bot(org_uow: SqlUnitOfWorkFactory, clock: FakeClock) -> StatBot:
    clock.set(ny(2026, 12, 1, 10))  # Tuesday of 2026-W49
    return StatBot(org_uow, clock)


async def audit_of(org_uow: SqlUnitOfWorkFactory, commitment_id: int) -> list[AuditEntry]:
    """The audit entries about one commitment, oldest first."""
    async with org_uow() as uow:
        entries = await uow.audit.recent(limit=500)
    return sorted(
        (e for e in entries if e.subject == f"commitment:{commitment_id}"), key=lambda e: (e.at, e.id or 0)
    )


async def history_of(org_uow: SqlUnitOfWorkFactory, commitment_id: int) -> list[tuple[str, str]]:
    async with org_uow() as uow:
        return [(u.status, u.note) for u in await uow.commitments.updates(commitment_id)]


async def test_by_command(bot: StatBot, org_uow: SqlUnitOfWorkFactory) -> None:
    head = await pid(org_uow, HEAD)
    await bot.on_text(head, "commit Replace truck 12 by Friday")
    await bot.on_text(head, "update 1 vendor called back")
    await bot.on_text(head, "done 1")
    assert [e.action for e in await audit_of(org_uow, 1)] == [
        "commitment.created",
        "commitment.updated",
        "commitment.done",
    ]
    assert await history_of(org_uow, 1) == [
        ("open", "created"),
        ("open", "vendor called back"),
        ("done", "done"),
    ]


async def test_in_the_checkin_form_every_change_is_audited(
    bot: StatBot, org_uow: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    head = await pid(org_uow, HEAD)
    for text in (
        "commit Replace truck 12 by Friday",
        "commit Hire two drivers by 2026-12-31",
        "commit Reroute district 4 by 2026-12-20",
        "commit Paint the depot by 2026-12-24",
    ):
        await bot.on_text(head, text)
    clock.set(ny(2026, 12, 3, 9, 30))  # after Thursday's opening
    await open_due_checkins(org_uow, clock)
    form = only_form(await bot.on_text(head, "report"))
    reply = text_of(
        await bot.on_form(
            head,
            form.action,
            form.ids,
            {
                **GOOD,
                "c.1": "done",
                "c.2": "dropped",
                "cnote.2": "Budget cut",
                "c.3": "moved",
                "cdate.3": "2027-01-15",
                "c.4": "keep",
                "new.text": "Fix truck 9",
                "new.due": "next Friday",
            },
        )
    )
    assert "Commitments: #1 done" in reply and "#2 dropped" in reply
    expected = {
        1: ("commitment.done", ("done", "done")),
        2: ("commitment.dropped", ("dropped", "Budget cut")),
        3: ("commitment.moved", ("open", "moved")),
        4: ("commitment.updated", ("open", "still on track")),
    }
    for commitment_id, (action, last_history) in expected.items():
        entries = await audit_of(org_uow, commitment_id)
        assert [e.action for e in entries] == ["commitment.created", action]
        assert entries[-1].actor_id == head
        assert (await history_of(org_uow, commitment_id))[-1] == last_history
    (dropped,) = (await audit_of(org_uow, 2))[1:]
    assert dropped.detail["note"] == "Budget cut"
    assert dropped.detail["status"] == {"from": "open", "to": "dropped"}
    (moved,) = (await audit_of(org_uow, 3))[1:]
    assert moved.detail["due_on"] == {"from": "2026-12-20", "to": "2027-01-15"}
    created = await audit_of(org_uow, 5)
    assert [e.action for e in created] == ["commitment.created"]
    assert created[0].detail["text"] == "Fix truck 9"


async def test_answering_a_follow_up(bot: StatBot, org_uow: SqlUnitOfWorkFactory) -> None:
    mayor, head = await pid(org_uow, MAYOR), await pid(org_uow, HEAD)
    await bot.on_text(mayor, "ask sanitation Why did missed pickups rise?")
    form = only_form(await bot.on_button(head, "followup.answer", {"commitment": "1"}))
    reply = text_of(await bot.on_form(head, form.action, form.ids, {"answer": "Two trucks broke down."}))
    assert "your answer to follow-up #1 was sent" in reply
    assert [e.action for e in await audit_of(org_uow, 1)] == ["followup.asked", "followup.answered"]
    assert await history_of(org_uow, 1) == [("open", "asked"), ("done", "answered")]
    async with org_uow() as uow:
        followup = await uow.commitments.get(1)
    assert followup is not None and followup.answer == "Two trucks broke down."


async def test_mark_done_from_an_escalation(
    bot: StatBot, org_uow: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    head = await pid(org_uow, HEAD)
    await bot.on_text(head, "commit Replace truck 12 by Thursday")
    clock.set(ny(2026, 12, 4, 9))  # Friday, past due since midnight
    await sweep(org_uow, clock)
    (delivery,) = [
        d for d in await deliveries_to(org_uow, HEAD) if d.idempotency_key.startswith("escalation:")
    ]
    card = Card.model_validate(delivery.payload)
    done = next(b for p in card.parts if isinstance(p, Buttons) for b in p.buttons if b.label == "Mark done")
    reply = text_of(await bot.on_button(head, done.action, done.ids))
    assert "marked done by Robert Hayes" in reply
    entries = await audit_of(org_uow, 1)
    assert [e.action for e in entries] == ["commitment.created", "commitment.done"]
    assert entries[-1].detail["note"] == "done (from an escalation)"
    assert (await history_of(org_uow, 1))[-1] == ("done", "done (from an escalation)")


async def test_a_turn_that_fails_leaves_nothing_written(
    bot: StatBot, org_uow: SqlUnitOfWorkFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    head = await pid(org_uow, HEAD)
    await bot.on_text(head, "commit Replace truck 12 by Friday")

    def broken(*args: object) -> str:
        raise RuntimeError("the reply could not be worded")

    # The change is written before the reply is worded; the turn commits only at its end.
    monkeypatch.setattr("bot.commitments.cards.closed_text", broken)
    reply = text_of(await bot.on_text(head, "done 1"))
    assert "nothing was changed" in reply
    async with org_uow() as uow:
        commitment = await uow.commitments.get(1)
    assert commitment is not None and commitment.status == "open"
    assert [e.action for e in await audit_of(org_uow, 1)] == ["commitment.created"]
    assert await history_of(org_uow, 1) == [("open", "created")]
