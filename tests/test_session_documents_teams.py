"""A sent brief reaches Teams with links to its files: a bot cannot simply attach a file
in a personal chat, so the card links the PDF and the Markdown that statbot hosts under
STATBOT_PUBLIC_URL with a signed, unguessable id.  Through the real /api/messages and
outbox against the fake Bot Connector, then the links fetched from the bot's server; a
wrong signature gets 404; without a public URL the card says how to read it in the chat."""

from __future__ import annotations

import io
import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from pypdf import PdfReader
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.runtime import TeamsOptions, open_runtime
from adapters.settings import Settings
from bot.clock import FakeClock
from bot.deliveries.jobs import drain
from bot.sessions.jobs import plan_sessions
from bot.sessions.models import DocumentKind, SessionDocument
from storage.uow import SqlUnitOfWorkFactory
from tests.fakes.bot_connector import FakeBotConnector
from tests.test_teams_app import Teams, _invoke, _walk

PUBLIC_URL = "https://stat.riverton.gov"
CHAIR, ANALYST = "29:luis", "29:jordan"
TYPED = "Ask about **the new trucks** <b>now</b> — Zoë’s “plan” → ▼ `route 7`"


@pytest.fixture
async def connector() -> AsyncIterator[FakeBotConnector]:
    fake = FakeBotConnector(
        members={
            CHAIR: {"name": "Luis Ortega", "email": "luis.ortega@riverton.gov"},
            ANALYST: {"name": "Jordan Kim", "email": "jordan.kim@riverton.gov"},
        }
    )
    await fake.start()
    yield fake
    await fake.close()


async def _teams(
    public_url: str | None,
    engine: AsyncEngine,
    uow: SqlUnitOfWorkFactory,
    db_url: str,
    clock: FakeClock,
    connector: FakeBotConnector,
) -> AsyncIterator[Teams]:
    settings = Settings(STATBOT_DATABASE_URL=db_url, STATBOT_PUBLIC_URL=public_url)
    async with (
        open_runtime(settings, clock=clock, engine=engine, uow=uow, teams=TeamsOptions()) as runtime,
        TestClient(TestServer(runtime.web_app(), host="127.0.0.1", port=0)) as client,
    ):
        yield Teams(client, connector, runtime)


@pytest.fixture
async def teams(
    engine: AsyncEngine,
    org_uow: SqlUnitOfWorkFactory,
    db_url: str,
    clock: FakeClock,
    connector: FakeBotConnector,
) -> AsyncIterator[Teams]:
    async for t in _teams(PUBLIC_URL, engine, org_uow, db_url, clock, connector):
        yield t


@pytest.fixture
async def teams_unhosted(
    engine: AsyncEngine,
    org_uow: SqlUnitOfWorkFactory,
    db_url: str,
    clock: FakeClock,
    connector: FakeBotConnector,
) -> AsyncIterator[Teams]:
    async for t in _teams(None, engine, org_uow, db_url, clock, connector):
        yield t


async def send_the_brief(teams: Teams, uow: SqlUnitOfWorkFactory, clock: FakeClock) -> SessionDocument:
    """Both readers install (say hello); an analyst adds a question to Sanitation's brief
    (session #1) and clicks Send now on the draft card."""
    for user in (CHAIR, ANALYST):
        await teams.say(user, "help")
    await plan_sessions(uow, clock)
    await teams.say(ANALYST, f"brief 1 add {TYPED}")
    draft = teams.connector.to(f"a:dm-{ANALYST}")[-1].cards
    (send,) = [a for a in _walk(draft, "Action.Execute") if a["data"].get("action") == "brief.send"]
    response = await teams.post(_invoke(teams, ANALYST, send["data"]))
    assert response.status == 200
    async with uow() as work:
        document = await work.session_documents.of(1, DocumentKind.BRIEF)
    assert document is not None and document.state == "sent"
    await drain(uow, teams.runtime.gateway, clock)
    return document


def runs(teams: Teams, user: str) -> list[dict[str, Any]]:
    """The text runs of the sent brief's card in the person's chat (there is one)."""
    (card,) = [
        c
        for p in teams.connector.to(f"a:dm-{user}")
        for c in p.cards
        if c.get("fallbackText") == "Brief for session #1: Sanitation"
    ]
    return [r for block in _walk(card, "RichTextBlock") for r in block["inlines"]]


def links(teams: Teams, user: str) -> list[tuple[str, str]]:
    return [(r["text"], r["selectAction"]["url"]) for r in runs(teams, user) if "selectAction" in r]


def text_of_card(teams: Teams, user: str) -> str:
    return "".join(r["text"] for r in runs(teams, user))


async def test_the_brief_links_its_pdf_and_markdown_hosted_under_the_public_url(
    teams: Teams, org_uow: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    document = await send_the_brief(teams, org_uow, clock)
    for user in (CHAIR, ANALYST):
        found = links(teams, user)
        assert [name for name, _ in found] == [
            "session-1-sanitation-brief.pdf",
            "session-1-sanitation-brief.md",
        ]
        pattern = rf"{re.escape(PUBLIC_URL)}/documents/{document.id}-[0-9a-f]{{32}}\.(pdf|md)"
        assert all(re.fullmatch(pattern, url) for _, url in found), found
        assert "Type “brief 1” to see it again." in text_of_card(teams, user)
    (_, pdf_url), (_, md_url) = links(teams, ANALYST)
    pdf = await teams.client.get(pdf_url.removeprefix(PUBLIC_URL))
    assert pdf.status == 200 and pdf.content_type == "application/pdf"
    assert pdf.headers["Content-Disposition"] == 'inline; filename="session-1-sanitation-brief.pdf"'
    content = await pdf.read()
    assert content.startswith(b"%PDF-")
    shown = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(content)).pages).split())
    assert "Brief for session #1: Sanitation" in shown and TYPED in shown
    markdown = await teams.client.get(md_url.removeprefix(PUBLIC_URL))
    assert markdown.status == 200 and markdown.content_type == "text/markdown"
    assert markdown.headers["Content-Disposition"] == 'attachment; filename="session-1-sanitation-brief.md"'
    assert (await markdown.text()) == document.body


async def test_a_wrong_or_tampered_link_finds_nothing(
    teams: Teams, org_uow: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    document = await send_the_brief(teams, org_uow, clock)
    (_, pdf_url), _ = links(teams, CHAIR)
    path = pdf_url.removeprefix(PUBLIC_URL)
    signature = path.rsplit("-", 1)[1].removesuffix(".pdf")
    tampered = signature[:-1] + ("0" if signature[-1] != "0" else "1")
    adapter = teams.runtime.teams
    async with org_uow() as work:
        await work.session_documents.add_if_absent(
            SessionDocument(
                session_id=2,
                kind=DocumentKind.BRIEF,
                state="draft",
                body="# A draft",
                created_at=clock.now(),
                updated_at=clock.now(),
            )
        )
        draft = await work.session_documents.of(2, DocumentKind.BRIEF)
        await work.commit()
    assert draft is not None and draft.id is not None
    for wrong in (
        f"/documents/{document.id}-{tampered}.pdf",  # tampered signature
        f"/documents/{document.id}-{signature.upper()}.pdf",
        f"/documents/{(document.id or 0) + 1}-{signature}.pdf",  # another document, same signature
        f"/documents/{document.id}-{signature}.txt",
        f"/documents/{document.id}.pdf",
        f"/documents/{draft.id}-{adapter.document_signature(f'session-document:{draft.id}')}.pdf",  # a draft
        f"/documents/999-{adapter.document_signature('session-document:999')}.md",  # signed, never kept
        f"/teams/charts/session-document:{document.id}/{signature}.png",  # not a chart's signature
    ):
        response = await teams.client.get(wrong)
        assert response.status == 404, wrong
    assert (await teams.client.get(path)).status == 200


async def test_without_a_public_url_the_card_says_how_to_read_it(
    teams_unhosted: Teams, org_uow: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    await send_the_brief(teams_unhosted, org_uow, clock)
    for user in (CHAIR, ANALYST):
        assert links(teams_unhosted, user) == []
        assert "📎 Brief for session #1: Sanitation: Type “brief 1” to see it again." in text_of_card(
            teams_unhosted, user
        )
