"""Follow-up questions from the buttons that carry them: ids are reloaded and checked."""

from __future__ import annotations

from bot.clock import FakeClock
from bot.conversation import StatBot
from bot.messages import Buttons
from storage.uow import SqlUnitOfWorkFactory
from tests.helpers import ny, only_form, pid, text_of

HEAD = "robert.hayes@riverton.gov"  # Sanitation head
HR_HEAD = "carla.mendes@riverton.gov"  # Human Resources is restricted
MAYOR = "dana.whitfield@riverton.gov"
ANALYST = "jordan.kim@riverton.gov"


async def test_ask_about_a_commitment_from_the_digest(
    org_uow: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    """The digest's button names only the commitment: the unit is the commitment's own."""
    clock.set(ny(2026, 12, 1, 10))
    bot = StatBot(org_uow, clock)
    await bot.on_text(await pid(org_uow, HEAD), "commit Replace truck 12 by Friday")
    mayor = await pid(org_uow, MAYOR)
    form = only_form(await bot.on_button(mayor, "followup.ask", {"commitment": "1"}))
    assert form.title == "Ask Sanitation" and form.ids == {"commitment": "1", "unit": "sanitation"}
    question = {i.name: i.value for i in form.inputs}["question"]
    assert question == "Where does #1 (Replace truck 12) stand, and what do you need?"
    reply = text_of(await bot.on_form(mayor, form.action, form.ids, {"question": question, "due": "Friday"}))
    assert reply.startswith("Asked Robert Hayes (Sanitation), answer due Fri 04 Dec")


async def test_a_restricted_unit_s_commitment_is_not_revealed(
    org_uow: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    clock.set(ny(2026, 12, 1, 10))
    bot = StatBot(org_uow, clock)
    await bot.on_text(await pid(org_uow, HR_HEAD), "commit Fill the payroll clerk post by Friday")
    analyst = await pid(org_uow, ANALYST)
    refused = text_of(await bot.on_button(analyst, "followup.ask", {"commitment": "1"}))
    assert "is restricted" in refused and "payroll" not in refused
    # Naming an open unit but a restricted unit's commitment gets no suggestion from it.
    form = only_form(await bot.on_button(analyst, "followup.ask", {"unit": "sanitation", "commitment": "1"}))
    assert "payroll" not in str({i.name: i.value for i in form.inputs})


async def test_a_question_is_closed_only_by_its_answer_or_by_the_asker(
    org_uow: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    clock.set(ny(2026, 12, 1, 10))
    bot = StatBot(org_uow, clock)
    mayor, head = await pid(org_uow, MAYOR), await pid(org_uow, HEAD)
    text_of(await bot.on_text(mayor, "ask sanitation Why did missed pickups double?"))
    text_of(await bot.on_text(head, "commit Replace truck 12 by Friday"))
    async with org_uow() as uow:
        (question,) = [c for c in await uow.commitments.all_open() if c.origin == "followup"]
    # Listed apart: the head's commitments do not hold the question.
    listing = await bot.on_text(head, "commitments")
    commitments, questions = (m.plain_text() for m in listing.messages)  # type: ignore[union-attr]
    assert "Replace truck 12" in commitments and "Why did missed pickups double?" not in commitments
    assert "Questions waiting for an answer" in questions and "asked by Dana Whitfield" in questions
    # `done` on a question asks for the answer; the question stays open.
    form = only_form(await bot.on_text(head, f"done {question.id}"))
    assert form.action == "followup.answer" and "closed by its answer" in str(form.intro)
    async with org_uow() as uow:
        still = await uow.commitments.get(question.id or 0)
        assert still is not None and still.status == "open" and still.answer is None
    # The answer closes it, and the asker receives it.
    done = text_of(await bot.on_form(head, form.action, form.ids, {"answer": "Two trucks were in the shop."}))
    assert "was sent" in done
    async with org_uow() as uow:
        to_mayor = [d.payload for d in await uow.deliveries.for_audience(f"person:{mayor}")]
    assert any("Two trucks were in the shop." in str(p) for p in to_mayor)


async def test_the_asker_withdraws_a_question(org_uow: SqlUnitOfWorkFactory, clock: FakeClock) -> None:
    clock.set(ny(2026, 12, 1, 10))
    bot = StatBot(org_uow, clock)
    mayor = await pid(org_uow, MAYOR)
    text_of(await bot.on_text(mayor, "ask sanitation Why did missed pickups double?"))
    async with org_uow() as uow:
        (question,) = [c for c in await uow.commitments.all_open() if c.origin == "followup"]
    assert "withdrew" in text_of(await bot.on_text(mayor, f"done {question.id}"))
    async with org_uow() as uow:
        gone = await uow.commitments.get(question.id or 0)
        assert gone is not None and gone.status == "dropped" and gone.answer is None


async def test_an_answer_that_promises_becomes_a_tracked_commitment(
    org_uow: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    clock.set(ny(2026, 12, 1, 10))  # Tuesday
    bot = StatBot(org_uow, clock)
    mayor, head = await pid(org_uow, MAYOR), await pid(org_uow, HEAD)
    for question in ("Why did missed pickups double?", "When is Route 9 back?"):
        text_of(await bot.on_text(mayor, f"ask sanitation {question}"))
    async with org_uow() as uow:
        first, second = sorted(
            (c for c in await uow.commitments.all_open() if c.origin == "followup"), key=lambda c: c.id or 0
        )
    # In the form: the promise and its date.
    form = only_form(await bot.on_button(head, "followup.answer", {"commitment": str(first.id)}))
    assert [i.name for i in form.inputs] == ["answer", "promise", "promise_due"]
    refused = only_form(
        await bot.on_form(head, form.action, form.ids, {"answer": "Two trucks down.", "promise": "Fix them"})
    )
    assert refused.errors == {"promise_due": "By when? A promise is tracked with its date."}
    done = text_of(
        await bot.on_form(
            head,
            form.action,
            form.ids,
            {
                "answer": "Two trucks down.",
                "promise": "Both trucks back on the road",
                "promise_due": "Friday",
            },
        )
    )
    assert "tracked as commitment" in done and "due Fri 04 Dec" in done
    # A plain answer with a date: one click tracks it, once.
    reply = await bot.on_form(
        head, form.action, {"commitment": str(second.id)}, {"answer": "The backlog clears by Friday."}
    )
    (card,) = reply.messages
    track = next(b for p in card.parts if isinstance(p, Buttons) for b in p.buttons)  # type: ignore[union-attr]
    assert track.label == "Track this"
    assert "Tracked as commitment" in text_of(await bot.on_button(head, track.action, track.ids))
    assert "tracked already" in text_of(await bot.on_button(head, track.action, track.ids))
    async with org_uow() as uow:
        tracked = [c for c in await uow.commitments.all_open() if c.origin.startswith("answer:")]
    assert sorted((c.text, c.due_on.isoformat(), c.owner_id) for c in tracked) == [
        ("Both trucks back on the road", "2026-12-04", head),
        ("The backlog clears by Friday.", "2026-12-04", head),
    ]


async def test_what_a_question_says_it_came_from_is_kept_only_where_true(
    org_uow: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    """The ids naming the item a question is about come from a button or a form: a
    question to Streets that names a Sanitation commitment, another unit's escalation or
    a metric Streets does not have is asked, but none of it is recorded as the leader's
    action on those items (the digest counts it)."""
    from bot.escalations.models import Escalation, EscalationState

    clock.set(ny(2026, 12, 1, 10))
    bot = StatBot(org_uow, clock)
    await bot.on_text(await pid(org_uow, HEAD), "commit Replace truck 12 by Friday")
    async with org_uow() as uow:
        sanitation = await uow.units.by_key("sanitation")
        assert sanitation is not None and sanitation.id is not None
        chain = await uow.escalations.start_if_absent(
            Escalation(
                kind="overdue_commitment", subject_id=1, unit_id=sanitation.id, episode="e",
                policy={"name": "standard", "chain": []}, state=EscalationState.ACTIVE, step=1,
                next_step_at=clock.now(), created_at=clock.now(), updated_at=clock.now(),
            )
        )  # fmt: skip
        await uow.commit()
    assert chain is not None
    analyst = await pid(org_uow, ANALYST)
    forged = {"unit": "streets", "commitment": "1", "escalation": str(chain.id), "metric": "missed_pickups"}
    asked = text_of(await bot.on_form(analyst, "followup.ask", forged, {"question": "Why?", "due": "Friday"}))
    assert asked.startswith("Asked ")
    honest = {
        "unit": "sanitation",
        "commitment": "1",
        "escalation": str(chain.id),
        "metric": "missed_pickups",
    }
    await bot.on_form(analyst, "followup.ask", honest, {"question": "And here?", "due": "Friday"})
    async with org_uow() as uow:
        details = [e.detail for e in await uow.audit.recent(limit=50) if e.action == "followup.asked"]
    by_unit = {d["unit"]: d for d in details}
    assert {k: by_unit["streets"].get(k) for k in ("commitment", "escalation", "metric")} == {
        "commitment": None,
        "escalation": None,
        "metric": None,
    }
    assert {k: by_unit["sanitation"].get(k) for k in ("commitment", "escalation", "metric")} == {
        "commitment": "1",
        "escalation": str(chain.id),
        "metric": "missed_pickups",
    }
