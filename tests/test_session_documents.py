"""A sent brief and an approved memo go out with their document (the kept Markdown and a
PDF of it), drafts without; the adapters find the kept document again from the card,
and never a draft."""

from __future__ import annotations

import datetime as dt

from bot.clock import FakeClock
from bot.conversation import StatBot
from bot.messages import Attachment, Buttons, Card
from bot.sessions.models import DocumentKind
from storage.uow import SqlUnitOfWorkFactory
from tests.goldens import assert_card_golden
from tests.helpers import deliveries_to, pid, text_of
from tests.test_session_brief import _session, history
from tests.test_session_capture import DEPUTY, meeting
from tests.test_sessions import ANALYST, CHAIR, HEAD, planned, say

__all__ = ["history", "meeting", "planned"]  # fixtures


def attached(card: Card) -> list[Attachment]:
    return [p for p in card.parts if isinstance(p, Attachment)]


async def cards_to(uow: SqlUnitOfWorkFactory, email: str, key: str) -> dict[str, Card]:
    """The cards delivered to a person whose idempotency key starts with ``key``, by key."""
    return {
        d.idempotency_key.removesuffix(f":{await pid(uow, email)}"): Card.model_validate(d.payload)
        for d in await deliveries_to(uow, email)
        if d.idempotency_key.startswith(key)
    }


async def test_the_sent_brief_carries_its_document_and_the_draft_does_not(
    history: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    from adapters.documents import document_files, load_document

    bot = StatBot(history, clock)
    session = await _session(history, "sanitation")
    number = session.id
    await say(bot, history, ANALYST, f"brief {number} add Ask about **the new trucks** <b>now</b>")
    async with history() as work:
        draft = await work.session_documents.of(number or 0, DocumentKind.BRIEF)
    assert draft is not None and draft.id is not None
    assert await load_document(history, f"session-document:{draft.id}") is None  # never a draft
    await bot.on_button(await pid(history, ANALYST), "brief.send", {"session": str(number)})
    async with history() as work:
        document = await work.session_documents.of(number or 0, DocumentKind.BRIEF)
    assert document is not None and document.id is not None
    expected = Attachment(
        ref=f"session-document:{document.id}",
        filename=f"session-{number}-sanitation-brief",
        title=f"Brief for session #{number}: Sanitation",
        command=f"brief {number}",
    )
    for email in (CHAIR, ANALYST):
        cards = await cards_to(history, email, f"session:{number}:brief")
        assert attached(cards[f"session:{number}:brief-draft"]) == []
        assert attached(cards[f"session:{number}:brief"]) == [expected]
        assert (
            f"[attached: session-{number}-sanitation-brief.pdf, session-{number}-sanitation-brief.md]"
            in cards[f"session:{number}:brief"].plain_text()
        )
    # The command the card names shows the brief again to who received it.
    assert "Standing exceptions" in await say(bot, history, CHAIR, expected.command)
    kept = await load_document(history, expected.ref)
    assert kept is not None and kept.attachment == expected and kept.body == document.body
    pdf, markdown = await document_files(kept)
    assert (pdf.filename, pdf.media_type) == (f"session-{number}-sanitation-brief.pdf", "application/pdf")
    assert pdf.content.startswith(b"%PDF-")
    assert markdown.filename == f"session-{number}-sanitation-brief.md"
    assert markdown.content.decode() == document.body and "\\*\\*the new trucks\\*\\*" in document.body
    for bogus in ("session-document:", "session-document:x1", "session-document:999999", "chart-1", ""):
        assert await load_document(history, bogus) is None, bogus


async def test_the_approved_memo_goes_to_the_unit_with_its_document(
    meeting: tuple[StatBot, int], org_uow: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    from adapters.documents import load_document

    bot, number = meeting
    await say(bot, org_uow, CHAIR, f"promise @{HEAD} Clear the bulk-item backlog by Dec 18")
    await say(bot, org_uow, CHAIR, "decide Two trucks move to Route 7")
    closed = await bot.on_text(await pid(org_uow, CHAIR), "session close")
    draft = closed.messages[-1]
    assert isinstance(draft, Card) and attached(draft) == []
    async with org_uow() as uow:
        memo = await uow.session_documents.of(number, DocumentKind.MEMO)
    assert memo is not None and memo.id is not None
    assert await load_document(org_uow, f"session-document:{memo.id}") is None  # still a draft
    (approve,) = [b for p in draft.parts if isinstance(p, Buttons) for b in p.buttons]
    clock.advance(dt.timedelta(hours=1))
    await bot.on_button(await pid(org_uow, CHAIR), approve.action, approve.ids)
    expected = Attachment(
        ref=f"session-document:{memo.id}",
        filename=f"session-{number}-sanitation-memo",
        title=f"Follow-up memo of session #{number}: Sanitation",
        command=f"memo {number}",
    )
    for email in (HEAD, DEPUTY, ANALYST):
        (card,) = (await cards_to(org_uow, email, f"session:{number}:memo:")).values()
        assert attached(card) == [expected], email
    assert "Follow-up memo: Sanitation" in text_of(
        await bot.on_text(await pid(org_uow, HEAD), expected.command)
    )
    kept = await load_document(org_uow, expected.ref)
    assert (
        kept is not None
        and kept.body.startswith("# Follow-up memo: Sanitation")
        and kept.sent_at == clock.now()
    )
    assert_card_golden("session_memo_sent", card)
