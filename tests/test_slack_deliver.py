"""Sending the outbox to Slack: rate limits, retries, channels, charts, people, manifest."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator

import pytest
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.runtime import SlackOptions, open_runtime
from adapters.settings import Settings
from adapters.slack.app import SlackAdapter
from adapters.slack.deliver import SlackSender
from adapters.slack.manifest import BOT_SCOPES, slack_manifest
from adapters.slack.people import link_people
from bot.clock import FakeClock
from bot.deliveries.jobs import drain
from bot.deliveries.models import Delivery
from bot.deliveries.service import enqueue
from bot.digests.ports import StoredChart
from bot.messages import Button, Buttons, Card, Heading, Image, Mention, paragraph
from bot.ports import DeliveryError
from storage.uow import SqlUnitOfWorkFactory
from tests.fakes.slack_api import FakeSlackApi

HEAD, HEAD_EMAIL = "U0HEAD0001", "robert.hayes@riverton.gov"
LEADER, LEADER_EMAIL = "U0LEAD0001", "priya.raman@riverton.gov"


@pytest.fixture
async def api() -> AsyncIterator[FakeSlackApi]:
    fake = FakeSlackApi(users={HEAD: HEAD_EMAIL, LEADER: LEADER_EMAIL}, channels={"citistat": "C0CITISTAT"})
    await fake.start()
    yield fake
    await fake.close()


@pytest.fixture
async def adapter(
    engine: AsyncEngine, org_uow: SqlUnitOfWorkFactory, db_url: str, clock: FakeClock, api: FakeSlackApi
) -> AsyncIterator[SlackAdapter]:
    settings = Settings(
        STATBOT_DATABASE_URL=db_url,
        SLACK_BOT_TOKEN="xoxb-test",
        SLACK_SIGNING_SECRET="s",
        STATBOT_SLACK_API_URL=api.url,
    )
    async with open_runtime(
        settings, clock=clock, engine=engine, slack=SlackOptions(per_channel_interval=0)
    ) as runtime:
        slack = runtime.slack
        assert slack is not None
        # Tests do not wait real seconds for backoff.
        slack.gateway.sender.base_backoff = 0.01
        yield slack


def _card(text: str = "Hello") -> Card:
    return Card(parts=(paragraph(text),), summary=text)


async def _enqueue(uow: SqlUnitOfWorkFactory, clock: FakeClock, audience: str, card: Card, key: str) -> None:
    async with uow() as work:
        await enqueue(work, audience=audience, message=card, key=key, now=clock.now())
        await work.commit()


async def _person_id(uow: SqlUnitOfWorkFactory, email: str) -> int:
    async with uow() as work:
        person = await work.people.by_email(email)
    assert person is not None and person.id is not None
    return person.id


async def _states(uow: SqlUnitOfWorkFactory, audience: str) -> list[str]:
    async with uow() as work:
        return [d.state for d in await work.deliveries.for_audience(audience)]


async def test_dm_delivery_links_by_email_and_caches_the_channel(
    adapter: SlackAdapter, org_uow: SqlUnitOfWorkFactory, clock: FakeClock, api: FakeSlackApi
) -> None:
    head = await _person_id(org_uow, HEAD_EMAIL)
    await _enqueue(org_uow, clock, Delivery.to_person(head), _card("one"), "k1")
    await _enqueue(org_uow, clock, Delivery.to_person(head), _card("two"), "k2")
    result = await drain(org_uow, adapter.gateway, clock)
    assert result.sent == 2
    assert [c.params["channel"] for c in api.ok_calls("chat.postMessage")] == [f"D{HEAD}"] * 2
    assert len(api.ok_calls("users.lookupByEmail")) == 1
    assert len(api.ok_calls("conversations.open")) == 1
    async with org_uow() as work:
        person = await work.people.get(head)
    assert person is not None and person.slack_dm_channel == f"D{HEAD}"


async def test_429_is_honoured_and_nothing_is_lost_or_doubled(
    adapter: SlackAdapter, org_uow: SqlUnitOfWorkFactory, clock: FakeClock, api: FakeSlackApi
) -> None:
    head = await _person_id(org_uow, HEAD_EMAIL)
    await _enqueue(org_uow, clock, Delivery.to_person(head), _card(), "k")
    api.fail("chat.postMessage", status=429, times=2, retry_after=1)
    result = await drain(org_uow, adapter.gateway, clock)
    assert result.sent == 1
    calls = api.all_calls("chat.postMessage")
    assert [c.status for c in calls] == [429, 429, 200]
    # The retry waited for Retry-After (1 s) each time.
    assert calls[1].at - calls[0].at >= 0.95 and calls[2].at - calls[1].at >= 0.95
    assert await _states(org_uow, Delivery.to_person(head)) == ["sent"]


async def test_5xx_is_retried_with_backoff(
    adapter: SlackAdapter, org_uow: SqlUnitOfWorkFactory, clock: FakeClock, api: FakeSlackApi
) -> None:
    head = await _person_id(org_uow, HEAD_EMAIL)
    await _enqueue(org_uow, clock, Delivery.to_person(head), _card(), "k")
    api.fail("chat.postMessage", status=500, times=1)
    api.fail("chat.postMessage", status=503, times=1)
    result = await drain(org_uow, adapter.gateway, clock)
    assert result.sent == 1
    assert [c.status for c in api.all_calls("chat.postMessage")] == [500, 503, 200]


async def test_persistent_5xx_hands_back_to_the_outbox(
    adapter: SlackAdapter, org_uow: SqlUnitOfWorkFactory, clock: FakeClock, api: FakeSlackApi
) -> None:
    head = await _person_id(org_uow, HEAD_EMAIL)
    await _enqueue(org_uow, clock, Delivery.to_person(head), _card(), "k")
    api.fail("chat.postMessage", status=500, times=100)
    result = await drain(org_uow, adapter.gateway, clock)
    assert (result.sent, result.retried) == (0, 1)
    assert await _states(org_uow, Delivery.to_person(head)) == ["pending"]  # sent by a later drain


async def test_long_retry_after_is_left_to_the_outbox(api: FakeSlackApi) -> None:
    sender = SlackSender(AsyncWebClient(token="x", base_url=api.url), max_wait=5)
    api.fail("chat.postMessage", status=429, retry_after=120)
    with pytest.raises(DeliveryError) as caught:
        await sender.call("chat.postMessage", channel="C1", text="hi")
    assert caught.value.retry_after == 120 and not caught.value.permanent


async def test_messages_to_one_channel_are_paced(api: FakeSlackApi) -> None:
    sender = SlackSender(AsyncWebClient(token="x", base_url=api.url), per_channel_interval=0.2)
    for n in range(3):
        await sender.call("chat.postMessage", channel="C1", text=str(n))
    await sender.call("chat.postMessage", channel="C2", text="other channel, no wait")
    times = [c.at for c in api.ok_calls("chat.postMessage")]
    assert times[1] - times[0] >= 0.19 and times[2] - times[1] >= 0.19
    assert times[3] - times[2] < 0.15


async def test_person_without_slack_account_fails_for_good(
    adapter: SlackAdapter, org_uow: SqlUnitOfWorkFactory, clock: FakeClock, api: FakeSlackApi
) -> None:
    other = await _person_id(org_uow, "kevin.obrien@riverton.gov")  # not in the fake workspace
    await _enqueue(org_uow, clock, Delivery.to_person(other), _card(), "k")
    result = await drain(org_uow, adapter.gateway, clock)
    assert result.failed == 1
    assert api.ok_calls("chat.postMessage") == []


@pytest.mark.parametrize("audience", ["channel:nosuchchannel", "robot:1", "person:abc", "person:99999"])
async def test_undeliverable_audiences_fail_for_good(
    adapter: SlackAdapter, org_uow: SqlUnitOfWorkFactory, clock: FakeClock, api: FakeSlackApi, audience: str
) -> None:
    await _enqueue(org_uow, clock, audience, _card(), "k")
    result = await drain(org_uow, adapter.gateway, clock)
    assert result.failed == 1 and result.sent == 0


async def test_unreadable_payload_fails_for_good(
    adapter: SlackAdapter, org_uow: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    async with org_uow() as work:
        await work.deliveries.enqueue(
            Delivery(
                audience="channel:citistat",
                payload={"kind": "telegram"},
                idempotency_key="bad",
                state="pending",
                created_at=clock.now(),
                next_attempt_at=clock.now(),
            )
        )
        await work.commit()
    assert (await drain(org_uow, adapter.gateway, clock)).failed == 1


async def test_digest_with_buttons_and_chart_goes_to_the_leadership_channel(
    adapter: SlackAdapter, org_uow: SqlUnitOfWorkFactory, clock: FakeClock, api: FakeSlackApi
) -> None:
    png = b"\x89PNG\r\n\x1a\nfake chart"
    async with org_uow() as work:
        await work.digest_source.save_chart(
            StoredChart(
                ref="chart-w49-sanitation",
                png=png,
                alt_text="Missed pickups, 12 weeks",
                created_at=clock.now(),
                title="Sanitation",
            )
        )
        await work.commit()
    digest = Card(
        parts=(
            Heading(text="CitiStat digest · 2026-W49"),
            paragraph(
                "Missed pickups off target 3 weeks — owner ", Mention(email=HEAD_EMAIL, name="Robert Hayes")
            ),
            Image(ref="chart-w49-sanitation", alt_text="Missed pickups, 12 weeks"),
            Buttons(
                buttons=(
                    Button(label="Ask about this", action="followup.ask", ids={"unit": "sanitation"}),
                    Button(label="Acknowledge", action="escalation.ack", ids={"escalation": "7"}),
                )
            ),
        ),
        summary="CitiStat digest for 2026-W49: 1 item needs attention",
    )
    async with org_uow() as work:  # the head is linked, so the mention pings them
        person = await work.people.by_email(HEAD_EMAIL)
        assert person is not None
        person.slack_user_id = HEAD
        await work.people.save(person)
        await work.commit()
    await _enqueue(org_uow, clock, "channel:citistat", digest, "digest")
    assert (await drain(org_uow, adapter.gateway, clock)).sent == 1
    (posted,) = api.ok_calls("chat.postMessage")
    assert posted.params["channel"] == "C0CITISTAT"
    blocks = json.dumps(posted.params["blocks"])
    assert f"<@{HEAD}>" in blocks
    values = [
        json.loads(e["value"])
        for b in posted.params["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
    ]
    assert values == [
        {"a": "followup.ask", "ids": {"unit": "sanitation"}},
        {"a": "escalation.ack", "ids": {"escalation": "7"}},
    ]
    # files_upload_v2: get an upload URL, upload the bytes, complete into the channel.
    assert [m for m in api.methods() if m.startswith("files") or m == "upload"] == [
        "files.getUploadURLExternal",
        "upload",
        "files.completeUploadExternal",
    ]
    assert list(api.uploads.values()) == [png]
    complete = api.ok_calls("files.completeUploadExternal")[0].params
    assert complete["channel_id"] == "C0CITISTAT"


async def test_missing_chart_still_sends_the_card_once(
    adapter: SlackAdapter, org_uow: SqlUnitOfWorkFactory, clock: FakeClock, api: FakeSlackApi
) -> None:
    card = Card(parts=(Image(ref="gone", alt_text="A chart that was never stored"),), summary="digest")
    await _enqueue(org_uow, clock, "channel:C0CITISTAT", card, "k")
    assert (await drain(org_uow, adapter.gateway, clock)).sent == 1
    (posted,) = api.ok_calls("chat.postMessage")
    assert "A chart that was never stored" in json.dumps(posted.params["blocks"])
    assert api.ok_calls("conversations.list") == []  # a channel id needs no lookup


async def test_link_people_reports_who_is_missing(org_uow: SqlUnitOfWorkFactory, api: FakeSlackApi) -> None:
    client = AsyncWebClient(token="x", base_url=api.url)
    report = await link_people(org_uow, client)
    assert sorted(report.linked) == sorted([HEAD_EMAIL, LEADER_EMAIL])
    assert "kevin.obrien@riverton.gov" in report.missing
    assert report.already == 1  # jordan.kim has slack_id in the org file
    assert any("kevin.obrien@riverton.gov" in line for line in report.lines())
    again = await link_people(org_uow, client)
    assert again.linked == [] and again.already == 3
    # Who cannot be reached is remembered, and the digest says so.
    async with org_uow() as uow:
        kevin = await uow.people.by_email("kevin.obrien@riverton.gov")
        linked = await uow.people.by_email(HEAD_EMAIL)
    assert kevin is not None and kevin.unreachable == "no Slack user with this e-mail"
    assert linked is not None and linked.unreachable is None
    from bot.digests.cards import reporting_card
    from bot.digests.service import build_for_week

    async with org_uow() as uow:
        digest, _ = await build_for_week(uow, "2026-W48", dt.datetime(2026, 11, 30, 14, tzinfo=dt.UTC))
    text = reporting_card(digest).plain_text()
    assert "The bot cannot reach" in text
    assert "Kevin O'Brien <kevin.obrien@riverton.gov> — no Slack user with this e-mail" in text


def test_manifest_over_http_points_every_url_at_slack_events() -> None:
    manifest = slack_manifest("https://statbot.riverton.gov/", socket_mode=False)
    url = "https://statbot.riverton.gov/slack/events"
    assert manifest["settings"]["event_subscriptions"]["request_url"] == url
    assert manifest["settings"]["interactivity"] == {"is_enabled": True, "request_url": url}
    (command,) = manifest["features"]["slash_commands"]
    assert command["command"] == "/stat" and command["url"] == url
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True
    assert set(manifest["settings"]["event_subscriptions"]["bot_events"]) == {"app_home_opened", "message.im"}
    assert {"chat:write", "commands", "users:read.email", "files:write", "im:write"} <= set(BOT_SCOPES)
    assert manifest["settings"]["socket_mode_enabled"] is False


def test_manifest_for_socket_mode_has_no_urls() -> None:
    manifest = slack_manifest(None, socket_mode=True)
    assert manifest["settings"]["socket_mode_enabled"] is True
    assert "url" not in json.dumps(manifest).replace("usage_hint", "")


def test_manifest_over_http_needs_a_public_url() -> None:
    with pytest.raises(ValueError, match="STATBOT_PUBLIC_URL"):
        slack_manifest(None, socket_mode=False)


# --- multi-part cards, charts and the time a send may take --------------------------------


def _long_card(lines: int = 130) -> Card:
    return Card(parts=tuple(paragraph(f"Row {n:03d}") for n in range(lines)), summary="A long digest")


def _rows(api: FakeSlackApi) -> list[str]:
    rows: list[str] = []
    for call in api.ok_calls("chat.postMessage"):
        rows.extend(b["text"]["text"] for b in call.params["blocks"] if b["type"] == "section")
    return rows


@pytest.mark.parametrize(("status", "retry_after"), [(500, 1), (429, 120)])
async def test_a_failed_later_part_is_resent_alone_by_the_outbox(
    adapter: SlackAdapter,
    org_uow: SqlUnitOfWorkFactory,
    clock: FakeClock,
    api: FakeSlackApi,
    status: int,
    retry_after: int,
) -> None:
    from adapters.slack.render import render_card_messages

    card = _long_card()
    parts = len(render_card_messages(card))
    assert parts >= 3
    await _enqueue(org_uow, clock, "channel:C0CITISTAT", card, "long")
    # Part 1 goes out; part 2 keeps failing for longer than the sender retries in process.
    api.fail(
        "chat.postMessage", status=status, times=10 if status == 500 else 1, retry_after=retry_after, after=1
    )
    first = await drain(org_uow, adapter.gateway, clock)
    assert (first.sent, first.retried) == (0, 1)
    assert len(api.ok_calls("chat.postMessage")) == 1
    clock.advance(dt.timedelta(minutes=10))
    api.recover()
    second = await drain(org_uow, adapter.gateway, clock)
    assert second.sent == 1
    # Every row exactly once, in order: nothing lost, nothing sent twice.
    assert _rows(api) == [f"Row {n:03d}" for n in range(130)]
    assert len(api.ok_calls("chat.postMessage")) == parts
    async with org_uow() as work:
        (delivery,) = await work.deliveries.for_audience("channel:C0CITISTAT")
    assert delivery.state == "sent"
    assert delivery.platform_ref and ";" not in delivery.platform_ref  # the first message's ts, for updates


async def _digest_with_chart(org_uow: SqlUnitOfWorkFactory, clock: FakeClock) -> bytes:
    png = b"\x89PNG\r\n\x1a\nfake chart"
    async with org_uow() as work:
        await work.digest_source.save_chart(
            StoredChart(
                ref="chart-1", png=png, alt_text="Missed pickups", created_at=clock.now(), title="Sanitation"
            )
        )
        await work.commit()
    card = Card(parts=(Heading(text="Digest"), Image(ref="chart-1", alt_text="Missed pickups")), summary="d")
    await _enqueue(org_uow, clock, "channel:citistat", card, "digest")
    return png


@pytest.mark.parametrize("method", ["files.getUploadURLExternal", "files.completeUploadExternal"])
async def test_a_rate_limited_chart_upload_is_retried(
    adapter: SlackAdapter, org_uow: SqlUnitOfWorkFactory, clock: FakeClock, api: FakeSlackApi, method: str
) -> None:
    png = await _digest_with_chart(org_uow, clock)
    api.fail(method, status=429, retry_after=1)
    assert (await drain(org_uow, adapter.gateway, clock)).sent == 1
    assert [c.status for c in api.all_calls(method)] == [429, 200]
    assert list(api.uploads.values()) == [png]
    (complete,) = api.ok_calls("files.completeUploadExternal")
    assert complete.params["channel_id"] == "C0CITISTAT"
    async with org_uow() as work:
        (delivery,) = await work.deliveries.for_audience("channel:citistat")
    assert complete.params["thread_ts"] == delivery.platform_ref  # under the card's message


async def test_a_chart_that_keeps_failing_is_uploaded_later_without_resending_the_card(
    adapter: SlackAdapter, org_uow: SqlUnitOfWorkFactory, clock: FakeClock, api: FakeSlackApi
) -> None:
    png = await _digest_with_chart(org_uow, clock)
    api.fail("files.completeUploadExternal", status=503, times=10)
    assert (await drain(org_uow, adapter.gateway, clock)).retried == 1
    clock.advance(dt.timedelta(minutes=10))
    api.recover()
    assert (await drain(org_uow, adapter.gateway, clock)).sent == 1
    assert len(api.ok_calls("chat.postMessage")) == 1
    assert len(api.ok_calls("files.completeUploadExternal")) == 1
    assert png in api.uploads.values()


async def test_the_sender_leaves_a_long_retry_after_to_the_outbox_without_waiting(api: FakeSlackApi) -> None:
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    sender = SlackSender(AsyncWebClient(token="x", base_url=api.url), sleep=sleep)
    api.fail("chat.postMessage", status=429, retry_after=10)
    with pytest.raises(DeliveryError) as caught:
        await sender.call("chat.postMessage", channel="C1", text="hi")
    assert caught.value.retry_after == 10 and slept == []


async def test_one_send_never_waits_past_its_budget(api: FakeSlackApi) -> None:
    from adapters.slack.deliver import SEND_BUDGET

    now = [0.0]

    async def sleep(seconds: float) -> None:
        now[0] += seconds

    # However many attempts are allowed, a delivery's waiting stops at its budget (well
    # inside the outbox lease) and the outbox takes over.
    sender = SlackSender(
        AsyncWebClient(token="x", base_url=api.url), max_attempts=100, sleep=sleep, monotonic=lambda: now[0]
    )
    api.fail("chat.postMessage", status=429, retry_after=4, times=100)
    with pytest.raises(DeliveryError) as caught:
        await sender.call("chat.postMessage", channel="C1", text="hi", deadline=sender.deadline())
    assert now[0] <= SEND_BUDGET < 120
    assert caught.value.retry_after is not None and not caught.value.permanent


class _RateLimited:
    """What slack-sdk's SlackApiError carries for a 429."""

    def __init__(self, retry_after: int) -> None:
        self.status_code = 429
        self.headers = {"Retry-After": str(retry_after)}
        self.data = {"ok": False, "error": "ratelimited"}

    def get(self, key: str) -> object:
        return self.data.get(key)


class _SlidingLimitClient:
    """chat.postMessage behind a one-second sliding window of ``per_second`` calls, on a
    virtual clock: each call takes ``call_time``; above the limit a 429 says
    ``Retry-After`` in whole seconds, rounded up, as Slack does."""

    def __init__(self, now: list[float], per_second: int, call_time: float) -> None:
        self.now, self.per_second, self.call_time = now, per_second, call_time
        self.admitted: list[float] = []
        self.refused = 0

    async def chat_postMessage(self, **kwargs: object) -> dict[str, object]:
        import math

        from slack_sdk.errors import SlackApiError

        at = self.now[0]
        self.now[0] += self.call_time
        window = [t for t in self.admitted if t > at - 1.0]
        if len(window) >= self.per_second:
            self.refused += 1
            wait = max(1, math.ceil(window[0] + 1.0 - at))

            raise SlackApiError("ratelimited", _RateLimited(wait))
        self.admitted.append(at)
        return {"ok": True, "ts": f"{at:.6f}"}


async def test_after_a_burst_the_first_429_costs_only_until_the_window_reopens() -> None:
    now = [0.0]

    async def sleep(seconds: float) -> None:
        now[0] += seconds

    # 250 calls take 0.8 s; the 251st is refused with "Retry-After: 1" although the
    # limit admits again 0.2 s later, when the first call is a second old.
    client = _SlidingLimitClient(now, per_second=250, call_time=0.0032)
    sender = SlackSender(client, per_channel_interval=0, sleep=sleep, monotonic=lambda: now[0])  # type: ignore[arg-type]
    for i in range(500):
        await sender.call("chat.postMessage", channel=f"D{i:08d}", text="hi")
    assert len(client.admitted) == 500
    floor = 500 / 250
    # Waiting out the whole second after the first 429 would take about 2.6 s.
    assert now[0] <= 1.1 * floor, now[0]
    assert client.refused <= 2
    # It never asked again sooner than the limit admits: at most 250 in any second.
    assert all(
        len([t for t in client.admitted if start - 1.0 < t <= start]) <= 250 for start in client.admitted
    )
