"""Contract tests: real-shaped activities posted to the real POST /api/messages (botbuilder's
CloudAdapter, auth off, loopback), replies going to a fake Bot Connector on 127.0.0.1."""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.runtime import TeamsOptions, open_runtime
from adapters.settings import Settings
from bot.checkins.jobs import open_due_checkins
from bot.clock import FakeClock
from bot.deliveries.jobs import drain
from bot.messages import Reply
from storage.uow import SqlUnitOfWorkFactory
from tests.fakes.bot_connector import FakeBotConnector
from tests.helpers import ny, person

# Shaped as Teams sends them (the Bot Framework's documented payloads).
CHANNEL_MENTION: dict[str, Any] = {
    "type": "message",
    "channelId": "msteams",
    "text": "<at>statbot</at> stat help",
    "id": "1759944781430",
    "channelData": {
        "teamsChannelId": "19:chan@thread.tacv2",
        "teamsTeamId": "19:team@thread.tacv2",
        "channel": {"id": "19:chan@thread.tacv2"},
        "team": {"id": "19:team@thread.tacv2"},
        "tenant": {"id": "tenant-1"},
    },
    "recipient": {"id": "28:statbot", "name": "statbot"},
    "conversation": {
        "id": "19:chan@thread.tacv2;messageid=1759881511856",
        "isGroup": True,
        "conversationType": "channel",
        "tenantId": "tenant-1",
    },
    "entities": [
        {"mentioned": {"id": "28:statbot", "name": "statbot"}, "text": "<at>statbot</at>", "type": "mention"},
        {
            "locale": "en-US",
            "country": "US",
            "platform": "Web",
            "timezone": "America/New_York",
            "type": "clientInfo",
        },
    ],
    "textFormat": "plain",
    "attachments": [
        {
            "contentType": "text/html",
            "content": '<p><span itemtype="http://schema.skype.com/Mention" itemscope="" itemid="0">statbot</span>'
            "&nbsp;stat help</p>",
        }
    ],
    "timestamp": "2025-10-08T17:33:01.4953744Z",
    "locale": "en-US",
}
PERSONAL_INSTALL: dict[str, Any] = {
    "membersAdded": [{"id": "28:statbot"}, {"id": "29:<userID>", "aadObjectId": "***"}],
    "type": "conversationUpdate",
    "timestamp": "2019-04-23T10:17:44.349Z",
    "id": "f:5f85c2ad",
    "channelId": "msteams",
    "from": {"id": "29:<USERID>", "aadObjectId": "***"},
    "conversation": {"conversationType": "personal", "id": "***"},
    "recipient": {"id": "28:statbot", "name": "statbot"},
    "channelData": {"tenant": {"id": "tenant-1"}},
}
HEAD, HEAD_EMAIL = "29:head-robert", "robert.hayes@riverton.gov"
STRANGER = "29:stranger"
BOT = {"id": "28:statbot", "name": "statbot"}
TENANT = "tenant-1"
GOOD = {
    "in.m.missed_pickups": "110",
    "in.m.tons_collected": "1950",
    "in.m.recycling_diversion": "26",
    "in.m.missed_pickups_48h": "92",
}


class Teams:
    def __init__(self, client: TestClient, connector: FakeBotConnector, runtime: Any) -> None:  # type: ignore[type-arg]
        self.client = client
        self.connector = connector
        self.runtime = runtime
        self._ids = itertools.count(1)

    def activity(self, user: str, *, personal: bool = True, **extra: Any) -> dict[str, Any]:
        conversation: dict[str, Any] = (
            {"id": f"a:dm-{user}", "conversationType": "personal", "tenantId": TENANT}
            if personal
            else {
                "id": "19:chan@thread.tacv2;messageid=1",
                "conversationType": "channel",
                "isGroup": True,
                "tenantId": TENANT,
            }
        )
        return {
            "type": "message",
            "id": f"m{next(self._ids)}",
            "channelId": "msteams",
            "serviceUrl": self.connector.url,
            "from": {"id": user, "name": "Someone", "aadObjectId": "aad-" + user},
            "recipient": BOT,
            "conversation": conversation,
            "channelData": {"tenant": {"id": TENANT}},
            **extra,
        }

    async def post(self, activity: dict[str, Any]) -> Any:
        return await self.client.post("/api/messages", json=activity)

    async def say(self, user: str, text: str, **kw: Any) -> Any:
        response = await self.post(self.activity(user, text=text, **kw))
        assert response.status in (200, 201), await response.text()
        return response


@pytest.fixture
async def connector() -> AsyncIterator[FakeBotConnector]:
    fake = FakeBotConnector(members={HEAD: {"name": "Robert Hayes", "email": HEAD_EMAIL.upper()}})
    await fake.start()
    yield fake
    await fake.close()


@pytest.fixture
async def teams(
    engine: AsyncEngine,
    org_uow: SqlUnitOfWorkFactory,
    db_url: str,
    clock: FakeClock,
    connector: FakeBotConnector,
) -> AsyncIterator[Teams]:
    settings = Settings(STATBOT_DATABASE_URL=db_url)
    async with open_runtime(
        settings, clock=clock, engine=engine, uow=org_uow, teams=TeamsOptions()
    ) as runtime:
        assert runtime.teams is not None and runtime.gateways["teams"] is runtime.teams.gateway
        async with TestClient(TestServer(runtime.web_app(), host="127.0.0.1", port=0)) as client:
            yield Teams(client, connector, runtime)


async def test_personal_message_links_the_person_by_email_and_answers_status(
    teams: Teams, org_uow: SqlUnitOfWorkFactory
) -> None:
    await teams.say(HEAD, "stat status")
    replies = teams.connector.to(f"a:dm-{HEAD}")
    assert len(replies) == 1 and replies[0].cards[0]["type"] == "AdaptiveCard"
    assert replies[0].cards[0]["version"] == "1.5"
    linked = await person(org_uow, HEAD_EMAIL)
    assert linked.teams_user_id == HEAD
    assert linked.teams_conversation is not None
    assert linked.teams_conversation["serviceUrl"] == teams.connector.url
    assert teams.connector.member_lookups == [HEAD]
    # Known now: no second look-up; "status" without the word stat gives the same answer.
    await teams.say(HEAD, "status")
    assert teams.connector.member_lookups == [HEAD]
    first, second = teams.connector.to(f"a:dm-{HEAD}")
    assert first.cards == second.cards


async def test_a_redelivered_activity_is_processed_once(teams: Teams) -> None:
    activity = teams.activity(HEAD, text="commit Fix the hotline by Friday")
    for _ in range(2):
        response = await teams.post(activity)
        assert response.status == 201
    assert len(teams.connector.to(f"a:dm-{HEAD}")) == 1
    await teams.say(HEAD, "commitments")
    assert any("Fix the hotline" in t for t in teams.connector.texts())


async def test_channel_message_with_mention_markup_is_a_command(teams: Teams) -> None:
    activity = {
        **CHANNEL_MENTION,
        "serviceUrl": teams.connector.url,
        "from": {"id": HEAD, "name": "Robert Hayes", "aadObjectId": "aad-robert"},
    }
    response = await teams.post(activity)
    assert response.status == 201
    (reply,) = teams.connector.to(CHANNEL_MENTION["conversation"]["id"])
    assert reply.reply_to is None or reply.reply_to == CHANNEL_MENTION["id"]
    assert any("commit" in t for t in teams.connector.texts())
    # Robert is linked, but a channel is not where his proactive messages go.
    assert teams.connector.member_lookups == [HEAD]


async def test_a_stranger_is_told_to_ask_an_admin(teams: Teams) -> None:
    await teams.say(STRANGER, "status")
    assert any("don't know you" in t for t in teams.connector.texts())


async def test_personal_install_stores_the_reference_and_greets(
    teams: Teams, org_uow: SqlUnitOfWorkFactory
) -> None:
    activity = {
        **PERSONAL_INSTALL,
        "serviceUrl": teams.connector.url,
        "from": {"id": HEAD},
        "recipient": BOT,
        "membersAdded": [{"id": BOT["id"]}, {"id": HEAD}],
        "conversation": {"conversationType": "personal", "id": f"a:dm-{HEAD}", "tenantId": TENANT},
    }
    response = await teams.post(activity)
    assert response.status == 201
    linked = await person(org_uow, HEAD_EMAIL)
    assert (
        linked.teams_conversation is not None
        and linked.teams_conversation["conversation"]["id"] == f"a:dm-{HEAD}"
    )
    greeting, home = teams.connector.to(f"a:dm-{HEAD}")
    assert "Hello! I'm statbot" in json.dumps(greeting.cards)
    # Teams has no home tab: the personal chat opens on the home card.
    (card,) = home.cards
    assert card["fallbackText"] == "statbot home for Robert Hayes"
    shown = json.dumps(card, ensure_ascii=False)
    assert "Your open commitments" in shown and "Check-ins" in shown


async def test_an_app_id_without_a_token_gets_401(
    engine: AsyncEngine,
    org_uow: SqlUnitOfWorkFactory,
    db_url: str,
    clock: FakeClock,
    connector: FakeBotConnector,
) -> None:
    settings = Settings(
        STATBOT_DATABASE_URL=db_url,
        MicrosoftAppId="00000000-0000-0000-0000-000000000001",
        MicrosoftAppPassword="pw",
    )
    async with open_runtime(settings, clock=clock, engine=engine, uow=org_uow) as runtime:
        assert runtime.teams is not None
        async with TestClient(TestServer(runtime.web_app(), host="127.0.0.1", port=0)) as client:
            t = Teams(client, connector, runtime)
            response = await t.post(t.activity(HEAD, text="status"))
            assert response.status == 401
    assert connector.posted == []


async def test_proactive_prompt_to_stored_readings_through_the_card(
    teams: Teams, org_uow: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    await teams.say(HEAD, "help")  # links Robert and stores his conversation
    clock.set(ny(2026, 12, 3, 9, 30))
    await open_due_checkins(org_uow, clock)
    teams.connector.fail(429, times=1)
    teams.connector.fail(502, times=1)
    result = await drain(org_uow, teams.runtime.gateway, clock)
    assert result
    prompts = [p for p in teams.connector.to(f"a:dm-{HEAD}")][1:]
    assert len(prompts) == 1, "sent once despite a 429 and a 502"
    assert teams.connector.refused == [429, 502]
    card = prompts[0].cards[0]
    submit = _find(card, "Action.Execute")
    assert submit is not None
    # The prompt's button opens the form in place of the card (Action.Execute invoke).
    response = await teams.post(_invoke(teams, HEAD, submit["data"]))
    assert response.status == 200
    opened = await response.json()
    assert opened["statusCode"] == 200 and opened["type"] == "application/vnd.microsoft.card.adaptive"
    form_submit = _find(opened["value"], "Action.Execute")
    assert form_submit is not None and form_submit["data"]["statbot"] == "form"
    # A bad value comes back on the same card, with what was typed kept.
    data = {**form_submit["data"], **GOOD, "in.m.missed_pickups": "lots"}
    response = await teams.post(_invoke(teams, HEAD, data))
    assert response.status == 200
    body = await response.json()
    field = next(e for e in body["value"]["body"] if e.get("id") == "in.m.missed_pickups")
    assert field["value"] == "lots"
    assert any(run.get("color") == "Attention" for e in body["value"]["body"] for run in e.get("inlines", []))
    # Action.Submit with good values (strings) stores the readings.
    resubmit = _find(body["value"], "Action.Execute")
    assert resubmit is not None
    await teams.say(HEAD, "", value={**resubmit["data"], **GOOD})
    async with org_uow() as uow:
        unit = await uow.units.by_key("sanitation")
        assert unit is not None and unit.id is not None
        readings = await uow.readings.for_unit_week(unit.id, "2026-W49")
    assert {r.value for r in readings} >= {110.0, 1950.0, 26.0, 92.0}


def _invoke(teams: Teams, user: str, data: dict[str, Any]) -> dict[str, Any]:
    activity = teams.activity(user)
    activity.update(
        type="invoke",
        name="adaptiveCard/action",
        value={"action": {"type": "Action.Execute", "verb": "statbot", "data": data}, "trigger": "manual"},
    )
    return activity


def _find(node: Any, kind: str) -> dict[str, Any] | None:
    if isinstance(node, dict):
        if node.get("type") == kind:
            return node
        for value in node.values():
            found = _find(value, kind)
            if found is not None:
                return found
    elif isinstance(node, list):
        for value in node:
            found = _find(value, kind)
            if found is not None:
                return found
    return None


OPS, OPS_EMAIL = "29:ops-luis", "luis.ortega@riverton.gov"  # Sanitation's leader


async def _escalate(teams: Teams, org_uow: SqlUnitOfWorkFactory, clock: FakeClock) -> int:
    """Sanitation misses its check-in; the sweeps climb the chain to its leader (on Teams),
    and the outbox posts each step through the Teams gateway.  Returns the escalation id."""
    import datetime as dt

    from bot.escalations.jobs import sweep

    clock.set(ny(2026, 12, 3, 9, 30))
    await open_due_checkins(org_uow, clock)
    end = ny(2026, 12, 10, 12)
    while clock.now() < end:
        await sweep(org_uow, clock)
        async with org_uow() as uow:
            due = [e.next_step_at for e in await uow.escalations.active() if e.next_step_at]
        clock.set(min([*(t for t in due if t > clock.now()), clock.now() + dt.timedelta(hours=6), end]))
    await drain(org_uow, teams.runtime.gateway, clock)
    async with org_uow() as uow:
        unit = await uow.units.by_key("sanitation")
        assert unit is not None
        (escalation,) = [e for e in await uow.escalations.active() if e.unit_id == unit.id]
    assert escalation.id is not None
    return escalation.id


def _escalation_card(teams: Teams, user: str) -> tuple[str, dict[str, Any]]:
    for posted in teams.connector.to(f"a:dm-{user}"):
        for card in posted.cards:
            if "Acknowledge" in json.dumps(card) and "Sanitation" in json.dumps(card, ensure_ascii=False):
                return posted.id, card
    raise AssertionError("no escalation card")


def _action(card: dict[str, Any], title: str) -> dict[str, Any]:
    return next(a for a in _walk(card, "Action.Execute") if a["title"] == title)


def _walk(node: Any, kind: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if isinstance(node, dict):
        if node.get("type") == kind:
            out.append(node)
        for value in node.values():
            out.extend(_walk(value, kind))
    elif isinstance(node, list):
        for value in node:
            out.extend(_walk(value, kind))
    return out


async def test_acknowledge_by_invoke_replaces_the_card_with_what_happened(
    teams: Teams, org_uow: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    teams.connector.members[OPS] = {"name": "Luis Ortega", "userPrincipalName": OPS_EMAIL}
    await teams.say(HEAD, "help")
    await teams.say(OPS, "help")
    escalation_id = await _escalate(teams, org_uow, clock)
    message_id, card = _escalation_card(teams, OPS)
    activity = _invoke(teams, OPS, _action(card, "Acknowledge")["data"])
    activity["replyToId"] = message_id
    response = await teams.post(activity)
    assert response.status == 200
    body = await response.json()
    settled = body["value"]
    assert _walk(settled, "Action.Execute") == []
    shown = json.dumps(settled, ensure_ascii=False)
    assert "Acknowledged by Luis Ortega" in shown
    # The rest of the card is kept: the same blocks, the buttons row swapped for a note.
    assert len(settled["body"]) == len(card["body"])
    async with org_uow() as uow:
        escalation = await uow.escalations.get(escalation_id)
    assert escalation is not None and escalation.state == "acknowledged"
    assert escalation.acted_by == (await person(org_uow, OPS_EMAIL)).id
    # The same click again (a stale card elsewhere) changes nothing and says so.
    again = _invoke(teams, OPS, _action(card, "Acknowledge")["data"])
    response = await teams.post(again)
    assert response.status == 200


async def test_action_submit_click_updates_the_card_in_place(
    teams: Teams, org_uow: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    teams.connector.members[OPS] = {"name": "Luis Ortega", "email": OPS_EMAIL}
    await teams.say(HEAD, "help")
    await teams.say(OPS, "help")
    await _escalate(teams, org_uow, clock)
    message_id, card = _escalation_card(teams, OPS)
    await teams.say(OPS, "", value=_action(card, "Snooze 2 days")["data"], replyToId=message_id)
    (update,) = teams.connector.updated
    assert update.id == message_id
    assert _walk(update.cards, "Action.Execute") == []
    assert "Snoozed" in json.dumps(update.cards, ensure_ascii=False)


async def test_a_large_chart_is_hosted_under_a_signed_url_and_a_small_one_inline(teams: Teams) -> None:
    from adapters.teams.gateway import INLINE_IMAGE_BYTES, image_url

    adapter = teams.runtime.teams
    big = b"\x89PNG" + bytes(INLINE_IMAGE_BYTES)
    url = image_url("2026-W49-all", big, "https://stat.example.gov", adapter.chart_signature)
    assert url is not None and url.startswith("https://stat.example.gov/teams/charts/2026-W49-all/")
    signature = url.rsplit("/", 1)[1].removesuffix(".png")
    assert len(signature) == 32 and signature != adapter.chart_signature("2026-W50-all")
    # Served by the bot only with the right signature, and only charts it stored.
    wrong = await teams.client.get(f"/teams/charts/2026-W49-all/{'0' * 32}.png")
    assert wrong.status == 404
    missing = await teams.client.get(f"/teams/charts/2026-W49-all/{signature}.png")
    assert missing.status == 404  # signed, but no such chart stored
    from bot.digests.ports import StoredChart

    async with teams.runtime.uow() as uow:
        await uow.digest_source.save_chart(
            StoredChart(ref="2026-W49-all", png=big, alt_text="chart", created_at=teams.runtime.clock.now())
        )
        await uow.commit()
    served = await teams.client.get(f"/teams/charts/2026-W49-all/{signature}.png")
    assert served.status == 200 and served.content_type == "image/png"
    assert await served.read() == big
    small = image_url("r", b"\x89PNG" + bytes(100), "https://stat.example.gov", adapter.chart_signature)
    assert small is not None and small.startswith("data:image/png;base64,")


COMMANDS = [
    ("help", "commitments"),
    ("status", "Sanitation"),
    ("status sanitation", "Sanitation"),
    ("commitments", "commitment"),
    ("overdue", "overdue"),
    ("commit Fix the hotline by 2026-12-20", "Fix the hotline"),
    ("away 2026-12-07 2026-12-09", "away"),
    ("digest", "for leaders and analysts"),
    ("ask sanitation Why are pickups late?", "for leaders and analysts"),
    ("done 9999", "no commitment #9999"),
    ("update 9999 moving on", "no commitment #9999"),
    ("status nosuchunit", "There is no unit"),
    ("commit", "commit needs what you promise"),
]


@pytest.mark.parametrize(("text", "expected"), COMMANDS)
@pytest.mark.parametrize("how", ["bare", "stat word", "channel mention"])
async def test_every_text_command(teams: Teams, text: str, expected: str, how: str) -> None:
    if how == "bare":
        await teams.say(HEAD, text)
        conversation = f"a:dm-{HEAD}"
    elif how == "stat word":
        await teams.say(HEAD, f"stat {text}")
        conversation = f"a:dm-{HEAD}"
    else:
        await teams.say(
            HEAD,
            f"<at>statbot</at> {text}",
            personal=False,
            entities=[{"type": "mention", "text": "<at>statbot</at>", "mentioned": BOT}],
        )
        conversation = "19:chan@thread.tacv2;messageid=1"
    (answer,) = teams.connector.to(conversation)
    shown = json.dumps(answer.cards, ensure_ascii=False).replace("\\\\", "")
    assert expected.lower() in shown.lower()


async def test_without_an_app_id_a_client_off_loopback_gets_401(teams: Teams) -> None:
    from unittest import mock

    from aiohttp.test_utils import make_mocked_request

    assert teams.runtime.teams is not None
    transport = mock.Mock()
    transport.get_extra_info.side_effect = lambda name, default=None: (
        ("203.0.113.7", 50000) if name == "peername" else default
    )
    request = make_mocked_request(
        "POST", "/api/messages", headers={"Content-Type": "application/json"}, transport=transport
    )
    assert request.remote == "203.0.113.7"
    response = await teams.runtime.teams.handle_http(request)
    assert response.status == 401
    assert teams.connector.posted == []


def _personal_install(teams: Teams, user: str, conversation: str) -> dict[str, Any]:
    return {
        **PERSONAL_INSTALL,
        "id": f"f:{conversation}",
        "serviceUrl": teams.connector.url,
        "from": {"id": user},
        "recipient": BOT,
        "membersAdded": [{"id": BOT["id"]}, {"id": user}],
        "conversation": {"conversationType": "personal", "id": conversation, "tenantId": TENANT},
    }


async def test_home_typed_shows_the_home_card_with_what_is_open(
    teams: Teams, org_uow: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    clock.set(ny(2026, 12, 3, 9, 30))
    await open_due_checkins(org_uow, clock)
    await teams.say(HEAD, "commit Replace truck 12 by Friday")
    await teams.say(HEAD, "home")
    home = teams.connector.to(f"a:dm-{HEAD}")[-1]
    (card,) = home.cards
    assert card["fallbackText"] == "statbot home for Robert Hayes"
    shown = json.dumps(card, ensure_ascii=False)
    assert "Replace truck 12" in shown
    assert "Sanitation · 2026-W49" in shown
    # Its button opens this week's form in place, as every card's buttons do.
    fill = _action(card, "Fill in this week's numbers")
    response = await teams.post(_invoke(teams, HEAD, fill["data"]))
    opened = await response.json()
    assert _find(opened["value"], "Action.Execute")["data"]["action"] == "checkin.submit"  # type: ignore[index]


async def test_a_stranger_installing_is_greeted_and_told_to_ask_an_admin(teams: Teams) -> None:
    await teams.post(_personal_install(teams, STRANGER, f"a:dm-{STRANGER}"))
    greeting, refusal = teams.connector.to(f"a:dm-{STRANGER}")
    assert "Hello! I'm statbot" in json.dumps(greeting.cards)
    assert "don't know you" in json.dumps(refusal.cards)


async def test_a_reinstall_is_used_by_the_very_next_proactive_message(
    teams: Teams, org_uow: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    from bot.deliveries.models import Delivery
    from bot.deliveries.service import enqueue

    await teams.say(HEAD, "help")
    clock.set(ny(2026, 12, 3, 9, 30))
    await open_due_checkins(org_uow, clock)
    await drain(org_uow, teams.runtime.gateway, clock)  # the gateway now knows everyone
    assert len(teams.connector.to(f"a:dm-{HEAD}")) == 2
    # Robert removes the app and installs it again: a new personal conversation.
    await teams.post(_personal_install(teams, HEAD, f"a:dm2-{HEAD}"))
    robert = await person(org_uow, HEAD_EMAIL)
    assert robert.id is not None
    async with org_uow() as uow:
        await enqueue(
            uow,
            audience=Delivery.to_person(robert.id),
            message=Reply.text("A reminder").messages[0],
            key="reinstall-test",
            now=clock.now(),
        )
        await uow.commit()
    await drain(org_uow, teams.runtime.gateway, clock)
    assert "A reminder" in " ".join(teams.connector.texts(f"a:dm2-{HEAD}"))
    assert "A reminder" not in " ".join(teams.connector.texts(f"a:dm-{HEAD}"))


async def _history(org_uow: SqlUnitOfWorkFactory, clock: FakeClock) -> None:
    """Four steady weeks of Sanitation readings, so a value ten times off is an outlier."""
    from bot.checkins.models import Reading

    values = {
        "missed_pickups": 110,
        "tons_collected": 1950,
        "recycling_diversion": 26,
        "missed_pickups_48h": 92,
    }
    async with org_uow() as uow:
        unit = await uow.units.by_key("sanitation")
        assert unit is not None and unit.id is not None
        for metric in await uow.metrics.for_unit(unit.id):
            assert metric.id is not None
            for week in ("2026-W45", "2026-W46", "2026-W47", "2026-W48"):
                await uow.readings.add(
                    Reading(
                        unit_id=unit.id,
                        metric_id=metric.id,
                        week=week,
                        value=values[metric.key],
                        updated_at=clock.now(),
                        updated_by=None,
                    )
                )
        await uow.commit()


async def test_a_far_off_value_gets_the_data_check_card_and_confirming_stores_it(
    teams: Teams, org_uow: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    await teams.say(HEAD, "help")
    await _history(org_uow, clock)
    clock.set(ny(2026, 12, 3, 9, 30))
    await open_due_checkins(org_uow, clock)
    await drain(org_uow, teams.runtime.gateway, clock)
    prompt = teams.connector.to(f"a:dm-{HEAD}")[-1]
    opened = await (
        await teams.post(_invoke(teams, HEAD, _find(prompt.cards, "Action.Execute")["data"]))
    ).json()  # type: ignore[index]
    form_submit = _find(opened["value"], "Action.Execute")
    assert form_submit is not None
    # 195 tons where the last weeks said 1,950: a typo, most likely.
    typo = {**GOOD, "in.m.tons_collected": "195", "in.why.tons_collected": "Landfill closed"}
    response = await teams.post(_invoke(teams, HEAD, {**form_submit["data"], **typo}))
    assert response.status == 200
    check = (await response.json())["value"]
    shown = json.dumps(check, ensure_ascii=False)
    assert "195 is 10× away from the recent median (1,950)" in shown
    choice = next(e for e in _walk(check, "Input.ChoiceSet") if e["id"] == "in.ok.tons_collected")
    assert choice["value"] == "confirm"
    corrected = next(e for e in _walk(check, "Input.Number") if e["id"] == "in.m.tons_collected")
    assert corrected["value"] == 195
    confirm = _find(check, "Action.Execute")
    assert confirm is not None and confirm["data"]["action"] == "checkin.confirm"
    # Confirmed with Action.Submit (every value a string): the receipt, and 195 stored.
    await teams.say(
        HEAD, "", value={**confirm["data"], "in.ok.tons_collected": "confirm", "in.m.tons_collected": "195"}
    )
    receipt = teams.connector.to(f"a:dm-{HEAD}")[-1]
    assert "Recorded" in json.dumps(receipt.cards, ensure_ascii=False)
    async with org_uow() as uow:
        unit = await uow.units.by_key("sanitation")
        assert unit is not None and unit.id is not None
        readings = await uow.readings.for_unit_week(unit.id, "2026-W49")
    tons = next(r for r in readings if r.value == 195)
    assert tons.confirmed_outlier
    assert {r.value for r in readings} == {110.0, 195.0, 26.0, 92.0}


async def test_settling_from_a_later_message_of_a_split_card_updates_every_part(
    teams: Teams, org_uow: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    from bot.deliveries.models import Delivery
    from bot.deliveries.service import enqueue
    from bot.messages import Button, Buttons, Card, Heading, paragraph

    teams.connector.members[OPS] = {"name": "Luis Ortega", "email": OPS_EMAIL}
    await teams.say(HEAD, "help")
    await teams.say(OPS, "help")
    escalation_id = await _escalate(teams, org_uow, clock)
    ids = {"escalation": str(escalation_id)}
    # A card long enough for three messages, with decisions in the first and the last.
    long_text = "Missed pickups rose in every district. " * 300
    card = Card(
        summary="Leadership digest",
        parts=(
            Heading(text="Leadership digest"),
            paragraph(long_text),
            Buttons(
                buttons=(Button(label="Ask the unit", action="followup.ask", ids={"unit": "sanitation"}),)
            ),
            paragraph(long_text),
            paragraph(long_text),
            paragraph(long_text),
            Buttons(buttons=(Button(label="Acknowledge", action="escalation.ack", ids=ids),)),
        ),
    )
    ops = await person(org_uow, OPS_EMAIL)
    assert ops.id is not None
    async with org_uow() as uow:
        await enqueue(uow, audience=Delivery.to_person(ops.id), message=card, key="long", now=clock.now())
        await uow.commit()
    await drain(org_uow, teams.runtime.gateway, clock)
    parts = [
        p for p in teams.connector.to(f"a:dm-{OPS}") if "Leadership digest (" in p.cards[0]["fallbackText"]
    ]
    assert len(parts) == 3
    last = parts[-1]
    activity = _invoke(teams, OPS, _action(last.cards[0], "Acknowledge")["data"])
    activity["replyToId"] = last.id
    response = await teams.post(activity)
    assert response.status == 200
    settled = (await response.json())["value"]
    assert settled["fallbackText"] == "Leadership digest (3/3)"
    assert "Acknowledged by Luis Ortega" in json.dumps(settled, ensure_ascii=False)
    assert _walk(settled, "Action.Execute") == []
    # The first message's button is gone too; the middle one had none and is left alone.
    (first,) = teams.connector.updated
    assert first.id == parts[0].id
    assert _walk(first.cards, "Action.Execute") == []
    assert first.cards[0]["body"][:2] == parts[0].cards[0]["body"][:2]
    async with org_uow() as uow:
        escalation = await uow.escalations.get(escalation_id)
    assert escalation is not None and escalation.state == "acknowledged"
    async with org_uow() as uow:
        refs = [d.platform_ref for d in await uow.deliveries.for_audience(Delivery.to_person(ops.id))]
    assert ",".join(p.id for p in parts) + ";sent=3" in refs  # every message's id is kept


async def test_a_redelivered_click_is_answered_without_acting_twice(teams: Teams) -> None:
    await teams.say(HEAD, "help")
    click = _invoke(teams, HEAD, {"statbot": "button", "action": "checkin.open", "ids": {}})
    first = await teams.post(click)
    assert first.status == 200
    again = await teams.post(click)  # Teams retries a slow invoke with the same id
    assert again.status == 200
    body = await again.json()
    assert body["type"] == "application/vnd.microsoft.activity.message"


async def test_a_reinstall_stored_by_another_replica_is_used_once_teams_refuses_the_old_chat(
    teams: Teams, org_uow: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    from bot.deliveries.models import Delivery
    from bot.deliveries.service import enqueue

    await teams.say(HEAD, "help")
    clock.set(ny(2026, 12, 3, 9, 30))
    await open_due_checkins(org_uow, clock)
    await drain(org_uow, teams.runtime.gateway, clock)  # this replica's gateway knows everyone
    async with org_uow() as uow:  # ... and another replica stores Robert's reinstall
        robert = await uow.people.by_email(HEAD_EMAIL)
        assert robert is not None and robert.id is not None and robert.teams_conversation is not None
        reference = dict(robert.teams_conversation)
        reference["conversation"] = {**reference["conversation"], "id": f"a:dm3-{HEAD}"}
        robert.teams_conversation = reference
        await uow.people.save(robert)
        await enqueue(
            uow,
            audience=Delivery.to_person(robert.id),
            message=Reply.text("A reminder").messages[0],
            key="replica-test",
            now=clock.now(),
        )
        await uow.commit()
    teams.connector.fail(403, times=1)  # the old chat is gone
    result = await drain(org_uow, teams.runtime.gateway, clock)
    assert result.sent == 1 and result.failed == 0
    assert teams.connector.refused == [403]
    assert "A reminder" in " ".join(teams.connector.texts(f"a:dm3-{HEAD}"))
