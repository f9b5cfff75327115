"""The person's home card (Slack's App Home), built in the core."""

from __future__ import annotations

from bot.checkins.jobs import open_due_checkins
from bot.clock import FakeClock
from bot.conversation import StatBot
from bot.digests.jobs import post_due_digests
from bot.messages import Buttons
from bot.people.handlers import SHOW_DIGEST, home_card
from storage.uow import SqlUnitOfWorkFactory
from tests.helpers import ny, person, text_of


async def test_home_shows_what_a_head_owes(org_uow: SqlUnitOfWorkFactory, clock: FakeClock) -> None:
    clock.set(ny(2026, 12, 3, 9, 30))
    await open_due_checkins(org_uow, clock)
    head = await person(org_uow, "robert.hayes@riverton.gov")
    assert head.id is not None
    await StatBot(org_uow, clock).on_text(head.id, "commit Replace truck 12 by Friday")
    async with org_uow() as uow:
        card = await home_card(uow, head, clock.now())
    text = card.plain_text()
    assert "Sanitation · 2026-W49: open — waiting for your numbers" in text
    assert "Due: Fri 04 Dec 16:00 EST" in text
    assert "Replace truck 12" in text
    assert "[Fill in this week's numbers]" in text
    assert "Latest digest" not in text  # not a leader
    assert "Your follow-through" not in text


async def test_home_gives_leaders_the_latest_digest(org_uow: SqlUnitOfWorkFactory, clock: FakeClock) -> None:
    clock.set(ny(2026, 12, 3, 9, 30))
    await open_due_checkins(org_uow, clock)
    clock.set(ny(2026, 12, 7, 9))
    assert await post_due_digests(org_uow, clock) == 1
    mayor = await person(org_uow, "dana.whitfield@riverton.gov")
    assert mayor.id is not None
    async with org_uow() as uow:
        card = await home_card(uow, mayor, clock.now())
    assert "Latest digest" in card.plain_text()
    assert "Your follow-through (4 weeks)" in card.plain_text()
    assert "Sessions held: 0 of 0, delegated 0" in card.plain_text()
    (show,) = [b for p in card.parts if isinstance(p, Buttons) for b in p.buttons if b.action == SHOW_DIGEST]
    reply = await StatBot(org_uow, clock).on_button(mayor.id, show.action, show.ids)
    assert "Leadership digest · 2026-W49" in text_of(reply)


async def test_home_lists_a_leaders_question_apart_with_its_answer_button(
    org_uow: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    clock.set(ny(2026, 12, 3, 9, 30))
    bot = StatBot(org_uow, clock)
    head = await person(org_uow, "robert.hayes@riverton.gov")
    mayor = await person(org_uow, "dana.whitfield@riverton.gov")
    assert head.id is not None and mayor.id is not None
    await bot.on_text(head.id, "commit Replace truck 12 by Friday")
    await bot.on_text(mayor.id, "ask sanitation Why did missed pickups double?")
    async with org_uow() as uow:
        card = await home_card(uow, head, clock.now())
    text = card.plain_text()
    commitments, questions = text.split("Questions waiting for your answer")
    assert "Replace truck 12" in commitments and "missed pickups" not in commitments
    assert "Why did missed pickups double?" in questions
    (answer,) = [
        b for p in card.parts if isinstance(p, Buttons) for b in p.buttons if b.label.startswith("Answer")
    ]
    reply = await bot.on_button(head.id, answer.action, answer.ids)
    assert text_of(reply) == "[form Answer the question] "
    assert reply.messages[0].ids == {"commitment": answer.ids["commitment"]}  # type: ignore[union-attr]
