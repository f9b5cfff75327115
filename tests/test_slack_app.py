"""Contract tests: the real bolt app over HTTP, signed like Slack, against a fake Web API.

Requests go to POST /slack/events of the real aiohttp server; the fake Slack Web API
(tests/fakes/slack_api.py) records what the bot calls.  Most tests build the adapter with
process_before_response=True so the work is done when the response arrives; the ack-time
tests use the production mode and wait for the background work explicitly.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.container import Container
from adapters.metrics import Metrics
from adapters.runtime import SlackOptions, open_runtime
from adapters.settings import Settings
from adapters.slack.app import SlackAdapter
from bot.checkins.jobs import open_due_checkins
from bot.clock import FakeClock
from bot.conversation import StatBot
from bot.deliveries.jobs import drain
from storage.uow import SqlUnitOfWork, SqlUnitOfWorkFactory
from tests.fakes.slack_api import (
    FakeSlackApi,
    form_body,
    interactive_body,
    slack_signature,
    state_for,
)
from tests.helpers import ny, pid

FIXTURES = Path(__file__).parent / "fixtures" / "slack"
SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
HEAD, HEAD_EMAIL = "U0HEAD0001", "robert.hayes@riverton.gov"  # Sanitation head
LEADER, LEADER_EMAIL = "U0LEAD0001", "priya.raman@riverton.gov"  # admin + leader
OPS, OPS_EMAIL = "U0LUIS0001", "luis.ortega@riverton.gov"  # Sanitation's leader
STRANGER = "U0STRANGE1"
GOOD = {
    "m.missed_pickups": "110",
    "m.tons_collected": "1950",
    "m.recycling_diversion": "26",
    "m.missed_pickups_48h": "92",
}


def fixture_text(name: str) -> str:
    return (FIXTURES / name).read_text()


def fixture_json(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(fixture_text(name))
    return data


class Slack:
    """The test's side of Slack: signs and posts requests, reads the fake's records."""

    def __init__(self, client: TestClient, api: FakeSlackApi, adapter: SlackAdapter) -> None:  # type: ignore[type-arg]
        self.client = client
        self.api = api
        self.adapter = adapter
        self._n = 0
        # Answers that rode in a slash command's ack: (when, body), as the person saw them.
        self.acked: list[tuple[float, dict[str, Any]]] = []

    def next_id(self, prefix: str) -> str:
        self._n += 1
        return f"{prefix}{self._n}"

    async def post(
        self,
        body: bytes,
        content_type: str,
        *,
        timestamp: int | None = None,
        secret: str = SECRET,
        headers: dict[str, str] | None = None,
        signed: bool = True,
    ) -> Any:
        sent = {"Content-Type": content_type, **(headers or {})}
        if signed:
            sent.update(slack_signature(secret, body, int(time.time()) if timestamp is None else timestamp))
        return await self.client.post("/slack/events", data=body, headers=sent)

    async def command(
        self,
        text: str,
        *,
        user: str = HEAD,
        channel: str = "C0GENERAL1",
        trigger: str | None = None,
        **kw: Any,
    ) -> Any:
        fields = dict(parse_qsl(fixture_text("slack_slash_command.form.txt"), keep_blank_values=True))
        fields.update(
            command="/stat",
            text=text,
            user_id=user,
            channel_id=channel,
            response_url=self.api.response_url(self.next_id("cmd")),
            trigger_id=trigger or self.next_id("trigger."),
        )
        response = await self.post(form_body(fields), "application/x-www-form-urlencoded", **kw)
        raw = await response.read()
        answer = json.loads(raw) if raw.startswith(b"{") else None
        if isinstance(answer, dict) and "text" in answer:
            self.acked.append((time.monotonic(), {"key": "ack", **answer}))
        return response

    async def event(self, event: dict[str, Any], *, event_id: str | None = None, **kw: Any) -> Any:
        body = fixture_json("slack_event_message_im.json")
        body["event"] = event
        body["event_id"] = event_id or self.next_id("Ev")
        return await self.post(json.dumps(body).encode(), "application/json", **kw)

    async def dm(self, text: str, *, user: str = HEAD, **kw: Any) -> Any:
        event = fixture_json("slack_event_message_im.json")["event"]
        event.update(text=text, user=user, channel=f"D{user}")
        return await self.event(event, **kw)

    async def click(
        self,
        button: dict[str, Any],
        *,
        user: str = HEAD,
        channel: str | None = None,
        trigger: str | None = None,
        message: dict[str, Any] | None = None,
        **kw: Any,
    ) -> Any:
        """A click on ``button``; with ``message`` (a message the fake keeps, see
        ``FakeSlackApi.message``) the payload carries it, as Slack sends a click in a
        posted message, and the response_url can replace it."""
        payload = fixture_json("slack_block_actions.json")
        payload["user"]["id"] = user
        payload["trigger_id"] = trigger or self.next_id("trigger.")
        key = self.next_id("act")
        payload["response_url"] = self.api.response_url(key)
        payload["actions"] = [{**button, "block_id": "b", "action_ts": "1596530385.194939"}]
        if channel is None:
            payload.pop("channel")
            payload["container"] = {"type": "view", "view_id": "VHOME"}
        else:
            payload["channel"] = {"id": channel, "name": "x"}
            payload["container"] = {"type": "message", "message_ts": "1.2", "channel_id": channel}
        if message is not None and channel is not None:
            payload["message"] = message
            payload["container"] = {
                "type": "message",
                "message_ts": message["ts"],
                "channel_id": channel,
                "is_ephemeral": False,
            }
            payload["response_url"] = self.api.response_url(key, message=(channel, message["ts"]))
            block_id = next(
                b["block_id"]
                for b in message["blocks"]
                if button["action_id"] in json.dumps(b.get("elements", []))
            )
            payload["actions"][0]["block_id"] = block_id
        return await self.post(interactive_body(payload), "application/x-www-form-urlencoded", **kw)

    async def submit(
        self,
        view: dict[str, Any],
        values: dict[str, str],
        *,
        user: str = HEAD,
        view_id: str = "VFORM1",
        view_hash: str = "h1",
        previous: str | None = None,
        trigger: str | None = None,
        **kw: Any,
    ) -> Any:
        payload = fixture_json("slack_view_submission.json")
        payload["user"]["id"] = user
        # Slack gives every click on Submit its own trigger_id.
        payload["trigger_id"] = trigger or self.next_id("trig.submit.")
        payload["view"] = {
            **view,
            "id": view_id,
            "hash": view_hash,
            "previous_view_id": previous,
            "state": {"values": state_for(view, values)},
        }
        return await self.post(interactive_body(payload), "application/x-www-form-urlencoded", **kw)

    # --- reading the fake's records --------------------------------------------------

    def responses(self) -> list[dict[str, Any]]:
        """Every answer shown through a command's ack or a response_url, in order."""
        answers = [*self.acked, *((c.at, c.params) for c in self.api.ok_calls("respond"))]
        return [params for _, params in sorted(answers, key=lambda a: a[0])]

    def texts(self, method: str = "respond") -> str:
        if method == "respond":
            return "\n".join(json.dumps(a) for a in self.responses())
        return "\n".join(json.dumps(c.params) for c in self.api.ok_calls(method))

    def last_modal(self) -> dict[str, Any]:
        view = self.api.ok_calls("views.open")[-1].params["view"]
        return json.loads(view) if isinstance(view, str) else dict(view)


def buttons_in(blocks: Any) -> list[dict[str, Any]]:
    blocks = json.loads(blocks) if isinstance(blocks, str) else blocks
    return [e for b in blocks or [] if b.get("type") == "actions" for e in b["elements"]]


@pytest.fixture
async def api() -> AsyncIterator[FakeSlackApi]:
    fake = FakeSlackApi(
        users={HEAD: HEAD_EMAIL, LEADER: LEADER_EMAIL, OPS: OPS_EMAIL, STRANGER: "nobody@example.org"},
        channels={"citistat": "C0CITISTAT", "general": "C0GENERAL1"},
    )
    await fake.start()
    yield fake
    await fake.close()


def _settings(db_url: str, api: FakeSlackApi) -> Settings:
    return Settings(
        STATBOT_DATABASE_URL=db_url,
        SLACK_BOT_TOKEN="xoxb-test",
        SLACK_SIGNING_SECRET=SECRET,
        STATBOT_SLACK_API_URL=api.url,
    )


async def _slack(
    settings: Settings,
    engine: AsyncEngine,
    clock: FakeClock,
    api: FakeSlackApi,
    *,
    uow: Any = None,
    **options: Any,
) -> AsyncIterator[Slack]:
    """statbot as `serve` builds it (the runtime), on the test's database and clock."""
    async with open_runtime(
        settings, clock=clock, engine=engine, uow=uow, slack=SlackOptions(per_channel_interval=0, **options)
    ) as runtime:
        assert runtime.slack is not None
        async with TestClient(TestServer(runtime.web_app(), host="127.0.0.1", port=0)) as client:
            yield Slack(client, api, runtime.slack)


@pytest.fixture
async def slack(
    engine: AsyncEngine, org_uow: SqlUnitOfWorkFactory, db_url: str, clock: FakeClock, api: FakeSlackApi
) -> AsyncIterator[Slack]:
    async for s in _slack(_settings(db_url, api), engine, clock, api, process_before_response=True):
        yield s


async def _open_sanitation(org_uow: SqlUnitOfWorkFactory, clock: FakeClock) -> None:
    clock.set(ny(2026, 12, 3, 9, 30))  # Thursday of 2026-W49, after the 09:00 opening
    await open_due_checkins(org_uow, clock)


# --- transport and security --------------------------------------------------------------


async def test_the_adapter_builds_each_client_once_and_closes_what_it_opened(
    engine: AsyncEngine, org_uow: SqlUnitOfWorkFactory, db_url: str, clock: FakeClock, api: FakeSlackApi
) -> None:
    container = Container(settings=_settings(db_url, api), engine=engine, uow=org_uow, clock=clock)
    adapter = SlackAdapter.create(container, StatBot(container.uow, container.clock), Metrics())
    turn, outbox, session = adapter.clients.turn, adapter.clients.outbox, adapter.clients.outbox_session
    # Turns use bolt's client, which retries a 429 once and a 5xx twice.
    assert adapter.client is turn is adapter.app.client and adapter.people.client is turn
    assert turn.base_url == api.url
    assert {type(h).__name__ for h in turn.retry_handlers} >= {
        "AsyncRateLimitErrorRetryHandler",
        "AsyncServerErrorRetryHandler",
    }
    # The outbox's client: no SDK retries of 429 or 5xx (the sender retries), a short
    # timeout, and one session the adapter opened.
    assert adapter.gateway.sender.client is outbox and adapter.gateway.people.client is outbox
    assert outbox is not turn and outbox.token == turn.token and outbox.base_url == api.url
    assert not {type(h).__name__ for h in outbox.retry_handlers} & {
        "AsyncRateLimitErrorRetryHandler",
        "AsyncServerErrorRetryHandler",
    }
    assert outbox.timeout == 20 and outbox.session is session and not session.closed
    await adapter.close()
    assert session.closed


async def test_url_verification_answers_the_challenge(slack: Slack) -> None:
    body = fixture_text("slack_url_verification.json").encode()
    response = await slack.post(body, "application/json")
    assert response.status == 200
    assert (await response.json())["challenge"] == json.loads(body)["challenge"]


@pytest.mark.parametrize(
    "how",
    ["unsigned", "wrong secret", "stale", "from the future", "tampered body"],
)
async def test_bad_signatures_get_401_and_do_nothing(slack: Slack, how: str) -> None:
    fields = dict(parse_qsl(fixture_text("slack_slash_command.form.txt")))
    fields.update(command="/stat", text="status", user_id=HEAD, response_url=slack.api.response_url())
    body = form_body(fields)
    now = int(time.time())
    kind = "application/x-www-form-urlencoded"
    if how == "unsigned":
        response = await slack.post(body, kind, signed=False)
    elif how == "wrong secret":
        response = await slack.post(body, kind, secret="not-the-secret")
    elif how == "stale":
        response = await slack.post(body, kind, timestamp=now - 5 * 60 - 5)
    elif how == "from the future":
        response = await slack.post(body, kind, timestamp=now + 5 * 60 + 5)
    else:
        headers = slack_signature(SECRET, body, now)
        response = await slack.post(body.replace(b"status", b"overdue"), kind, signed=False, headers=headers)
    assert response.status == 401
    assert slack.api.calls == []
    assert slack.responses() == []


async def test_a_request_signed_just_under_five_minutes_ago_is_accepted(slack: Slack) -> None:
    response = await slack.command("help", timestamp=int(time.time()) - 4 * 60)
    assert response.status == 200
    assert "status" in slack.texts()


async def test_no_signing_secret_means_http_refused(
    engine: AsyncEngine, org_uow: SqlUnitOfWorkFactory, db_url: str, clock: FakeClock, api: FakeSlackApi
) -> None:
    settings = _settings(db_url, api).model_copy(update={"slack_signing_secret": None})
    async for s in _slack(settings, engine, clock, api, process_before_response=True):
        response = await s.command("help", secret="")
        assert response.status == 401
        assert api.calls == []


async def test_retried_event_is_acknowledged_and_processed_once(slack: Slack) -> None:
    first = await slack.dm("help", event_id="EvSAME")
    retry = await slack.dm(
        "help", event_id="EvSAME", headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    )
    assert first.status == 200 and retry.status == 200
    assert len(slack.api.ok_calls("chat.postMessage")) == 1


async def test_retried_command_and_click_are_processed_once(
    slack: Slack, org_uow: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    await slack.command("commit Fix the hotline by Friday", trigger="trig.same")
    again = await slack.command("commit Fix the hotline by Friday", trigger="trig.same")
    assert again.status == 200
    assert len(slack.responses()) == 1
    async with slack.adapter.container.uow() as uow:
        person = await uow.people.by_email(HEAD_EMAIL)
        assert person is not None and person.id is not None
        assert len(await uow.commitments.open_for_owner(person.id)) == 1
    # A block_actions click that Slack re-sends (same trigger_id) opens one modal, not two.
    button = await _prompt_button(slack, org_uow, clock)
    first = await slack.click(button, channel=f"D{HEAD}", trigger="trig.click")
    retry = await slack.click(
        button,
        channel=f"D{HEAD}",
        trigger="trig.click",
        headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"},
    )
    assert first.status == retry.status == 200
    (opened,) = slack.api.ok_calls("views.open")
    assert opened.params["trigger_id"] == "trig.click"
    # A new click (a new trigger_id) on the same button is a new turn.
    await slack.click(button, channel=f"D{HEAD}", trigger="trig.click2")
    assert len(slack.api.ok_calls("views.open")) == 2


async def test_retries_are_remembered_in_the_database(
    engine: AsyncEngine, org_uow: SqlUnitOfWorkFactory, db_url: str, clock: FakeClock, api: FakeSlackApi
) -> None:
    async for s in _slack(_settings(db_url, api), engine, clock, api, process_before_response=True):
        await s.dm("help", event_id="EvRESTART")
    # A new process (a restart or another replica) still recognises the retry.
    async for s in _slack(_settings(db_url, api), engine, clock, api, process_before_response=True):
        await s.dm("help", event_id="EvRESTART")
    assert len(api.ok_calls("chat.postMessage")) == 1


# --- people ----------------------------------------------------------------------------------


async def test_unknown_slack_user_gets_a_polite_refusal(slack: Slack) -> None:
    await slack.command("status", user=STRANGER)
    assert "ask an admin to add your e-mail" in slack.texts()
    await slack.command("status", user="U0GHOST001")  # users.info: user_not_found
    answers = slack.responses()
    assert len(answers) == 2 and all("ask an admin" in a["text"] for a in answers)
    # Counted as refused turns, though the core never saw them.
    refused = slack.adapter.metrics.registry.get_sample_value(
        "statbot_turns_total", {"kind": "text", "outcome": "refused"}
    )
    assert refused == 2


async def test_first_contact_links_the_person_and_caches_it(slack: Slack) -> None:
    await slack.command("help")
    await slack.command("help")
    assert len(slack.api.ok_calls("users.info")) == 1
    async with slack.adapter.container.uow() as uow:
        person = await uow.people.by_email(HEAD_EMAIL)
    assert person is not None and person.slack_user_id == HEAD


# --- /stat and direct messages ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "report"),
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
    ],
)
async def test_every_stat_subcommand_answers_ephemerally_in_the_ack(
    slack: Slack, text: str, expected: str
) -> None:
    response = await slack.command(text)
    assert response.status == 200
    # The answer rides in the ack (the person sees it at once); nothing via response_url.
    answer = await response.json()
    assert answer["response_type"] == "ephemeral"
    assert answer["text"] and answer["blocks"]
    assert expected.lower() in json.dumps(answer).lower()
    assert slack.api.all_calls("respond") == []
    assert slack.responses() == [{"key": "ack", **answer}]


async def test_commitments_of_a_mentioned_person(slack: Slack) -> None:
    await slack.command("commit Fix the hotline by 2026-12-20")
    await slack.command(f"commitments <@{HEAD}|robert>", user=LEADER)
    assert "Fix the hotline" in json.dumps(slack.responses()[-1])


async def test_report_opens_the_check_in_modal(
    slack: Slack, org_uow: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    await _open_sanitation(org_uow, clock)
    await slack.command("report", trigger="trig.report")
    (opened,) = slack.api.ok_calls("views.open")
    assert opened.params["trigger_id"] == "trig.report"
    view = slack.last_modal()
    assert view["callback_id"] == "statbot_form"
    assert json.loads(view["private_metadata"])["a"] == "checkin.submit"
    assert {b["block_id"] for b in view["blocks"] if b["type"] == "input"} >= set(GOOD)
    assert slack.responses() == []


async def test_expired_trigger_falls_back_to_a_card_with_a_button(
    slack: Slack, org_uow: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    await _open_sanitation(org_uow, clock)
    slack.api.expired_triggers.add("trig.late")
    await slack.command("report", trigger="trig.late")
    (answer,) = slack.responses()
    (button,) = buttons_in(answer["blocks"])
    assert json.loads(button["value"])["a"] == "checkin.open"


async def test_direct_message_gets_a_message_in_the_dm(slack: Slack) -> None:
    await slack.dm("status")
    (posted,) = slack.api.ok_calls("chat.postMessage")
    assert posted.params["channel"] == f"D{HEAD}"
    assert "Sanitation" in json.dumps(posted.params)


@pytest.mark.parametrize(
    "event",
    [
        {"type": "message", "subtype": "message_changed", "channel": "DX", "channel_type": "im"},
        {"type": "message", "bot_id": "BBOT", "text": "hi", "channel": "DX", "channel_type": "im"},
        {
            "type": "message",
            "user": HEAD,
            "text": "status",
            "channel": "C0GENERAL1",
            "channel_type": "channel",
        },
        {"type": "message", "user": HEAD, "channel": "DX", "channel_type": "im"},
        {"type": "app_mention", "user": HEAD, "text": "<@UBOT> hi", "channel": "C0GENERAL1"},
    ],
)
async def test_events_statbot_ignores_get_200_and_no_reply(slack: Slack, event: dict[str, Any]) -> None:
    response = await slack.event(event)
    assert response.status == 200
    assert slack.api.ok_calls("chat.postMessage") == []


async def test_report_typed_in_a_dm_gets_a_button_that_opens_the_modal(
    slack: Slack, org_uow: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    await _open_sanitation(org_uow, clock)
    await slack.dm("report")
    (posted,) = slack.api.ok_calls("chat.postMessage")
    (button,) = buttons_in(posted.params["blocks"])
    await slack.click(button, channel=f"D{HEAD}", trigger="trig.dm")
    assert slack.api.ok_calls("views.open")[0].params["trigger_id"] == "trig.dm"


# --- buttons ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    ["not json", json.dumps([1, 2]), json.dumps({"ids": {}}), json.dumps({"a": "x", "ids": {"n": 1}})],
)
async def test_damaged_button_values_are_acked_and_ignored(slack: Slack, value: str) -> None:
    response = await slack.click(
        {"action_id": "statbot:x:0", "value": value, "type": "button"}, channel="D0HEAD0001"
    )
    assert response.status == 200
    assert [c.method for c in slack.api.calls if c.method != "auth.test"] == []


def statbot_buttons(blocks: Any) -> list[dict[str, Any]]:
    return [e for e in buttons_in(blocks) if str(e.get("action_id", "")).startswith("statbot:")]


def contexts_in(blocks: list[dict[str, Any]]) -> str:
    return json.dumps([b for b in blocks if b["type"] == "context"], ensure_ascii=False)


async def test_stale_button_in_a_channel_answers_ephemerally(slack: Slack) -> None:
    button = {
        "action_id": "statbot:escalation.ack:0",
        "type": "button",
        "value": json.dumps({"a": "nosuch.action", "ids": {"escalation": "1"}}),
    }
    await slack.click(button, channel="C0CITISTAT")
    (answer,) = slack.responses()
    assert answer["response_type"] == "ephemeral"
    assert "out of date" in json.dumps(answer)


# --- the check-in, from prompt to stored readings -----------------------------------------


async def _prompt_button(slack: Slack, org_uow: SqlUnitOfWorkFactory, clock: FakeClock) -> dict[str, Any]:
    await _open_sanitation(org_uow, clock)
    async with org_uow() as uow:
        head = await uow.people.by_email(HEAD_EMAIL)
        assert head is not None
        head.slack_user_id = HEAD
        await uow.people.save(head)
        await uow.commit()
    result = await drain(org_uow, slack.adapter.gateway, clock)
    assert result.sent >= 1
    prompt = next(c for c in slack.api.ok_calls("chat.postMessage") if c.params["channel"] == f"D{HEAD}")
    assert "Weekly check-in" in json.dumps(prompt.params)
    (button,) = buttons_in(prompt.params["blocks"])
    assert button["text"]["text"] == "Fill in this week's numbers"
    return button


async def test_full_check_in_from_prompt_to_stored_readings(
    slack: Slack, org_uow: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    button = await _prompt_button(slack, org_uow, clock)
    await slack.click(button, channel=f"D{HEAD}", trigger="trig.fill")
    modal = slack.last_modal()
    hints = json.dumps([b.get("hint") for b in modal["blocks"] if b["type"] == "input"])
    assert "arget" in hints  # each metric's hint names its target
    response = await slack.submit(modal, GOOD)
    assert response.status == 200
    assert await response.text() == ""  # the modal closes
    receipt = slack.api.ok_calls("chat.postMessage")[-1]
    assert receipt.params["channel"] == f"D{HEAD}"
    async with org_uow() as uow:
        unit = await uow.units.by_key("sanitation")
        assert unit is not None and unit.id is not None
        checkin = await uow.checkins.for_unit_week(unit.id, "2026-W49")
        readings = await uow.readings.for_unit_week(unit.id, "2026-W49")
    assert checkin is not None and checkin.state == "submitted"
    assert sorted(r.value for r in readings) == sorted(float(v) for v in GOOD.values())


async def test_invalid_values_come_back_as_field_errors_with_text_kept(
    slack: Slack, org_uow: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    button = await _prompt_button(slack, org_uow, clock)
    await slack.click(button, channel=f"D{HEAD}")
    modal = slack.last_modal()
    typed = {**GOOD, "m.missed_pickups": "lots", "m.recycling_diversion": ""}
    response = await slack.submit(modal, typed)
    answer = await response.json()
    assert answer["response_action"] == "errors"
    assert set(answer["errors"]) >= {"m.missed_pickups"}
    # The draft keeps what was typed: reopening the form shows it.
    await slack.click(button, channel=f"D{HEAD}")
    again = json.dumps(slack.last_modal())
    assert '"lots"' in again and '"1950"' in again


async def _sanitation_history(org_uow: SqlUnitOfWorkFactory, clock: FakeClock) -> int:
    """Four weeks of history around GOOD, so 20 missed pickups looks like a typo."""
    from bot.checkins.models import Reading

    async with org_uow() as uow:
        unit = await uow.units.by_key("sanitation")
        assert unit is not None and unit.id is not None
        metrics = await uow.metrics.for_unit(unit.id)
        for metric in metrics:
            for week in ("2026-W45", "2026-W46", "2026-W47", "2026-W48"):
                assert metric.id is not None
                await uow.readings.add(
                    Reading(
                        unit_id=unit.id,
                        metric_id=metric.id,
                        week=week,
                        value=float(GOOD[f"m.{metric.key}"]),
                        updated_at=clock.now(),
                        updated_by=None,
                    )
                )
        await uow.commit()
    return unit.id


async def _stored(org_uow: SqlUnitOfWorkFactory) -> tuple[str | None, list[float]]:
    async with org_uow() as uow:
        unit = await uow.units.by_key("sanitation")
        assert unit is not None and unit.id is not None
        checkin = await uow.checkins.for_unit_week(unit.id, "2026-W49")
        readings = await uow.readings.for_unit_week(unit.id, "2026-W49")
    return (checkin.state if checkin else None), sorted(r.value for r in readings)


async def test_far_off_value_asks_for_confirmation_in_a_second_view(
    slack: Slack, org_uow: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    button = await _prompt_button(slack, org_uow, clock)
    unit_id = await _sanitation_history(org_uow, clock)
    await slack.click(button, channel=f"D{HEAD}")
    response = await slack.submit(slack.last_modal(), {**GOOD, "m.missed_pickups": "20"})
    answer = await response.json()
    assert answer["response_action"] == "push", answer
    confirm_view = answer["view"]
    assert json.loads(confirm_view["private_metadata"])["a"] == "checkin.confirm"
    choices = {b["block_id"]: b for b in confirm_view["blocks"] if b["type"] == "input"}
    ok_key = next(k for k in choices if k.startswith("ok."))
    confirmed = await slack.submit(confirm_view, {ok_key: "confirm"}, view_id="VCONF", previous="VFORM1")
    assert (await confirmed.json()) == {"response_action": "clear"}
    async with org_uow() as uow:
        readings = await uow.readings.for_unit_week(unit_id, "2026-W49")
    assert 20.0 in {r.value for r in readings}


async def test_corrected_submission_after_field_errors_is_stored(
    slack: Slack, org_uow: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    button = await _prompt_button(slack, org_uow, clock)
    await slack.click(button, channel=f"D{HEAD}")
    modal = slack.last_modal()
    refused = await slack.submit(modal, {**GOOD, "m.missed_pickups": "lots"}, view_hash="h.same")
    assert (await refused.json())["response_action"] == "errors"
    # Slack keeps the view's id and hash after an errors answer: the fixed numbers come
    # back under the same ones, with a new trigger_id.
    fixed = await slack.submit(modal, GOOD, view_hash="h.same")
    assert fixed.status == 200 and await fixed.text() == ""
    assert await _stored(org_uow) == ("submitted", sorted(float(v) for v in GOOD.values()))
    assert "Recorded" in slack.texts("chat.postMessage")


async def test_back_from_the_data_check_and_resubmit_is_stored(
    slack: Slack, org_uow: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    button = await _prompt_button(slack, org_uow, clock)
    await _sanitation_history(org_uow, clock)
    await slack.click(button, channel=f"D{HEAD}")
    modal = slack.last_modal()
    typo = await slack.submit(modal, {**GOOD, "m.missed_pickups": "20"})
    assert (await typo.json())["response_action"] == "push"
    # Back returns to the numbers view as it was (same id and hash); the head fixes the typo.
    fixed = await slack.submit(modal, GOOD)
    assert fixed.status == 200
    assert await _stored(org_uow) == ("submitted", sorted(float(v) for v in GOOD.values()))


@pytest.mark.parametrize(
    "metadata",
    ["", "not json", json.dumps({"ids": {}}), json.dumps({"a": "checkin.submit", "ids": {"checkin": 5}})],
)
async def test_modal_with_damaged_metadata_closes_and_changes_nothing(slack: Slack, metadata: str) -> None:
    view = {"type": "modal", "callback_id": "statbot_form", "private_metadata": metadata, "blocks": []}
    response = await slack.submit(view, {})
    assert response.status == 200
    assert await response.text() == ""


async def test_resubmitted_view_is_processed_once(
    slack: Slack, org_uow: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    button = await _prompt_button(slack, org_uow, clock)
    await slack.click(button, channel=f"D{HEAD}")
    modal = slack.last_modal()
    before = len(slack.api.ok_calls("chat.postMessage"))
    first = await slack.submit(modal, GOOD, trigger="trig.submit")
    # The same payload again, as Slack re-sends it.
    retry = await slack.submit(
        modal,
        GOOD,
        trigger="trig.submit",
        headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"},
    )
    assert first.status == retry.status == 200
    (receipt,) = slack.api.ok_calls("chat.postMessage")[before:]
    assert "Thanks! Recorded" in json.dumps(receipt.params)
    assert "Updated" not in json.dumps(receipt.params)
    assert await _stored(org_uow) == ("submitted", sorted(float(v) for v in GOOD.values()))


# --- App Home -----------------------------------------------------------------------------


async def test_app_home_shows_check_in_commitments_and_digest(
    slack: Slack, org_uow: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    await _open_sanitation(org_uow, clock)
    await slack.command("commit Fix the hotline by 2026-12-20")
    body = fixture_json("slack_event_app_home_opened_bolt_tests.json")
    body["event"].update(user=HEAD, tab="home")
    body["event_id"] = "EvHOME1"
    await slack.post(json.dumps(body).encode(), "application/json")
    (published,) = slack.api.ok_calls("views.publish")
    assert published.params["user_id"] == HEAD
    view = json.dumps(published.params["view"])
    assert "Sanitation" in view and "Fix the hotline" in view and "Due" in view
    assert "Fill in this week" in view


async def test_app_home_shows_leaders_the_latest_digest(
    slack: Slack, org_uow: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    from bot.digests.jobs import post_due_digests

    await _open_sanitation(org_uow, clock)
    clock.set(dt.datetime(2026, 12, 7, 14, tzinfo=dt.UTC))  # Monday 09:00 in Riverton
    assert await post_due_digests(org_uow, clock) == 1
    body = fixture_json("slack_event_app_home_opened_bolt_tests.json")
    body["event"].update(user=LEADER, tab="home")
    body["event_id"] = "EvHOME2"
    await slack.post(json.dumps(body).encode(), "application/json")
    (published,) = slack.api.ok_calls("views.publish")
    view = json.dumps(published.params["view"])
    assert "Latest digest" in view and "2026-W49" in view and "Show the whole digest" in view


async def test_app_home_for_a_stranger_says_so(slack: Slack) -> None:
    body = fixture_json("slack_event_app_home_opened_bolt_tests.json")
    body["event"].update(user=STRANGER, tab="home")
    await slack.post(json.dumps(body).encode(), "application/json")
    (published,) = slack.api.ok_calls("views.publish")
    assert "ask an admin" in json.dumps(published.params["view"])


async def test_messages_tab_opening_publishes_nothing(slack: Slack) -> None:
    body = fixture_json("slack_event_app_home_opened_bolt_tests.json")  # tab: messages
    response = await slack.post(json.dumps(body).encode(), "application/json")
    assert response.status == 200
    assert slack.api.ok_calls("views.publish") == []


# --- acks stay fast when the database is slow --------------------------------------------


class _SlowUow:
    def __init__(self, inner: SqlUnitOfWork, delay: float) -> None:
        self._inner, self._delay = inner, delay

    async def __aenter__(self) -> SqlUnitOfWork:
        await asyncio.sleep(self._delay)
        return await self._inner.__aenter__()

    async def __aexit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._inner.__aexit__(t, e, tb)


async def test_ack_under_three_seconds_with_a_slow_database(
    engine: AsyncEngine, org_uow: SqlUnitOfWorkFactory, db_url: str, clock: FakeClock, api: FakeSlackApi
) -> None:
    await _open_sanitation(org_uow, clock)
    slow: Any = lambda: _SlowUow(org_uow(), 1.2)  # noqa: E731 - every transaction waits
    async for s in _slack(
        _settings(db_url, api), engine, clock, api, uow=slow, process_before_response=False, form_deadline=0.5
    ):
        modal = {
            "type": "modal",
            "callback_id": "statbot_form",
            "blocks": [],
            "private_metadata": json.dumps({"a": "checkin.submit", "ids": {"checkin": "1"}}),
        }
        acks: list[float] = []
        started = time.perf_counter()
        command = await s.command("status")  # waits at most the answer budget (1.5 s)
        acks.append(time.perf_counter() - started)
        started = time.perf_counter()
        dm = await s.dm("status")
        acks.append(time.perf_counter() - started)
        started = time.perf_counter()
        submitted = await s.submit(modal, {})
        acks.append(time.perf_counter() - started)
        assert command.status == dm.status == submitted.status == 200
        assert max(acks) < 3.0, acks  # Slack's limit, for each request
        assert await command.text() == ""  # too slow for the ack: the answer follows
        # The submission was answered with a "saving" view on top of the form (which stays
        # beneath, as typed) while the work went on.
        saving = await submitted.json()
        assert saving["response_action"] == "push"
        await s.adapter.wait_idle()
        assert len(s.responses()) == 1  # the /stat answer arrived after the ack
        (outcome,) = api.ok_calls("views.update")  # the saving view was replaced by the outcome
        assert outcome.params["external_id"] == saving["view"]["external_id"]
        assert any(c.params.get("channel") == f"D{HEAD}" for c in api.ok_calls("chat.postMessage"))
    assert await pid(org_uow, HEAD_EMAIL)


# --- long replies and forms Slack cannot show ------------------------------------------------


def _long_digest(lines: int) -> Any:
    from bot.messages import Card, Heading, Reply, paragraph

    parts = (
        Heading(text="CitiStat digest · 2026-W49"),
        *(paragraph(f"Line {n:03d} of the digest") for n in range(lines)),
    )
    return Reply(messages=(Card(parts=parts, summary="CitiStat digest for 2026-W49"),))


def _messages_needed(reply: Any) -> int:
    from adapters.slack.render import render_card_messages

    return sum(len(render_card_messages(card)) for card in reply.messages)


async def test_a_long_digest_arrives_complete_in_the_dm(
    slack: Slack, monkeypatch: pytest.MonkeyPatch
) -> None:
    reply = _long_digest(400)
    assert _messages_needed(reply) > 5  # more than one response_url can carry

    async def on_text(person_id: int, text: str) -> Any:
        return reply

    monkeypatch.setattr(slack.adapter.bot, "on_text", on_text)
    await slack.command("digest")
    (note,) = slack.responses()
    assert note["response_type"] == "ephemeral" and "direct message" in note["text"]
    assert [c for c in slack.api.calls if c.method == "respond" and c.status != 200] == []
    posted = slack.api.ok_calls("chat.postMessage")
    assert {c.params["channel"] for c in posted} == {f"D{HEAD}"}
    shown = "".join(json.dumps(c.params["blocks"]) for c in posted)
    lines = [f"Line {n:03d} of the digest" for n in range(400)]
    assert all(line in shown for line in lines)
    assert sorted(lines, key=shown.index) == lines  # in order


async def test_a_reply_of_four_messages_stays_in_the_response_url(
    slack: Slack, monkeypatch: pytest.MonkeyPatch
) -> None:
    reply = _long_digest(180)
    assert _messages_needed(reply) == 4

    async def on_text(person_id: int, text: str) -> Any:
        return reply

    monkeypatch.setattr(slack.adapter.bot, "on_text", on_text)
    await slack.command("digest")
    assert len(slack.responses()) == 4
    assert slack.api.ok_calls("chat.postMessage") == []


def _huge_form(action: str = "checkin.submit") -> Any:
    from bot.messages import Form, NumberInput

    return Form(
        action=action,
        ids={"checkin": "1"},
        title="Weekly check-in",
        inputs=tuple(NumberInput(name=f"m.metric_{n}", label=f"Metric {n}") for n in range(101)),
    )


async def test_report_with_a_form_too_long_for_slack_says_so(
    slack: Slack, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.messages import Reply

    async def on_text(person_id: int, text: str) -> Any:
        return Reply(messages=(_huge_form(),))

    monkeypatch.setattr(slack.adapter.bot, "on_text", on_text)
    response = await slack.command("report")
    assert response.status == 200
    assert slack.api.ok_calls("views.open") == []
    (answer,) = slack.responses()
    assert "too long" in answer["text"] and "/stat commitments" in answer["text"]


async def test_button_with_a_form_too_long_for_slack_says_so(
    slack: Slack, org_uow: SqlUnitOfWorkFactory, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.messages import Reply

    button = await _prompt_button(slack, org_uow, clock)

    async def on_button(person_id: int, action: str, ids: Any) -> Any:
        return Reply(messages=(_huge_form(),))

    monkeypatch.setattr(slack.adapter.bot, "on_button", on_button)
    await slack.click(button, channel=f"D{HEAD}")
    assert slack.api.ok_calls("views.open") == []
    assert "too long" in json.dumps(slack.api.ok_calls("chat.postMessage")[-1].params)


async def test_submission_answered_with_a_form_too_long_for_slack_says_so(
    slack: Slack, org_uow: SqlUnitOfWorkFactory, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.messages import Reply

    button = await _prompt_button(slack, org_uow, clock)
    await slack.click(button, channel=f"D{HEAD}")
    modal = slack.last_modal()

    async def on_form(person_id: int, action: str, ids: Any, values: Any) -> Any:
        return Reply(messages=(_huge_form("checkin.confirm"),))

    monkeypatch.setattr(slack.adapter.bot, "on_form", on_form)
    response = await slack.submit(modal, GOOD)
    assert response.status == 200
    answer = await response.json()
    assert answer["response_action"] == "update"
    assert "too long" in json.dumps(answer["view"])


async def test_no_startup_warning_about_an_unused_token(
    engine: AsyncEngine,
    org_uow: SqlUnitOfWorkFactory,
    db_url: str,
    clock: FakeClock,
    api: FakeSlackApi,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")  # how statbot is configured in production
    async for s in _slack(_settings(db_url, api), engine, clock, api, process_before_response=True):
        await s.command("help")
        assert "status" in s.texts()  # the client bolt built talks to the fake API
    assert not [r for r in caplog.records if "unused" in r.getMessage() or "ignored" in r.getMessage()]


async def test_long_reply_never_goes_to_a_channel_called_none(
    slack: Slack, monkeypatch: pytest.MonkeyPatch
) -> None:
    slack.api.answers["conversations.open"] = {"ok": True, "channel": {}}
    reply = _long_digest(400)

    async def on_text(person_id: int, text: str) -> Any:
        return reply

    monkeypatch.setattr(slack.adapter.bot, "on_text", on_text)
    await slack.command("digest")
    assert slack.api.ok_calls("chat.postMessage") == []
    # No DM to send the rest to: the response_url carries what it can and says so.
    answers = slack.responses()
    assert len(answers) == 4 and "Line 000 of the digest" in json.dumps(answers[0])
    assert "open a direct message with statbot" in answers[-1]["text"]


# --- settling an escalation updates the message everyone sees --------------------------------

CITISTAT = "C0CITISTAT"


async def _escalate_to_the_channel(slack: Slack, org_uow: SqlUnitOfWorkFactory, clock: FakeClock) -> int:
    """Sanitation misses its check-in; the sweeps climb the chain (head, deputy, leader)
    until the leadership channel is told, and the outbox posts everything to Slack.
    Returns the escalation's id."""
    from bot.escalations.jobs import sweep

    await _open_sanitation(org_uow, clock)
    end = ny(2026, 12, 11, 9)  # the channel step is due Fri 11 08:30
    while True:
        await sweep(org_uow, clock)
        if clock.now() >= end:
            break
        async with org_uow() as uow:
            due = [e.next_step_at for e in await uow.escalations.active() if e.next_step_at]
        clock.set(min([*(t for t in due if t > clock.now()), clock.now() + dt.timedelta(hours=6), end]))
    await drain(org_uow, slack.adapter.gateway, clock)
    async with org_uow() as uow:
        unit = await uow.units.by_key("sanitation")
        assert unit is not None
        (escalation,) = [e for e in await uow.escalations.active() if e.unit_id == unit.id]
    assert escalation.id is not None
    return escalation.id


def _posted_card(slack: Slack, channel: str) -> dict[str, Any]:
    """Sanitation's escalation message in ``channel`` as Slack keeps it (with its block_ids)."""
    (message,) = [
        m
        for (c, _), m in slack.api.messages.items()
        if c == channel and "Needs attention · Sanitation" in json.dumps(m["blocks"], ensure_ascii=False)
    ]
    return message


def _button(message: dict[str, Any], label: str) -> dict[str, Any]:
    return next(b for b in statbot_buttons(message["blocks"]) if b["text"]["text"] == label)


async def _escalation_state(org_uow: SqlUnitOfWorkFactory, escalation_id: int) -> tuple[str, int | None]:
    async with org_uow() as uow:
        escalation = await uow.escalations.get(escalation_id)
    assert escalation is not None
    return escalation.state, escalation.acted_by


async def test_acknowledge_in_the_channel_replaces_the_buttons_for_everyone(
    slack: Slack, org_uow: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    escalation_id = await _escalate_to_the_channel(slack, org_uow, clock)
    card = _posted_card(slack, CITISTAT)
    assert [b["text"]["text"] for b in statbot_buttons(card["blocks"])] == [
        "Acknowledge",
        "Snooze 2 days",
        "Ask the unit",
    ]
    await slack.click(_button(card, "Acknowledge"), user=OPS, channel=CITISTAT, message=card)
    (answer,) = slack.responses()  # one answer: the update, no ephemeral copy of it
    assert answer["replace_original"] is True
    assert "response_type" not in answer  # an "ephemeral" here would hide the update
    assert answer["text"] == card["text"]
    assert statbot_buttons(answer["blocks"]) == []
    said = contexts_in(answer["blocks"])
    assert "Acknowledged by Luis Ortega: Sanitation's check-in for 2026-W49 was not submitted." in said
    assert "No more reminders about it." in said
    # Everything else is kept as it was: what the item is, who was asked, the policy note.
    others = [b for b in card["blocks"] if b["type"] != "actions"]
    assert [b for b in answer["blocks"] if b not in others] == [
        b for b in answer["blocks"] if b["type"] == "context" and "Acknowledged by" in json.dumps(b)
    ]
    assert len(answer["blocks"]) == len(card["blocks"])
    # What the channel now shows, and what is stored.
    now_shown = slack.api.message(CITISTAT, card["ts"])
    assert statbot_buttons(now_shown["blocks"]) == [] and "Acknowledged by Luis Ortega" in json.dumps(
        now_shown
    )
    assert slack.api.ok_calls("chat.postEphemeral") == []
    assert (await _escalation_state(org_uow, escalation_id)) == (
        "acknowledged",
        await pid(org_uow, OPS_EMAIL),
    )


async def test_a_refused_acknowledge_answers_privately_and_leaves_the_message(
    slack: Slack, org_uow: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    escalation_id = await _escalate_to_the_channel(slack, org_uow, clock)
    card = _posted_card(slack, CITISTAT)
    await slack.click(_button(card, "Acknowledge"), user=HEAD, channel=CITISTAT, message=card)
    (answer,) = slack.responses()
    assert answer["response_type"] == "ephemeral" and answer["replace_original"] is False
    assert "Only leaders can acknowledge" in answer["text"]
    assert slack.api.message(CITISTAT, card["ts"]) == card  # the buttons stay for a leader
    assert (await _escalation_state(org_uow, escalation_id)) == ("active", None)


async def test_snooze_in_the_channel_updates_the_message(
    slack: Slack, org_uow: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    escalation_id = await _escalate_to_the_channel(slack, org_uow, clock)
    card = _posted_card(slack, CITISTAT)
    await slack.click(_button(card, "Snooze 2 days"), user=OPS, channel=CITISTAT, message=card)
    (answer,) = slack.responses()
    assert answer["replace_original"] is True
    assert statbot_buttons(answer["blocks"]) == []
    # Fri 11 + 2 days is Sunday: the reminders come back at Monday's start of work.
    assert "Snoozed until Mon 14 Dec" in contexts_in(answer["blocks"])
    assert statbot_buttons(slack.api.message(CITISTAT, card["ts"])["blocks"]) == []
    assert (await _escalation_state(org_uow, escalation_id))[0] == "snoozed"


async def test_acknowledge_in_the_leaders_dm_updates_that_message(
    slack: Slack, org_uow: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    escalation_id = await _escalate_to_the_channel(slack, org_uow, clock)
    dm = f"D{OPS}"
    card = _posted_card(slack, dm)  # the leader's step came as a DM, with the same buttons
    posted = len(slack.api.ok_calls("chat.postMessage"))
    await slack.click(_button(card, "Acknowledge"), user=OPS, channel=dm, message=card)
    (answer,) = slack.responses()
    assert answer["replace_original"] is True
    assert "Acknowledged by Luis Ortega" in contexts_in(answer["blocks"])
    assert len(slack.api.ok_calls("chat.postMessage")) == posted  # no second message saying it
    assert (await _escalation_state(org_uow, escalation_id))[0] == "acknowledged"


async def test_acknowledge_from_app_home_answers_as_before(
    slack: Slack, org_uow: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    escalation_id = await _escalate_to_the_channel(slack, org_uow, clock)
    button = _button(_posted_card(slack, CITISTAT), "Acknowledge")
    await slack.click(button, user=OPS)  # App Home: Slack sends no message to update
    (answer,) = slack.responses()
    assert answer["replace_original"] is False and answer["response_type"] == "ephemeral"
    assert "Acknowledged by Luis Ortega" in answer["text"]
    assert (await _escalation_state(org_uow, escalation_id))[0] == "acknowledged"


# --- the answer rides in the ack when the turn is quick, else through response_url -------


async def test_a_quick_command_is_answered_once_in_the_ack(
    engine: AsyncEngine, org_uow: SqlUnitOfWorkFactory, db_url: str, clock: FakeClock, api: FakeSlackApi
) -> None:
    # Production mode: bolt answers as soon as the listener acks.
    async for s in _slack(_settings(db_url, api), engine, clock, api, process_before_response=False):
        response = await s.command("status")
        answer = await response.json()
        assert answer["response_type"] == "ephemeral" and "Sanitation" in json.dumps(answer)
        await s.adapter.wait_idle()
        assert api.all_calls("respond") == []  # exactly one answer: the ack's


async def test_a_slow_command_is_acked_empty_and_answered_once_through_response_url(
    engine: AsyncEngine, org_uow: SqlUnitOfWorkFactory, db_url: str, clock: FakeClock, api: FakeSlackApi
) -> None:
    slow: Any = lambda: _SlowUow(org_uow(), 0.4)  # noqa: E731 - every transaction waits
    async for s in _slack(
        _settings(db_url, api), engine, clock, api, uow=slow, process_before_response=False, answer_budget=0.3
    ):
        started = time.perf_counter()
        response = await s.command("status")
        assert time.perf_counter() - started < 1.0  # the ack did not wait for the turn
        assert response.status == 200 and await response.text() == ""
        await s.adapter.wait_idle()
        (answer,) = s.responses()  # exactly one answer: the response_url's
        assert answer["key"].startswith("cmd") and answer["response_type"] == "ephemeral"
        assert "Sanitation" in json.dumps(answer)


async def test_a_command_whose_answer_is_long_or_a_form_is_acked_empty(
    slack: Slack, org_uow: SqlUnitOfWorkFactory, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    reply = _long_digest(180)  # four messages: more than an ack carries

    async def on_text(person_id: int, text: str) -> Any:
        return reply

    monkeypatch.setattr(slack.adapter.bot, "on_text", on_text)
    response = await slack.command("digest")
    assert await response.text() == ""
    assert len(slack.api.ok_calls("respond")) == 4 and slack.acked == []


async def test_a_burst_beyond_the_turns_that_may_hold_their_ack_is_answered_once_each(
    engine: AsyncEngine, org_uow: SqlUnitOfWorkFactory, db_url: str, clock: FakeClock, api: FakeSlackApi
) -> None:
    from adapters.slack.app import ACK_TURNS

    slow: Any = lambda: _SlowUow(org_uow(), 0.3)  # noqa: E731 - every transaction waits
    async for s in _slack(
        _settings(db_url, api), engine, clock, api, uow=slow, process_before_response=False, answer_budget=1.0
    ):
        burst = ACK_TURNS + 3
        responses = await asyncio.gather(*(s.command("status") for _ in range(burst)))
        bodies = [await r.text() for r in responses]
        await s.adapter.wait_idle()
        # The turns beyond ACK_TURNS did not wait in the ack: they answered later.
        assert len([b for b in bodies if b == ""]) >= burst - ACK_TURNS
        answers = s.responses()
        assert len(answers) == burst  # exactly one answer per command, one way or the other
        assert all("Sanitation" in json.dumps(a) for a in answers)
