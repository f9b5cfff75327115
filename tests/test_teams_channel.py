"""The Teams leadership channel, driven for real: the org file names it as
``<team id>/<channel id>``; the digest for a week in which a unit was asked goes out through
the Teams adapter's proactive sender to that channel's conversation on the fake Bot
Connector, reached through the service URL of a stored personal reference."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.runtime import TeamsOptions, open_runtime
from adapters.settings import Settings
from adapters.teams.render import render_card_messages
from bot.clock import FakeClock
from bot.deliveries.jobs import drain
from bot.deliveries.models import Delivery
from bot.deliveries.service import enqueue
from bot.digests.service import post_now
from bot.messages import Card, paragraph
from bot.org.apply import apply_org
from storage.uow import SqlUnitOfWorkFactory
from tests.fakes.bot_connector import FakeBotConnector
from tests.helpers import ny
from tests.test_escalations import _sanitation_checkin
from tests.test_platforms import org_with

TEAM, CHANNEL = "19:team@thread.tacv2", "19:leadership@thread.tacv2"
AUDIENCE = f"channel:teams:{TEAM}/{CHANNEL}"
HEAD, HEAD_EMAIL = "29:head-robert", "robert.hayes@riverton.gov"


@pytest.fixture
async def connector() -> AsyncIterator[FakeBotConnector]:
    fake = FakeBotConnector()
    await fake.start()
    yield fake
    await fake.close()


@pytest.fixture
async def channel_org(uow: SqlUnitOfWorkFactory, clock: FakeClock, tmp_path: Path) -> SqlUnitOfWorkFactory:
    """The example org, its leadership channel named on both platforms, from an org file."""
    org = org_with(tmp_path, leadership_channel={"slack": "citistat", "teams": f"{TEAM}/{CHANNEL}"})
    async with uow() as work:
        await apply_org(work, org, now=clock.now())
        await work.commit()
    return uow


async def _install(uow: SqlUnitOfWorkFactory, email: str, service_url: str) -> None:
    """What a personal install stores for one person (conversationUpdate)."""
    async with uow() as work:
        found = await work.people.by_email(email)
        assert found is not None
        found.teams_user_id = HEAD
        found.teams_conversation = {
            "user": {"id": found.teams_user_id},
            "bot": {"id": "28:statbot", "name": "statbot"},
            "conversation": {"id": "a:dm-head", "conversationType": "personal", "tenantId": "tenant-1"},
            "channelId": "msteams",
            "serviceUrl": service_url,
        }
        await work.people.save(found)
        await work.commit()


def _runtime(db_url: str, clock: FakeClock, engine: AsyncEngine, uow: SqlUnitOfWorkFactory) -> Any:
    return open_runtime(
        Settings(STATBOT_DATABASE_URL=db_url), clock=clock, engine=engine, uow=uow, teams=TeamsOptions()
    )


async def _channel_deliveries(uow: SqlUnitOfWorkFactory) -> list[Delivery]:
    async with uow() as work:
        return list(await work.deliveries.for_audience(AUDIENCE))


async def test_the_digest_reaches_the_teams_leadership_channel_once(
    channel_org: SqlUnitOfWorkFactory,
    clock: FakeClock,
    engine: AsyncEngine,
    db_url: str,
    connector: FakeBotConnector,
) -> None:
    await _install(channel_org, HEAD_EMAIL, connector.url)
    await _sanitation_checkin(channel_org, clock)  # a week in which a unit was asked
    clock.set(ny(2026, 12, 7, 8, 30))
    assert (await post_now(channel_org, clock, "2026-W49")).posted
    queued = sorted(await _channel_deliveries(channel_org), key=lambda d: d.idempotency_key)
    assert queued, "the digest was queued for the Teams channel"
    # Each queued part of the digest, as the renderer makes it for Teams.
    expected = [
        render_card_messages(Card.model_validate(d.payload), mention_ids={HEAD_EMAIL: HEAD}) for d in queued
    ]
    async with _runtime(db_url, clock, engine, channel_org) as runtime:
        assert runtime.teams is not None and runtime.gateways["teams"] is runtime.teams.gateway
        await drain(runtime.uow, runtime.gateway, clock)
        in_channel = connector.to(CHANNEL)
        # Not the team's id, nor the whole "<team>/<channel>" name.
        assert not connector.to(TEAM) and not connector.to(f"{TEAM}/{CHANNEL}")
        assert [p.cards for p in in_channel] == [[c] for cards in expected for c in cards]
        assert all(len(cards) == 1 for cards in expected), "one activity per part"
        for posted in in_channel:
            assert posted.activity["conversation"]["id"] == CHANNEL
            assert posted.cards[0]["type"] == "AdaptiveCard"
        sent = sorted(await _channel_deliveries(channel_org), key=lambda d: d.idempotency_key)
        assert [d.state for d in sent] == ["sent"] * len(queued)
        assert [d.platform_ref for d in sent] == [p.id for p in in_channel]
        sent_before = len(connector.posted)
        again = await drain(runtime.uow, runtime.gateway, clock)
        assert again.sent == 0
        assert len(connector.posted) == sent_before


async def test_without_any_stored_teams_reference_the_channel_delivery_waits_with_a_reason(
    channel_org: SqlUnitOfWorkFactory,
    clock: FakeClock,
    engine: AsyncEngine,
    db_url: str,
    connector: FakeBotConnector,
) -> None:
    card = Card(parts=(paragraph("Leadership, hello"),), summary="Leadership, hello")
    async with channel_org() as work:
        await enqueue(work, audience=AUDIENCE, message=card, key="teams channel", now=clock.now())
        await work.commit()
    async with _runtime(db_url, clock, engine, channel_org) as runtime:
        result = await drain(runtime.uow, runtime.gateway, clock)
    assert (result.sent, result.retried, result.failed) == (0, 1, 0)
    assert connector.posted == []
    (waiting,) = await _channel_deliveries(channel_org)
    assert waiting.state == "pending" and waiting.attempts == 1
    assert "no Teams conversation stored yet" in (waiting.last_error or "")
    assert waiting.next_attempt_at > clock.now()
