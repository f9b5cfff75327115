"""Socket Mode, end to end: the real bolt app and slack-sdk's aiohttp SocketModeClient against a fake
Slack (tests/fakes/slack_api.py for the Web API, tests/fakes/slack_socket.py for the websocket).

The adapter is built as ``statbot serve`` builds it (acks first, work after; no signing secret,
an app-level token) and connected with ``start_socket_mode()``.  Everything stays on 127.0.0.1;
tests wait on conditions (``wait_until``), never on fixed sleeps.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.container import Container
from adapters.metrics import Metrics
from adapters.runtime import SlackOptions, open_runtime
from adapters.settings import Settings
from adapters.slack.app import SlackAdapter
from bot.checkins.jobs import open_due_checkins
from bot.clock import FakeClock
from bot.conversation import StatBot
from storage.uow import SqlUnitOfWorkFactory
from tests.fakes.slack_api import FakeSlackApi, state_for
from tests.fakes.slack_socket import (
    FakeSocketMode,
    events_api_envelope,
    interactive_envelope,
    slash_command_envelope,
    wait_until,
)
from tests.helpers import ny

FIXTURES = Path(__file__).parent / "fixtures" / "slack"
APP_TOKEN = "xapp-1-A111-1-0123456789abcdef"
HEAD, HEAD_EMAIL = "U0HEAD0001", "robert.hayes@riverton.gov"  # Sanitation head
STRANGER = "U0STRANGE1"


def fixture_json(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text())
    return data


class Slack:
    """The test's side of Slack over Socket Mode: pushes envelopes, reads both fakes' records."""

    def __init__(self, api: FakeSlackApi, socket: FakeSocketMode, adapter: SlackAdapter) -> None:
        self.api = api
        self.socket = socket
        self.adapter = adapter
        self._n = 0

    def next_id(self, prefix: str) -> str:
        self._n += 1
        return f"{prefix}{self._n}"

    async def command(self, text: str, *, user: str = HEAD, trigger: str | None = None) -> str:
        payload = fixture_json("slack_socket_mode_envelope_slash_command.json")["payload"]
        payload.update(
            command="/stat",
            text=text,
            user_id=user,
            channel_id="C0GENERAL1",
            response_url=self.api.response_url(self.next_id("cmd")),
            trigger_id=trigger or self.next_id("trig."),
        )
        return await self.socket.push(slash_command_envelope(payload, envelope_id=self.next_id("env-cmd-")))

    async def dm(
        self,
        text: str,
        *,
        user: str = HEAD,
        event_id: str | None = None,
        retry_attempt: int = 0,
        retry_reason: str = "",
    ) -> str:
        body = fixture_json("slack_event_message_im.json")
        body["event"].update(text=text, user=user, channel=f"D{user}")
        body["event_id"] = event_id or self.next_id("Ev")
        return await self.socket.push(
            events_api_envelope(
                body,
                envelope_id=self.next_id("env-ev-"),
                retry_attempt=retry_attempt,
                retry_reason=retry_reason,
            )
        )

    async def click(self, button: dict[str, Any], *, channel: str, user: str = HEAD) -> str:
        payload = fixture_json("slack_block_actions.json")
        payload["user"]["id"] = user
        payload["trigger_id"] = self.next_id("trig.")
        payload["response_url"] = self.api.response_url(self.next_id("act"))
        payload["actions"] = [{**button, "block_id": "b", "action_ts": "1596530385.194939"}]
        payload["channel"] = {"id": channel, "name": "x"}
        payload["container"] = {"type": "message", "message_ts": "1.2", "channel_id": channel}
        return await self.socket.push(interactive_envelope(payload, envelope_id=self.next_id("env-act-")))

    async def submit(self, view: dict[str, Any], values: dict[str, str], *, user: str = HEAD) -> str:
        payload = fixture_json("slack_view_submission.json")
        payload["user"]["id"] = user
        payload["view"] = {
            **view,
            "id": "VFORM1",
            "hash": "h1",
            "previous_view_id": None,
            "state": {"values": state_for(view, values)},
        }
        return await self.socket.push(interactive_envelope(payload, envelope_id=self.next_id("env-view-")))

    def responses(self) -> list[dict[str, Any]]:
        return [c.params for c in self.api.ok_calls("respond")]

    def posted(self) -> list[dict[str, Any]]:
        return [c.params for c in self.api.ok_calls("chat.postMessage")]


@pytest.fixture
async def api() -> AsyncIterator[FakeSlackApi]:
    fake = FakeSlackApi(
        users={HEAD: HEAD_EMAIL, STRANGER: "nobody@example.org"},
        channels={"citistat": "C0CITISTAT", "general": "C0GENERAL1"},
    )
    await fake.start()
    yield fake
    await fake.close()


@pytest.fixture
async def socket(api: FakeSlackApi) -> AsyncIterator[FakeSocketMode]:
    fake = await FakeSocketMode().start()
    fake.attach(api)
    yield fake
    await fake.close()


def _container(
    engine: AsyncEngine, uow: SqlUnitOfWorkFactory, db_url: str, clock: FakeClock, api: FakeSlackApi
) -> Container:
    # A Socket Mode install: bot token and app-level token, no signing secret, no public URL.
    settings = Settings(
        STATBOT_DATABASE_URL=db_url,
        SLACK_BOT_TOKEN="xoxb-test",
        SLACK_SIGNING_SECRET=None,
        SLACK_APP_TOKEN=APP_TOKEN,
        STATBOT_SLACK_API_URL=api.url,
    )
    return Container(settings=settings, engine=engine, uow=uow, clock=clock)


def _adapter(container: Container) -> SlackAdapter:
    # As `statbot serve` builds it: production mode, acks before the work.
    return SlackAdapter.create(
        container, StatBot(container.uow, container.clock), Metrics(), per_channel_interval=0
    )


@pytest.fixture
async def slack(
    engine: AsyncEngine,
    org_uow: SqlUnitOfWorkFactory,
    db_url: str,
    clock: FakeClock,
    api: FakeSlackApi,
    socket: FakeSocketMode,
) -> AsyncIterator[Slack]:
    # As `statbot serve` builds it (the runtime): production mode, acks before the work.
    settings = _container(engine, org_uow, db_url, clock, api).settings
    async with open_runtime(
        settings, clock=clock, engine=engine, slack=SlackOptions(per_channel_interval=0)
    ) as runtime:
        await runtime.start_platforms()
        assert runtime.slack is not None
        yield Slack(api, socket, runtime.slack)


async def _done(slack: Slack, condition: Any, what: str) -> None:
    """Wait for the work that follows an ack to show on the fake."""
    await wait_until(condition, what=what)
    await slack.adapter.wait_idle()


# --- connecting --------------------------------------------------------------------------------


async def test_start_opens_a_connection_with_the_app_level_token(slack: Slack) -> None:
    (opened,) = slack.api.ok_calls("apps.connections.open")
    assert opened.token == APP_TOKEN  # not the bot token: Slack refuses xoxb- here
    assert len(slack.socket.open_connections) == 1
    # slack-sdk checks the link with a ping at once; the fake (like Slack) answers it.
    await wait_until(lambda: slack.socket.current.pings, what="the client's first ping")
    assert slack.socket.current.pings[0].startswith(b"sdk-ping-pong:")


async def test_start_without_app_token_refuses(
    engine: AsyncEngine, org_uow: SqlUnitOfWorkFactory, db_url: str, clock: FakeClock, api: FakeSlackApi
) -> None:
    container = _container(engine, org_uow, db_url, clock, api)
    container.settings = container.settings.model_copy(update={"slack_app_token": None})
    adapter = _adapter(container)
    with pytest.raises(RuntimeError, match="SLACK_APP_TOKEN"):
        await adapter.start_socket_mode()
    await adapter.close()
    assert api.all_calls("apps.connections.open") == []


@pytest.mark.parametrize("app_token", ["xoxb-pasted-the-bot-token", "xapp-1-revoked"])
async def test_a_refused_app_token_fails_start_at_once(
    engine: AsyncEngine,
    org_uow: SqlUnitOfWorkFactory,
    db_url: str,
    clock: FakeClock,
    api: FakeSlackApi,
    app_token: str,
) -> None:
    # slack-sdk alone would log and retry every 10 s for ever, and `statbot serve` would hang
    # before its scheduler starts; the operator must see the reason instead.
    container = _container(engine, org_uow, db_url, clock, api)
    container.settings = container.settings.model_copy(update={"slack_app_token": SecretStr(app_token)})
    adapter = _adapter(container)
    expected = "not_allowed_token_type" if app_token.startswith("xoxb") else "invalid_auth"
    try:
        with pytest.raises(RuntimeError, match=f"SLACK_APP_TOKEN.*{expected}"):
            await asyncio.wait_for(adapter.start_socket_mode(), timeout=3)
    finally:
        await adapter.close()
    assert len(api.all_calls("apps.connections.open")) == 1


# --- /stat, DMs, buttons, forms ----------------------------------------------------------------


async def test_stat_status_is_answered_in_the_ack(slack: Slack) -> None:
    envelope_id = await slack.command("status")
    ack = await slack.socket.wait_ack(envelope_id)
    # The answer rides in the ack's payload: nothing follows through response_url.
    answer = ack.payload
    assert answer is not None and answer["response_type"] == "ephemeral"
    assert "Sanitation" in json.dumps(answer)
    await slack.adapter.wait_idle()
    assert slack.responses() == []


async def test_stranger_gets_the_refusal_over_socket_mode(slack: Slack) -> None:
    envelope_id = await slack.command("status", user=STRANGER)
    ack = await slack.socket.wait_ack(envelope_id)
    assert ack.payload is not None and "ask an admin" in ack.payload["text"]
    await slack.adapter.wait_idle()
    assert slack.responses() == []


async def test_direct_message_is_acked_and_answered_in_the_dm(slack: Slack) -> None:
    envelope_id = await slack.dm("status")
    await slack.socket.wait_ack(envelope_id)
    await _done(slack, slack.posted, "the DM reply")
    (posted,) = slack.posted()
    assert posted["channel"] == f"D{HEAD}"
    assert "Sanitation" in json.dumps(posted)


async def test_retried_event_is_acked_and_processed_once(slack: Slack) -> None:
    first = await slack.dm("help", event_id="EvSAME")
    await slack.socket.wait_ack(first)
    # Slack re-sends in a new envelope, with the same event_id and retry_attempt set.
    retry = await slack.dm("help", event_id="EvSAME", retry_attempt=1, retry_reason="timeout")
    await slack.socket.wait_ack(retry)
    await _done(slack, slack.posted, "the DM reply")
    assert len(slack.posted()) == 1
    # A different event afterwards is still answered: the retry did not wedge anything.
    await slack.socket.wait_ack(await slack.dm("help", event_id="EvOTHER"))
    await _done(slack, lambda: len(slack.posted()) == 2, "the second DM reply")


async def test_stale_button_in_a_channel_is_acked_and_answered_ephemerally(slack: Slack) -> None:
    button = {
        "action_id": "statbot:escalation.ack:0",
        "type": "button",
        "value": json.dumps({"a": "nosuch.action", "ids": {"escalation": "1"}}),
    }
    envelope_id = await slack.click(button, channel="C0CITISTAT")
    assert (await slack.socket.wait_ack(envelope_id)).payload is None
    await _done(slack, slack.responses, "the button's answer")
    (answer,) = slack.responses()
    assert answer["response_type"] == "ephemeral"
    assert "out of date" in json.dumps(answer)


async def test_modal_field_errors_travel_in_the_ack(
    slack: Slack, org_uow: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    clock.set(ny(2026, 12, 3, 9, 30))  # Thursday of 2026-W49, after the 09:00 opening
    await open_due_checkins(org_uow, clock)
    await slack.socket.wait_ack(await slack.command("report"))
    await _done(slack, lambda: slack.api.ok_calls("views.open"), "the check-in modal")
    raw = slack.api.ok_calls("views.open")[0].params["view"]
    modal = json.loads(raw) if isinstance(raw, str) else raw
    typed = {
        "m.missed_pickups": "lots",
        "m.tons_collected": "1950",
        "m.recycling_diversion": "26",
        "m.missed_pickups_48h": "92",
    }
    ack = await slack.socket.wait_ack(await slack.submit(modal, typed))
    # Over HTTP this is the response body; over Socket Mode it is the ack's payload.
    assert ack.payload is not None and ack.payload["response_action"] == "errors"
    assert "m.missed_pickups" in ack.payload["errors"]


async def test_events_statbot_does_not_act_on_are_still_acked(slack: Slack) -> None:
    channel_message = fixture_json("slack_event_message_im.json")
    channel_message["event"].update(user=HEAD, text="status", channel="C0GENERAL1", channel_type="channel")
    mention = fixture_json("slack_event_message_im.json")
    mention["event"] = {"type": "app_mention", "user": HEAD, "text": "<@UBOT> hi", "channel": "C0GENERAL1"}
    mention["event_id"] = "EvMENTION"
    for body in (channel_message, mention):
        # Without an ack Slack would re-send each one for the next hour.
        await slack.socket.wait_ack(await slack.socket.push(events_api_envelope(body)))
    await slack.adapter.wait_idle()
    assert slack.posted() == [] and slack.responses() == []


# --- the connection's life ---------------------------------------------------------------------


async def test_refresh_request_reconnects_with_a_new_url_and_keeps_working(slack: Slack) -> None:
    first = slack.socket.current
    await slack.socket.ask_to_reconnect()
    await wait_until(
        lambda: len(slack.socket.connections) == 2 and slack.socket.connections[1].open,
        what="a second connection",
    )
    assert len(slack.api.ok_calls("apps.connections.open")) == 2  # a fresh one-time URL
    await wait_until(lambda: not first.open, what="the old connection to close")
    envelope_id = await slack.dm("status")
    await slack.socket.wait_ack(envelope_id)
    assert [m["envelope_id"] for m in slack.socket.connections[1].received] == [envelope_id]
    await _done(slack, slack.posted, "the DM reply after reconnecting")


async def test_close_disconnects_cleanly(
    engine: AsyncEngine,
    org_uow: SqlUnitOfWorkFactory,
    db_url: str,
    clock: FakeClock,
    api: FakeSlackApi,
    socket: FakeSocketMode,
) -> None:
    adapter = _adapter(_container(engine, org_uow, db_url, clock, api))
    before = asyncio.all_tasks()
    await adapter.start_socket_mode()
    slack = Slack(api, socket, adapter)
    await slack.socket.wait_ack(await slack.dm("status"))
    await adapter.close()
    await wait_until(
        lambda: socket.connections and not socket.connections[0].open, what="the server to see the close"
    )
    # No reconnection after close, and nothing of the SDK left running in the loop.
    assert len(api.ok_calls("apps.connections.open")) == 1
    assert len(socket.connections) == 1
    left = [t for t in asyncio.all_tasks() - before if not t.done() and t is not asyncio.current_task()]
    assert left == []
    # The turn that was under way when close() began was finished, not dropped.
    assert len(slack.posted()) == 1
