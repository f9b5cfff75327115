"""A standing exception in two briefs in a row with no leader action asks the chair for
a decision; the choice is kept (a directive becomes a promise) and the next brief shows it."""

from __future__ import annotations

import datetime as dt

from bot.clock import FakeClock
from bot.conversation import StatBot
from bot.messages import Buttons, Card, Form
from bot.org.context import load_context
from bot.sessions.brief_service import build
from bot.sessions.models import DocumentKind, DocumentState, ItemKind, SessionDocument, SessionState
from storage.uow import SqlUnitOfWorkFactory
from tests.helpers import card_text, deliveries_to, ny, pid, text_of
from tests.test_session_brief import NOW, _session, history
from tests.test_sessions import ANALYST, CHAIR, HEAD, planned

__all__ = ["history", "planned"]  # fixtures


async def _previous_brief_showed_missed_pickups(uow: SqlUnitOfWorkFactory, sent_at: dt.datetime) -> str:
    """The last session's brief went out showing missed pickups as standing."""
    async with uow() as work:
        unit = await work.units.by_key("sanitation")
        assert unit is not None and unit.id is not None
        (metric,) = [m for m in await work.metrics.for_unit(unit.id) if m.key == "missed_pickups"]
        (last,) = [
            s
            for s in await work.sessions.between(ny(2026, 11, 17, 0), ny(2026, 11, 18, 0))
            if s.unit_id == unit.id
        ]
        key = f"standing:{metric.id}:off_target"
        await work.session_documents.add(
            SessionDocument(
                session_id=last.id or 0,
                kind=DocumentKind.BRIEF,
                state=DocumentState.SENT,
                body="# Brief",
                created_at=sent_at,
                updated_at=sent_at,
                sent_at=sent_at,
                edits={"standing": [key]},
            )
        )
        await work.commit()
    return key


async def _decision_card(uow: SqlUnitOfWorkFactory) -> Card:
    cards = [d for d in await deliveries_to(uow, CHAIR) if ":decide:" in d.idempotency_key]
    assert len(cards) == 1, [d.idempotency_key for d in cards]
    return Card.model_validate(cards[0].payload)


def _choice(card: Card, label: str) -> tuple[str, dict[str, str]]:
    (button,) = [b for p in card.parts if isinstance(p, Buttons) for b in p.buttons if b.label == label]
    return button.action, button.ids


async def test_a_repeated_exception_asks_the_chair_to_decide_and_the_next_brief_shows_it(
    history: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    bot = StatBot(history, clock)
    key = await _previous_brief_showed_missed_pickups(history, ny(2026, 11, 17, 8))
    session = await _session(history, "sanitation")
    analyst, chair, head = [await pid(history, e) for e in (ANALYST, CHAIR, HEAD)]
    await bot.on_text(analyst, f"brief {session.id}")
    assert "Sent the brief" in text_of(
        await bot.on_button(analyst, "brief.send", {"session": str(session.id)})
    )
    card = await _decision_card(history)
    text = card.plain_text()
    assert "A decision is needed: Sanitation, Missed pickups reported to 311" in text
    assert "second brief in a row with no leader action recorded" in text
    assert [b.label for p in card.parts if isinstance(p, Buttons) for b in p.buttons] == [
        "Directive",
        "Resources",
        "Escalate",
        "Accept",
    ]
    action, ids = _choice(card, "Resources")
    assert "Only the chair" in text_of(await bot.on_button(head, action, ids))
    forged = {**ids, "exception": "standing:999:off_target"}
    assert "out of date" in text_of(await bot.on_button(chair, action, forged))
    (form,) = (await bot.on_button(chair, action, ids)).messages
    assert isinstance(form, Form) and [i.name for i in form.inputs] == ["text"]
    (back,) = (await bot.on_form(chair, form.action, form.ids, {"text": " "})).messages
    assert isinstance(back, Form) and back.errors == {"text": "Say what resources, and from where."}
    done = await bot.on_form(chair, form.action, form.ids, {"text": "Two trucks from Streets until January"})
    assert text_of(done) == (
        f"Recorded for session #{session.id}: Missed pickups reported to 311: resources — "
        "Two trucks from Streets until January. The next brief shows it."
    )
    assert "already" in text_of(await bot.on_form(chair, form.action, form.ids, {"text": "Again"}))
    async with history() as work:
        decisions = await work.session_items.for_sessions([session.id or 0], ItemKind.DECISION)
        audit = [e for e in await work.audit.recent(limit=100) if e.action == "session.decided"]
        # The session is held and closed; the unit's next session's brief shows the choice.
        held = await work.sessions.get(session.id or 0)
        assert held is not None
        held.state, held.closed_at, held.closed_by = SessionState.CLOSED, ny(2026, 12, 1, 11), chair
        await work.sessions.save(held)
        await work.commit()
    assert [d.subject for d in decisions] == [key] and len(audit) == 1
    following = await _session(history, "sanitation", 1)
    async with history() as work:
        ctx = await load_context(work)
        brief = await build(work, ctx, following, None, NOW + dt.timedelta(days=2))
    (standing,) = brief.standing
    assert (
        standing.decided
        == "Missed pickups reported to 311: resources — Two trucks from Streets until January"
    )
    assert not brief.dropped


async def test_a_directive_becomes_a_tracked_promise(history: SqlUnitOfWorkFactory, clock: FakeClock) -> None:
    bot = StatBot(history, clock)
    await _previous_brief_showed_missed_pickups(history, ny(2026, 11, 17, 8))
    session = await _session(history, "sanitation")
    analyst, chair, head = [await pid(history, e) for e in (ANALYST, CHAIR, HEAD)]
    await bot.on_text(analyst, f"brief {session.id}")
    await bot.on_button(analyst, "brief.send", {"session": str(session.id)})
    action, ids = _choice(await _decision_card(history), "Directive")
    (form,) = (await bot.on_button(chair, action, ids)).messages
    assert isinstance(form, Form) and [i.name for i in form.inputs] == ["text", "owner", "due"]
    values = {"text": "Run a second shift on Route 7", "owner": str(head), "due": "2026-11-02"}
    (back,) = (await bot.on_form(chair, form.action, form.ids, values)).messages
    assert isinstance(back, Form) and "is in the past" in back.errors["due"]
    values["due"] = "Dec 18"
    done = text_of(await bot.on_form(chair, form.action, form.ids, values))
    assert "directive — Run a second shift on Route 7 (Robert Hayes, by Fri 18 Dec; commitment #" in done
    async with history() as work:
        promises = await work.session_items.for_sessions([session.id or 0], ItemKind.PROMISE)
        (promise,) = promises
        commitment = await work.commitments.get(promise.commitment_id or 0)
    assert commitment is not None and commitment.origin == f"session:{session.id}"
    assert commitment.owner_id == head and commitment.due_on == dt.date(2026, 12, 18)
    # Its owner is told, as for a promise captured in the session.
    told = [card_text(d) for d in await deliveries_to(history, HEAD)]
    assert any("you promised: Run a second shift on Route 7" in t for t in told)


async def test_a_leader_question_since_the_last_brief_counts_as_action(
    history: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    bot = StatBot(history, clock)
    # The mayor asked about missed pickups on Mon 16 Nov, after this earlier brief went out.
    await _previous_brief_showed_missed_pickups(history, ny(2026, 11, 13, 8))
    session = await _session(history, "sanitation")
    analyst = await pid(history, ANALYST)
    await bot.on_text(analyst, f"brief {session.id}")
    await bot.on_button(analyst, "brief.send", {"session": str(session.id)})
    assert [d for d in await deliveries_to(history, CHAIR) if ":decide:" in d.idempotency_key] == []
