"""The leader attention ledger on a known history: sessions held, chaired in person or
delegated, cancelled; memos on time; escalations acted on; questions answered."""

from __future__ import annotations

import datetime as dt

from bot.clock import FakeClock
from bot.conversation import StatBot
from bot.escalations.models import Escalation, EscalationState
from bot.messages import Buttons, Card
from bot.sessions.jobs import plan_sessions
from storage.uow import SqlUnitOfWorkFactory
from tests.helpers import pid, text_of

LUIS = "luis.ortega@riverton.gov"  # leads Sanitation and Streets; chairs "operations"
SAMUEL = "samuel.okafor@riverton.gov"
HEAD = "robert.hayes@riverton.gov"
ANALYST = "jordan.kim@riverton.gov"


def utc(month: int, day: int, hour: int, minute: int = 0) -> dt.datetime:
    year = 2027 if month == 1 else 2026
    return dt.datetime(year, month, day, hour, minute, tzinfo=dt.UTC)


async def _approve(bot: StatBot, person_id: int, closed: object) -> None:
    assert hasattr(closed, "messages")
    card = closed.messages[-1]  # type: ignore[attr-defined]
    assert isinstance(card, Card)
    (button,) = [b for p in card.parts if isinstance(p, Buttons) for b in p.buttons]
    assert "Sent the memo" in text_of(await bot.on_button(person_id, button.action, button.ids))


async def test_the_ledger_counts_a_leaders_follow_through(
    org_uow: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    bot = StatBot(org_uow, clock)
    luis, samuel, head = await pid(org_uow, LUIS), await pid(org_uow, SAMUEL), await pid(org_uow, HEAD)
    await plan_sessions(org_uow, clock)
    # Tue 01 Dec: Sanitation, chaired in person, its memo approved the same day.
    clock.set(utc(12, 1, 15, 10))
    await _approve(bot, luis, await bot.on_text(luis, "session close"))
    # A question to Sanitation, answered.
    clock.set(utc(12, 2, 14))
    await bot.on_text(luis, "ask sanitation Why did missed pickups double?")
    async with org_uow() as uow:
        (question,) = await uow.commitments.asked_by(luis, utc(12, 1, 0))
    await bot.on_form(
        head, "followup.answer", {"commitment": str(question.id)}, {"answer": "Two trucks down."}
    )
    # An escalation about Sanitation, acknowledged five hours after it started.
    async with org_uow() as uow:
        chain = await uow.escalations.start_if_absent(
            Escalation(
                kind="overdue_commitment",
                subject_id=question.id or 0,
                unit_id=1,
                episode="ledger",
                policy={"name": "standard", "chain": []},
                state=EscalationState.ACTIVE,
                step=1,
                next_step_at=utc(12, 4, 15),
                created_at=utc(12, 3, 14),
                updated_at=utc(12, 3, 14),
            )
        )
        await uow.commit()
    assert chain is not None
    clock.set(utc(12, 3, 19))
    assert "Acknowledged" in text_of(
        await bot.on_button(luis, "escalation.ack", {"escalation": str(chain.id)})
    )
    # Streets, Tue 15 Dec: handed to Samuel Okafor, who holds it.
    async with org_uow() as uow:
        streets = [s for s in await uow.sessions.between(utc(12, 15, 0), utc(12, 16, 0))]
    (streets_session,) = streets
    clock.set(utc(12, 10, 15))
    await bot.on_text(luis, f"session chair {streets_session.id} @{SAMUEL}")
    clock.set(utc(12, 15, 15, 30))
    await bot.on_text(samuel, "session close")
    # Sanitation, Tue 29 Dec: cancelled.
    clock.set(utc(12, 20, 15))
    await plan_sessions(org_uow, clock)
    async with org_uow() as uow:
        (late_december,) = [s for s in await uow.sessions.between(utc(12, 29, 0), utc(12, 30, 0))]
    await bot.on_text(luis, f"session cancel {late_december.id} Holiday week")

    clock.set(utc(1, 5, 15))
    text = text_of(await bot.on_text(luis, "ledger"))
    assert "Leader attention ledger: Luis Ortega" in text
    # 4 weeks back from Tue 05 Jan: the Streets session (delegated) and the cancelled one.
    assert "Sessions held: 4 weeks: 1 of 2 (1 cancelled) · 12 weeks: 2 of 3 (1 cancelled)" in text
    assert "Chaired in person: 4 weeks: 0, delegated 1 · 12 weeks: 1, delegated 1" in text
    assert "Memos sent on time: 4 weeks: 0 of 0 · 12 weeks: 1 of 1" in text
    assert "Escalations acted on: 4 weeks: 0 of 0, median — · 12 weeks: 1 of 1, median 5 h" in text
    assert "Questions answered: 4 weeks: 0 of 0 asked · 12 weeks: 1 of 1 asked" in text


async def test_the_ledger_is_for_leaders_and_analysts_only(
    org_uow: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    bot = StatBot(org_uow, clock)
    head, luis, analyst = await pid(org_uow, HEAD), await pid(org_uow, LUIS), await pid(org_uow, ANALYST)
    assert "for leaders (their own) and analysts" in text_of(await bot.on_text(head, "ledger"))
    assert "for leaders (their own) and analysts" in text_of(await bot.on_text(luis, f"ledger @{SAMUEL}"))
    everyone = await bot.on_text(analyst, "ledger")
    async with org_uow() as uow:
        leaders = [p for p in await uow.people.all() if "leader" in p.roles]
    assert len(everyone.messages) == len(leaders) > 1 and everyone.private
    one = text_of(await bot.on_text(analyst, f"ledger @{SAMUEL}"))
    assert "Leader attention ledger: Samuel Okafor" in one and "Luis Ortega" not in one
    assert "name the leader by e-mail" in text_of(await bot.on_text(analyst, "ledger luis"))
