"""Sending deliveries (the outbox) to Slack: the ChatGateway for Slack.

Limits (https://docs.slack.dev/apis/web-api/rate-limits): chat.postMessage allows about
one message per second per channel with short bursts, and a workspace-wide limit per
method.  So the sender
* paces each channel (``per_channel_interval``, default 1 s between messages),
* on 429 pauses *every* call of that method for ``Retry-After`` (calls already waiting
  wait too, instead of each finding the limit again), then retries,
* retries 5xx and connection errors with exponential backoff,
and raises ``DeliveryError`` only when retrying in this process stops making sense (a
very long Retry-After, or still failing after ``max_attempts``): the outbox then retries
later.  Errors that retrying cannot fix (no Slack user for the e-mail, unknown channel,
refused blocks) are ``permanent``.

Nothing is sent twice by statbot: a delivery is marked sent by the outbox right after
this returns, and a multi-message card whose later part fails is not raised as a failure
(re-sending would repeat the first part); it is logged instead.  Slack itself offers no
idempotency key for chat.postMessage, so a 5xx *after* Slack stored the message can still
show it twice; that is Slack's limit, not ours.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from pydantic import TypeAdapter, ValidationError
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from adapters.slack.parse import REPLAY
from adapters.slack.people import SlackPeople
from adapters.slack.render import fallback_text, render_card_messages
from bot.deliveries.models import Delivery
from bot.messages import Button, Buttons, Card, Form, Heading, Image, Message
from bot.ports import DeliveryError, UnitOfWorkFactory

log = logging.getLogger(__name__)

_MESSAGE: TypeAdapter[Card | Form] = TypeAdapter(Message)
_CHANNEL_ID = re.compile(r"[CGD][A-Z0-9]{6,}")
# Slack errors that retrying the same call can never fix.
PERMANENT = {
    "channel_not_found", "not_in_channel", "is_archived", "invalid_blocks", "invalid_blocks_format",
    "msg_too_long", "no_text", "user_not_found", "users_not_found", "account_inactive",
    "cannot_dm_bot", "restricted_action", "invalid_arguments", "too_many_attachments",
}


class SlackSender:
    """Calls the Web API with per-channel pacing, shared 429 pauses and 5xx backoff."""

    def __init__(
        self,
        client: AsyncWebClient,
        *,
        per_channel_interval: float = 1.0,
        max_attempts: int = 6,
        max_wait: float = 60.0,
        base_backoff: float = 0.5,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.per_channel_interval = per_channel_interval
        self.max_attempts = max_attempts
        self.max_wait = max_wait
        self.base_backoff = base_backoff
        self._sleep = sleep
        self._now = monotonic
        self._paused_until: dict[str, float] = {}
        self._next_slot: dict[str, float] = {}
        # Per method: recent successful calls, and the pace learnt from the last 429.
        self._recent: dict[str, deque[float]] = {}
        self._interval: dict[str, float] = {}
        self._next_call: dict[str, float] = {}
        self._pace_until: dict[str, float] = {}

    async def _pace(self, channel: str | None) -> None:
        if not channel or self.per_channel_interval <= 0:
            return
        now = self._now()
        # Reserve the slot before sleeping, so concurrent senders queue up in order.
        slot = max(now, self._next_slot.get(channel, 0.0))
        self._next_slot[channel] = slot + self.per_channel_interval
        if slot > now:
            await self._sleep(slot - now)

    async def _wait_pause(self, method: str) -> None:
        while (until := self._paused_until.get(method, 0.0)) > (now := self._now()):
            await self._sleep(until - now)
        interval = self._interval.get(method)
        if interval and self._now() > self._pace_until.get(method, 0.0):
            # A minute without a 429: the burst is over, stop holding back.
            self._interval.pop(method, None)
            interval = None
        if interval:
            # After a 429, calls are spread at the rate Slack admitted, so the workspace
            # limit is met without hitting it (and its Retry-After pause) again.
            now = self._now()
            slot = max(now, self._next_call.get(method, 0.0))
            self._next_call[method] = slot + interval
            if slot > now:
                await self._sleep(slot - now)

    def _admitted(self, method: str) -> None:
        recent = self._recent.setdefault(method, deque())
        now = self._now()
        recent.append(now)
        while recent and recent[0] < now - 1.0:
            recent.popleft()

    def _limited(self, method: str, retry_after: float) -> None:
        now = self._now()
        self._paused_until[method] = max(self._paused_until.get(method, 0.0), now + retry_after)
        recent = [t for t in self._recent.get(method, ()) if t >= now - 1.0]
        if len(recent) >= 2:
            interval = 1.0 / (0.98 * len(recent))
            self._interval[method] = max(interval, self._interval.get(method, 0.0))
        self._pace_until[method] = now + 60.0

    async def call(self, method: str, *, channel: str | None = None, **kwargs: Any) -> AsyncSlackResponse:
        if channel is not None:
            kwargs["channel"] = channel
        await self._pace(channel if method.startswith("chat.post") else None)
        last = "no attempt"
        for attempt in range(1, self.max_attempts + 1):
            await self._wait_pause(method)
            try:
                # The SDK's own method knows how Slack wants each call encoded.
                sdk_method = getattr(self.client, method.replace(".", "_"))
                response: AsyncSlackResponse = await sdk_method(**kwargs)
                self._admitted(method)
                return response
            except SlackApiError as exc:
                status = exc.response.status_code
                error = exc.response.get("error") if isinstance(exc.response.data, dict) else None
                if status == 429 or error == "ratelimited":
                    retry_after = _retry_after(exc.response.headers)
                    if retry_after > self.max_wait:
                        raise DeliveryError(f"{method}: rate limited", retry_after=retry_after) from None
                    self._limited(method, retry_after)
                    last = f"{method}: rate limited (Retry-After {retry_after:g}s)"
                    continue
                if status >= 500:
                    last = f"{method}: Slack answered {status}"
                else:
                    message = f"{method}: {error or status}"
                    raise DeliveryError(message, permanent=error in PERMANENT) from None
            except (TimeoutError, aiohttp.ClientError) as exc:
                last = f"{method}: {type(exc).__name__}: {exc}"
            if attempt < self.max_attempts:
                await self._sleep(self.base_backoff * 2 ** (attempt - 1))
        raise DeliveryError(f"gave up after {self.max_attempts} attempts: {last}")


def _retry_after(headers: Any) -> float:
    for name, value in (headers or {}).items():
        if name.lower() == "retry-after":
            raw = value[0] if isinstance(value, list) else value
            try:
                return max(float(raw), 0.0)
            except (TypeError, ValueError):
                break
    return 1.0


class ChannelDirectory:
    """Channel names of the org file → Slack channel ids (conversations.list).

    Kept in memory per process: channel names rarely change, and an unknown name is
    looked up again (a channel created after start is found)."""

    def __init__(self, sender: SlackSender) -> None:
        self.sender = sender
        self._ids: dict[str, str] = {}

    async def resolve(self, name: str) -> str | None:
        name = name.strip().removeprefix("#")
        if _CHANNEL_ID.fullmatch(name):
            return name
        if name in self._ids:
            return self._ids[name]
        cursor = ""
        while True:
            response = await self.sender.call(
                "conversations.list",
                types="public_channel,private_channel",
                exclude_archived=True,
                limit=1000,
                **({"cursor": cursor} if cursor else {}),
            )
            for channel in response.get("channels") or []:
                if isinstance(channel, dict) and channel.get("name") and channel.get("id"):
                    self._ids[channel["name"]] = channel["id"]
            cursor = ((response.get("response_metadata") or {}).get("next_cursor")) or ""
            if not cursor:
                break
        return self._ids.get(name)


ChartLoader = Callable[[str], Awaitable[tuple[bytes, str, str] | None]]


def form_as_card(form: Form, replay_text: str | None = None) -> Card:
    """A form cannot be sent as a message (a modal needs a click's trigger_id): show its
    title and intro with a button that opens it — the check-in's own button, or a replay
    of the text turn that asked for it."""
    if "checkin" in form.ids:
        button = Button(label="Open the form", action="checkin.open", ids={"checkin": form.ids["checkin"]},
                        style="primary")
    elif replay_text:
        button = Button(label="Open the form", action=REPLAY, ids={"text": replay_text}, style="primary")
    else:
        return Card(parts=(Heading(text=form.title), *form.intro), summary=form.title)
    return Card(parts=(Heading(text=form.title), *form.intro, Buttons(buttons=(button,))), summary=form.title)


class SlackGateway:
    """The ChatGateway for Slack deliveries (``person:<id>`` and ``channel:<name>``)."""

    def __init__(
        self,
        sender: SlackSender,
        people: SlackPeople,
        uow_factory: UnitOfWorkFactory,
        *,
        charts: ChartLoader | None = None,
    ) -> None:
        self.sender = sender
        self.people = people
        self.uow = uow_factory
        self.channels = ChannelDirectory(sender)
        self.charts = charts
        # person id → DM channel; DM channels never change, so the database (which also
        # keeps them) is read once per person per process.
        self._dm: dict[int, str] = {}
        self._dm_loaded_at = -1e9

    async def send(self, delivery: Delivery) -> str | None:
        try:
            message = _MESSAGE.validate_python(delivery.payload)
        except ValidationError as exc:
            problems = f"unreadable payload: {exc.error_count()} problem(s)"
            raise DeliveryError(problems, permanent=True) from None
        card = message if isinstance(message, Card) else form_as_card(message)
        channel = await self._channel(delivery.audience)
        return await self.post_card(channel, card)

    async def _channel(self, audience: str) -> str:
        kind, _, name = audience.partition(":")
        try:
            if kind == "person" and name.isdigit() and int(name) not in self._dm:
                await self._load_dm_channels()
            if kind == "person" and name.isdigit() and int(name) in self._dm:
                return self._dm[int(name)]
            if kind == "person" and name.isdigit():
                async with self.uow() as uow:
                    person = await uow.people.get(int(name))
                if person is None or not person.active:
                    raise DeliveryError(f"{audience}: no such active person", permanent=True)
                channel = await self.people.dm_channel(person)
                if channel is None:
                    raise DeliveryError(f"{person.email} has no Slack user with that e-mail", permanent=True)
                self._dm[int(name)] = channel
                return channel
            if kind == "channel" and name:
                channel = await self.channels.resolve(name)
                if channel is None:
                    raise DeliveryError(
                        f"no Slack channel named {name!r} (check leadership_channel, invite the bot)",
                        permanent=True,
                    )
                return channel
        except SlackApiError as exc:
            raise DeliveryError(f"{audience}: {exc.response.get('error')}") from None
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise DeliveryError(f"{audience}: {type(exc).__name__}: {exc}") from None
        raise DeliveryError(f"unknown audience {audience!r}", permanent=True)

    async def _load_dm_channels(self) -> None:
        """Read every known DM channel in one query (a prompt sweep sends to everyone);
        at most every few seconds, so unknown people do not cause a reload each."""
        now = time.monotonic()
        if now - self._dm_loaded_at < 5.0:
            return
        self._dm_loaded_at = now
        async with self.uow() as uow:
            for person in await uow.people.all():
                if person.id is not None and person.slack_dm_channel:
                    self._dm[person.id] = person.slack_dm_channel

    async def post_card(self, channel: str, card: Card) -> str | None:
        """Post a card (split into messages of at most 50 blocks) and upload its charts.

        Returns the ts of the first message."""
        mention_ids = await self.people.mention_ids([card])
        first: str | None = None
        text = fallback_text(card)
        for index, blocks in enumerate(render_card_messages(card, mention_ids=mention_ids) or [[]]):
            try:
                response = await self.sender.call(
                    "chat.postMessage", channel=channel, text=text, blocks=blocks, unfurl_links=False
                )
            except DeliveryError:
                if index == 0:
                    raise
                log.exception("part %d of a card to %s failed after the first was sent", index + 1, channel)
                return first
            if first is None:
                first = response.get("ts")
        await self._upload_charts(channel, card, first)
        return first

    async def _upload_charts(self, channel: str, card: Card, thread_ts: str | None) -> None:
        images = [p for p in card.parts if isinstance(p, Image)]
        if not images or self.charts is None:
            return
        for image in images:
            try:
                found = await self.charts(image.ref)
                if found is None:
                    log.warning("chart %s is not stored; the card shows its description", image.ref)
                    continue
                png, alt_text, title = found
                await self.sender.client.files_upload_v2(
                    channel=channel,
                    content=png,
                    filename=f"{image.ref}.png",
                    title=image.title or title or image.alt_text[:250],
                    alt_txt=(image.alt_text or alt_text)[:1000],
                    thread_ts=thread_ts,
                )
            except Exception:
                # The message is already out; a missing chart must not make it be sent again.
                log.exception("uploading chart %s to %s failed", image.ref, channel)

