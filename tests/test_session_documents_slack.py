"""A sent brief and an approved memo reach Slack with their files, through the real bolt
app and the outbox against the fake Web API: the card in each reader's DM and, in its
thread, the PDF and the Markdown (files_upload_v2's three steps, one share for both); a
retry after a failure part-way never shows a file twice; a document that cannot be had
leaves the card saying how to read it."""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest
from pypdf import PdfReader

from bot.clock import FakeClock
from bot.deliveries.jobs import drain
from bot.deliveries.service import enqueue
from bot.messages import Attachment, Card, Heading
from bot.sessions.jobs import plan_sessions
from bot.sessions.models import DocumentKind, SessionDocument
from storage.uow import SqlUnitOfWorkFactory
from tests.fakes.slack_api import FakeSlackApi, SharedFile
from tests.test_slack_app import HEAD, HEAD_EMAIL, OPS, OPS_EMAIL, Slack, buttons_in, slack

__all__ = ["slack"]  # fixture

ANALYST, ANALYST_EMAIL = "U0JORDAN01", "jordan.kim@riverton.gov"  # attends Sanitation's sessions
DEPUTY, DEPUTY_EMAIL = "U0MARIA001", "maria.santos@riverton.gov"
TYPED = "Ask about **the new trucks** <b>now</b> — Zoë’s “plan” → ▼ `route 7`"


@pytest.fixture
async def api() -> AsyncIterator[FakeSlackApi]:
    fake = FakeSlackApi(
        users={HEAD: HEAD_EMAIL, OPS: OPS_EMAIL, ANALYST: ANALYST_EMAIL, DEPUTY: DEPUTY_EMAIL},
        channels={"general": "C0GENERAL1", "citistat": "C0CITISTAT"},
    )
    await fake.start()
    yield fake
    await fake.close()


async def send_the_brief(slack: Slack, uow: SqlUnitOfWorkFactory, clock: FakeClock) -> SessionDocument:
    """Sanitation's brief (session #1): an analyst adds a question, then clicks Send now."""
    await plan_sessions(uow, clock)
    await slack.command(f"brief 1 add {TYPED}", user=ANALYST)
    (send,) = [b for b in buttons_in(slack.responses()[-1].get("blocks")) if "brief.send" in b["action_id"]]
    await slack.click(send, user=ANALYST, channel="C0GENERAL1")
    assert "Sent the brief for session #1 to 2 people." in json.dumps(slack.responses()[-1])
    async with uow() as work:
        document = await work.session_documents.of(1, DocumentKind.BRIEF)
    assert document is not None and document.state == "sent"
    return document


def card_in(api: FakeSlackApi, channel: str, starts: str) -> list[dict[str, Any]]:
    return [m for (c, _), m in api.messages.items() if c == channel and m["text"].startswith(starts)]


def context_texts(message: dict[str, Any]) -> list[str]:
    return [e["text"] for b in message["blocks"] if b["type"] == "context" for e in b["elements"]]


def pdf_text(content: bytes) -> str:
    return " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(content)).pages).split())


def files_in(api: FakeSlackApi, channel: str) -> list[SharedFile]:
    return [f for f in api.shared if f.channel == channel]


async def test_the_briefs_readers_get_the_card_and_both_files_in_its_thread(
    slack: Slack, org_uow: SqlUnitOfWorkFactory, clock: FakeClock, api: FakeSlackApi
) -> None:
    document = await send_the_brief(slack, org_uow, clock)
    assert (await drain(org_uow, slack.adapter.gateway, clock)).sent >= 4  # two drafts, two briefs
    for user in (OPS, ANALYST):
        dm = f"D{user}"
        (card,) = card_in(api, dm, "Brief for session #1: Sanitation")
        assert (
            "📎 session-1-sanitation-brief.pdf, session-1-sanitation-brief.md in the thread below. "
            "Type “brief 1” to see it again."
        ) in context_texts(card)
        pdf, markdown = files_in(api, dm)
        assert [pdf.filename, markdown.filename] == [
            "session-1-sanitation-brief.pdf",
            "session-1-sanitation-brief.md",
        ]
        assert pdf.title == "Brief for session #1: Sanitation (PDF)"
        assert markdown.title == "Brief for session #1: Sanitation (Markdown)"
        assert pdf.thread_ts == markdown.thread_ts == card["ts"]  # threaded under the card
        assert pdf.content.startswith(b"%PDF-")
        assert markdown.content.decode("utf-8") == document.body
        # The PDF shows the brief, and what the analyst typed exactly as typed.
        shown = pdf_text(pdf.content)
        assert "Brief for session #1: Sanitation" in shown and TYPED in shown
        # The draft went without files: it still changes.
        (draft,) = card_in(api, dm, "Draft brief for session #1")
        assert not any("📎" in t for t in context_texts(draft))
    # One share per reader, both files in it.
    assert [len(json.loads(c.params["files"])) for c in api.ok_calls("files.completeUploadExternal")] == [
        2,
        2,
    ]


@pytest.mark.parametrize(
    ("method", "after"),
    [
        ("files.getUploadURLExternal", 1),  # the Markdown's URL, after the PDF went up
        ("upload", 1),  # the Markdown's bytes
        ("files.completeUploadExternal", 0),  # the share of both
    ],
)
async def test_a_retry_after_a_failure_part_way_shows_each_file_once(
    slack: Slack,
    org_uow: SqlUnitOfWorkFactory,
    clock: FakeClock,
    api: FakeSlackApi,
    method: str,
    after: int,
) -> None:
    document = await send_the_brief(slack, org_uow, clock)
    slack.adapter.gateway.sender.base_backoff = 0.01
    api.fail(method, status=500, times=20, after=after)
    first = await drain(org_uow, slack.adapter.gateway, clock)
    assert first.retried >= 1
    assert [f.filename for f in api.shared if f.filename.endswith(".pdf")] == []  # nothing shared half-way
    api.recover()
    clock.advance(dt.timedelta(minutes=10))
    assert (await drain(org_uow, slack.adapter.gateway, clock)).sent >= 1
    for user in (OPS, ANALYST):
        dm = f"D{user}"
        (card,) = card_in(api, dm, "Brief for session #1: Sanitation")  # posted once
        shared = files_in(api, dm)
        assert [f.filename for f in shared] == [
            "session-1-sanitation-brief.pdf",
            "session-1-sanitation-brief.md",
        ]
        assert {f.thread_ts for f in shared} == {card["ts"]}
        assert shared[1].content.decode("utf-8") == document.body
    briefs = [
        c for c in api.ok_calls("chat.postMessage") if c.params["text"].startswith("Brief for session #1")
    ]
    assert len(briefs) == 2
    async with org_uow() as work:
        assert await work.deliveries.pending_count() == 0  # nothing left to send


async def test_a_document_that_cannot_be_had_leaves_the_card_saying_how_to_read_it(
    slack: Slack, org_uow: SqlUnitOfWorkFactory, clock: FakeClock, api: FakeSlackApi, caplog: Any
) -> None:
    gone = Attachment(
        ref="session-document:999",
        filename="session-9-sanitation-brief",
        title="Brief for session #9: Sanitation",
        command="brief 9",
    )
    card = Card(
        parts=(Heading(text="Brief for session #9: Sanitation"), gone), summary="Brief for session #9"
    )
    async with org_uow() as work:
        await enqueue(work, audience="channel:citistat", message=card, key="gone", now=clock.now())
        await work.commit()
    with caplog.at_level(logging.WARNING):
        assert (await drain(org_uow, slack.adapter.gateway, clock)).sent == 1
    (posted,) = card_in(api, "C0CITISTAT", "Brief for session #9")
    assert context_texts(posted) == ["📎 Brief for session #9: Sanitation: Type “brief 9” to see it again."]
    assert api.shared == [] and api.all_calls("files.getUploadURLExternal") == []
    (line,) = [r for r in caplog.records if "session-document:999" in r.getMessage()]
    assert line.levelno == logging.WARNING


async def test_the_approved_memo_reaches_the_units_dms_with_its_files(
    slack: Slack, org_uow: SqlUnitOfWorkFactory, clock: FakeClock, api: FakeSlackApi
) -> None:
    await plan_sessions(org_uow, clock)
    clock.set(dt.datetime(2026, 12, 1, 15, 10, tzinfo=dt.UTC))  # Sanitation's session, under way
    await slack.command(f"promise @{HEAD_EMAIL} Clear the bulk-item backlog by Dec 18", user=OPS)
    await slack.command(f"note {TYPED}", user=ANALYST)
    await slack.command("session close", user=OPS)
    answer = slack.responses()[-1]
    (approve,) = [b for b in buttons_in(answer.get("blocks")) if "memo.approve" in b["action_id"]]
    await slack.click(approve, user=OPS, channel="C0GENERAL1")
    await drain(org_uow, slack.adapter.gateway, clock)
    async with org_uow() as work:
        memo = await work.session_documents.of(1, DocumentKind.MEMO)
    assert memo is not None
    for user in (HEAD, DEPUTY, ANALYST):
        dm = f"D{user}"
        (card,) = card_in(api, dm, "Memo: Sanitation")
        pdf, markdown = files_in(api, dm)
        assert [pdf.filename, markdown.filename] == [
            "session-1-sanitation-memo.pdf",
            "session-1-sanitation-memo.md",
        ]
        assert pdf.thread_ts == markdown.thread_ts == card["ts"]
        assert markdown.content.decode("utf-8") == memo.body
        assert "Clear the bulk-item backlog" in pdf_text(pdf.content)
    # The chair approved it in the chat: no copy of the memo, so no files, in their DM.
    assert files_in(api, f"D{OPS}") == []
