"""Slack and Teams side by side: the same core scenario through each platform's fake stores
the same readings and commitments; an org with people on both gets each message on the
right platform, exactly once."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.runtime import SlackOptions, TeamsOptions, open_runtime
from bot.checkins.jobs import open_due_checkins
from bot.clock import FakeClock
from bot.deliveries.jobs import drain
from storage.uow import SqlUnitOfWorkFactory
from tests.fakes.bot_connector import FakeBotConnector
from tests.fakes.slack_api import FakeSlackApi
from tests.helpers import ny, person
from tests.test_slack_app import GOOD, HEAD_EMAIL, Slack, _prompt_button, _settings
from tests.test_slack_app import api as api
from tests.test_slack_app import slack as slack
from tests.test_teams_app import HEAD as TEAMS_HEAD
from tests.test_teams_app import Teams, _find, _invoke
from tests.test_teams_app import connector as connector
from tests.test_teams_app import teams as teams

COMMIT = "commit Fix the hotline by Friday"


async def _stored(org_uow: SqlUnitOfWorkFactory) -> tuple[list[float], list[tuple[str, str, str]]]:
    async with org_uow() as uow:
        unit = await uow.units.by_key("sanitation")
        assert unit is not None and unit.id is not None
        readings = sorted(r.value for r in await uow.readings.for_unit_week(unit.id, "2026-W49"))
        head = await uow.people.by_email(HEAD_EMAIL)
        assert head is not None and head.id is not None
        promised = sorted(
            (c.text, c.due_on.isoformat(), str(c.status))
            for c in await uow.commitments.open_for_owner(head.id)
        )
    return readings, promised


EXPECTED = (sorted(float(v) for v in GOOD.values()), [("Fix the hotline", "2026-12-04", "open")])


async def test_the_core_scenario_through_slack(
    slack: Slack,
    org_uow: SqlUnitOfWorkFactory,
    clock: FakeClock,
) -> None:
    button = await _prompt_button(slack, org_uow, clock)
    await slack.click(button, channel="DU0HEAD0001", trigger="trig.fill")
    response = await slack.submit(slack.last_modal(), GOOD)
    assert response.status == 200
    await slack.dm(COMMIT)
    assert await _stored(org_uow) == EXPECTED


async def test_the_core_scenario_through_teams(
    teams: Teams,
    org_uow: SqlUnitOfWorkFactory,
    clock: FakeClock,
) -> None:
    await teams.say(TEAMS_HEAD, "help")
    clock.set(ny(2026, 12, 3, 9, 30))
    await open_due_checkins(org_uow, clock)
    await drain(org_uow, teams.runtime.gateway, clock)
    prompt = teams.connector.to(f"a:dm-{TEAMS_HEAD}")[-1]
    assert "Weekly check-in" in json.dumps(prompt.activity, ensure_ascii=False)
    fill = _find(prompt.cards, "Action.Execute")
    assert fill is not None and fill["title"] == "Fill in this week's numbers"
    opened = await (await teams.post(_invoke(teams, TEAMS_HEAD, fill["data"]))).json()
    submit = _find(opened["value"], "Action.Execute")
    assert submit is not None
    await teams.say(TEAMS_HEAD, "", value={**submit["data"], **{f"in.{k}": v for k, v in GOOD.items()}})
    await teams.say(TEAMS_HEAD, COMMIT)
    assert await _stored(org_uow) == EXPECTED


# --- a mixed org -----------------------------------------------------------------------------


@pytest.fixture
async def both(
    engine: AsyncEngine,
    org_uow: SqlUnitOfWorkFactory,
    db_url: str,
    clock: FakeClock,
    api: FakeSlackApi,
    connector: FakeBotConnector,
) -> AsyncIterator[tuple[Any, FakeSlackApi, FakeBotConnector]]:
    async with open_runtime(
        _settings(db_url, api),
        clock=clock,
        engine=engine,
        uow=org_uow,
        slack=SlackOptions(per_channel_interval=0, process_before_response=True),
        teams=TeamsOptions(),
    ) as runtime:
        assert sorted(runtime.platforms) == ["slack", "teams"]
        async with TestClient(TestServer(runtime.web_app(), host="127.0.0.1", port=0)) as client:
            yield runtime, client, api, connector


async def test_a_mixed_org_gets_each_prompt_once_on_its_platform(
    both: tuple[Any, Any, FakeSlackApi, FakeBotConnector], org_uow: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    runtime, client, api, connector = both
    async with org_uow() as uow:
        people = sorted(await uow.people.all(), key=lambda p: p.email)
    on_teams = {p.email for p in people[::2]}
    on_slack = {p.email for p in people[1::2]}
    # Teams people installed the app (their conversation is stored by a real install).
    teams = Teams(client, connector, runtime)
    for n, p in enumerate(people):
        if p.email in on_teams:
            user = f"29:t{n}"
            connector.members[user] = {"name": p.name, "email": p.email}
            await teams.say(user, "help")
    # Slack people are found by e-mail, as `org apply` links them.
    api.users.update({f"U{n:08d}": p.email for n, p in enumerate(people) if p.email in on_slack})
    before_teams = len(connector.posted)
    clock.set(ny(2026, 12, 3, 9, 30))
    await open_due_checkins(org_uow, clock)
    result = await drain(org_uow, runtime.gateway, clock)
    assert result.failed == 0 and result.retried == 0
    async with org_uow() as uow:
        prompted = {
            d.audience for d in await uow.deliveries.since(0) if d.idempotency_key.startswith("checkin")
        }
    assert prompted
    by_id = {f"person:{p.id}": p.email for p in people}
    teams_posts = Counter(p.conversation for p in connector.posted[before_teams:])
    slack_posts = Counter(str(c.params["channel"]) for c in api.ok_calls("chat.postMessage"))
    assert all(n == 1 for n in teams_posts.values()) and all(n == 1 for n in slack_posts.values())
    for audience in prompted:
        email = by_id[audience]
        linked = await person(org_uow, email)
        if email in on_teams:
            assert linked.teams_conversation is not None
            assert teams_posts[linked.teams_conversation["conversation"]["id"]] == 1, email
            assert linked.slack_dm_channel not in slack_posts
        else:
            assert linked.slack_dm_channel is not None and slack_posts[linked.slack_dm_channel] == 1, email
    assert sum(teams_posts.values()) + sum(slack_posts.values()) == len(prompted)
