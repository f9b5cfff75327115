"""A Slack event whose turn shutdown cuts off (issue 10, item 8), through the real bolt
app over HTTP: before the core finished, its id is forgotten and Slack's retry of the
event is processed; after, its change stays done once and its answer goes out through
the outbox."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.clock import FakeClock
from bot.deliveries.jobs import drain
from storage.uow import SqlUnitOfWorkFactory
from tests.fakes.slack_socket import wait_until
from tests.fakes.slow import SlowSlackApi
from tests.helpers import pid
from tests.test_slack_app import HEAD, HEAD_EMAIL, Slack, _settings, _slack

RETRY = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}


@pytest.fixture
async def slow_api() -> AsyncIterator[SlowSlackApi]:
    api = SlowSlackApi(users={HEAD: HEAD_EMAIL})
    await api.start()
    yield api
    api.release.set()
    await api.close()


@pytest.fixture
async def slack(
    engine: AsyncEngine, org_uow: SqlUnitOfWorkFactory, db_url: str, clock: FakeClock, slow_api: SlowSlackApi
) -> AsyncIterator[Slack]:
    # As `serve` runs it: acks first, the turns after them are tasks shutdown can cut off.
    async for s in _slack(
        _settings(db_url, slow_api), engine, clock, slow_api, process_before_response=False
    ):
        yield s


def _posted_to_head(api: SlowSlackApi) -> list[str]:
    return [
        json.dumps(c.params) for c in api.ok_calls("chat.postMessage") if c.params["channel"] == f"D{HEAD}"
    ]


def _to_head(api: SlowSlackApi) -> str:
    return " ".join(_posted_to_head(api))


def _messages_to_head(api: SlowSlackApi, words: str) -> int:
    return sum(words in message for message in _posted_to_head(api))


async def test_a_dm_cut_off_before_the_core_is_processed_when_slack_retries_it(
    slack: Slack, slow_api: SlowSlackApi
) -> None:
    slow_api.slow_users = {HEAD: 60.0}  # who HEAD is, on first contact: never, here
    assert (await slack.dm("status", event_id="EvCut")).status == 200
    await wait_until(lambda: "users.info" in slow_api.asked, what="the turn to ask who HEAD is")
    await slack.adapter.finish(0)  # shutdown's grace is over
    assert _posted_to_head(slow_api) == []

    slow_api.slow_users = {}
    assert (await slack.dm("status", event_id="EvCut", headers=RETRY)).status == 200
    await slack.adapter.wait_idle()
    assert "Sanitation" in _to_head(slow_api)  # the retry was processed, not dropped


async def test_a_dm_cut_off_after_the_core_is_done_once_and_answered_through_the_outbox(
    slack: Slack, slow_api: SlowSlackApi, org_uow: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    await slack.dm("status")  # HEAD is linked on first contact
    await slack.adapter.wait_idle()
    slow_api.slow_methods = {"chat.postMessage": 60.0}
    slow_api.asked.clear()
    assert (await slack.dm("commit Fix the hotline by Friday", event_id="EvPromise")).status == 200
    await wait_until(lambda: "chat.postMessage" in slow_api.asked, what="the turn to answer")
    await slack.adapter.finish(0)  # shutdown's grace is over
    assert "Fix the hotline" not in _to_head(slow_api)

    slow_api.slow_methods = {}
    assert (
        await slack.dm("commit Fix the hotline by Friday", event_id="EvPromise", headers=RETRY)
    ).status == 200
    await slack.adapter.wait_idle()
    assert "Fix the hotline" not in _to_head(slow_api)  # the retry is not run again ...
    await drain(org_uow, slack.adapter.gateway, clock)  # ... the outbox answers instead
    assert _messages_to_head(slow_api, "Fix the hotline") == 1
    async with org_uow() as work:
        assert len(await work.commitments.open_for_owner(await pid(org_uow, HEAD_EMAIL))) == 1
