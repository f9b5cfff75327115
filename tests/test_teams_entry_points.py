"""`statbot tick` as a real process (the way cron runs it) with Teams configured: the prompts
go out proactively to the stored conversation references, through the fake Bot Connector."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.org.schema import load_org
from storage.engine import create_engine, session_factory
from storage.uow import SqlUnitOfWorkFactory
from tests.conftest import EXAMPLE_ORG
from tests.fakes.bot_connector import FakeBotConnector
from tests.test_entry_points import A_MINUTE_LATER, THURSDAY, base_env, prepared, statbot


@pytest.fixture
async def connector() -> AsyncIterator[FakeBotConnector]:
    fake = FakeBotConnector()
    await fake.start()
    yield fake
    await fake.close()


async def _install_for_everyone(db_url: str, service_url: str) -> dict[str, str]:
    """What the personal install stores for each person (conversationUpdate): their Teams
    id and conversation reference.  Returns e-mail → conversation id."""
    engine = create_engine(db_url)
    conversations: dict[str, str] = {}
    try:
        uow_factory = SqlUnitOfWorkFactory(session_factory(engine))
        async with uow_factory() as uow:
            for n, person in enumerate(await uow.people.all(), start=1):
                conversation = f"a:dm-{n}"
                person.teams_user_id = f"29:user-{n}"
                person.teams_conversation = {
                    "user": {"id": person.teams_user_id},
                    "bot": {"id": "28:statbot", "name": "statbot"},
                    "conversation": {"id": conversation, "conversationType": "personal", "tenantId": "t1"},
                    "channelId": "msteams",
                    "serviceUrl": service_url,
                }
                await uow.people.save(person)
                conversations[person.email] = conversation
            await uow.commit()
    finally:
        await engine.dispose()
    return conversations


async def test_tick_from_cron_delivers_prompts_on_teams(tmp_path: Path, connector: FakeBotConnector) -> None:
    env = {**base_env(tmp_path), "STATBOT_TEAMS_EMULATOR": "1"}
    await prepared(env, tmp_path)
    conversations = await _install_for_everyone(env["STATBOT_DATABASE_URL"], connector.url)
    connector.fail(429, times=1)
    connector.fail(502, times=1)
    code, out, err = await statbot("tick", "--at", THURSDAY, env=env, cwd=tmp_path)
    assert code == 0, err
    posted = connector.posted
    org = load_org(str(EXAMPLE_ORG))
    assert len(posted) >= len(org.units) - 1  # one unit may be excused (its people away)
    assert {p.conversation for p in posted} <= set(conversations.values())
    assert len({(p.conversation, json_of(p)) for p in posted}) == len(posted), "nothing sent twice"
    assert connector.refused == [429, 502]
    assert any(
        "Weekly check-in" in p.activity["attachments"][0]["content"]["fallbackText"] for p in posted
    ) or any("check-in" in t.lower() for t in connector.texts())
    assert f"deliveries: {len(posted)} sent, 0 to retry, 0 failed" in out
    assert "no Slack or Teams credentials" not in out
    code, out, err = await statbot("tick", "--at", A_MINUTE_LATER, env=env, cwd=tmp_path)
    assert code == 0, err
    assert len(connector.posted) == len(posted)
    assert "deliveries: 0 sent" in out


def json_of(posted: object) -> str:
    import json

    return json.dumps(getattr(posted, "activity", {}).get("attachments"), sort_keys=True)
