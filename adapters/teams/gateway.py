"""Sending deliveries to Teams proactively: the ChatGateway for Teams.  No botbuilder here.

Limits (PITFALLS.md, Teams): 7 messages per second per conversation and about 30 requests
per second per tenant.  The sender paces both with sliding one-second windows, shares a
pause after a 429 (every send to that tenant waits it out), and retries 429, 412, 502 and
504 with exponential backoff and full jitter, honouring Retry-After.  When waiting in
process stops making sense it raises DeliveryError and the outbox retries later.

Nothing lost, nothing twice: a card may take several messages (a long digest); the
delivery's ``platform_ref`` records the first message id and how many went out
(``<first id>;sent=<n>``), and a retry resumes after them.  The connector's own HTTP
retries are off (transport.py), so one attempt here is one POST.
"""

from __future__ import annotations

import asyncio
import base64
import random
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol

from pydantic import TypeAdapter, ValidationError

from adapters.teams import parse
from adapters.teams.render import render_card_messages, render_form
from bot.deliveries.models import Audience, Delivery
from bot.messages import Card, Form, Image, Message
from bot.ports import DeliveryError, UnitOfWorkFactory

_MESSAGE: TypeAdapter[Card | Form] = TypeAdapter(Message)
RETRIED = {429, 412, 502, 504}
PER_CONVERSATION = 7
PER_TENANT = 30
SEND_BUDGET = 45.0
# Charts are embedded as data URIs up to this size (government clouds refuse image URLs).
INLINE_IMAGE_BYTES = 16_000

ChartLoader = Callable[[str], Awaitable[bytes | None]]


class Failure(Protocol):
    status: int | None
    retry_after: float | None


class Poster(Protocol):
    async def send_one(self, reference: Mapping[str, Any], card: Mapping[str, Any]) -> str: ...


class _Window:
    """At most ``rate`` starts in any one second."""

    def __init__(self, rate: int) -> None:
        self.rate = rate
        self.starts: deque[float] = deque()
        self.lock = asyncio.Lock()
        self.paused_until = 0.0

    async def acquire(self) -> None:
        async with self.lock:
            while True:
                now = time.monotonic()
                if now < self.paused_until:
                    await asyncio.sleep(self.paused_until - now)
                    continue
                while self.starts and now - self.starts[0] >= 1.0:
                    self.starts.popleft()
                if len(self.starts) < self.rate:
                    self.starts.append(now)
                    return
                await asyncio.sleep(1.0 - (now - self.starts[0]) + 0.001)


class TeamsSender:
    def __init__(
        self,
        poster: Poster,
        *,
        per_conversation: int = PER_CONVERSATION,
        per_tenant: int = PER_TENANT,
        max_attempts: int = 6,
        base_delay: float = 0.25,
        max_wait: float = 8.0,
    ) -> None:
        self.poster = poster
        self.per_conversation = per_conversation
        self.per_tenant = per_tenant
        self.max_attempts = max_attempts
        self.base_delay = base_delay
        self.max_wait = max_wait
        self._conversations: dict[str, _Window] = {}
        self._tenants: dict[str, _Window] = {}
        self.attempts = 0

    def _window(self, table: dict[str, _Window], key: str, rate: int) -> _Window:
        if key not in table:
            table[key] = _Window(rate)
        return table[key]

    async def post(self, reference: Mapping[str, Any], card: Mapping[str, Any], deadline: float) -> str:
        conversation = str((reference.get("conversation") or {}).get("id", ""))
        tenant = self._window(self._tenants, parse.tenant_of(reference), self.per_tenant)
        window = self._window(self._conversations, conversation, self.per_conversation)
        for attempt in range(1, self.max_attempts + 1):
            await window.acquire()
            await tenant.acquire()
            self.attempts += 1
            try:
                return await self.poster.send_one(reference, card)
            except Exception as exc:
                status = getattr(exc, "status", None)
                if status not in RETRIED and status is not None and 400 <= status < 500:
                    raise DeliveryError(
                        f"Teams refused the message ({status})", permanent=status in (400, 403, 404)
                    ) from None
                if status not in RETRIED and status is not None:
                    raise DeliveryError(f"Teams answered {status}") from None
                retry_after = getattr(exc, "retry_after", None)
                backoff = random.uniform(0, self.base_delay * 2 ** (attempt - 1))
                wait = max(retry_after or 0.0, backoff)
                if status == 429:
                    # Everyone sending to this tenant waits, instead of each finding the limit.
                    tenant.paused_until = max(tenant.paused_until, time.monotonic() + wait)
                if attempt == self.max_attempts or wait > self.max_wait or time.monotonic() + wait > deadline:
                    raise DeliveryError(
                        f"Teams answered {status or type(exc).__name__}; retry later", retry_after=retry_after
                    ) from None
                await asyncio.sleep(wait)
        raise AssertionError("unreachable")


def _progress(ref: str | None) -> tuple[str, int]:
    if not ref or ";sent=" not in ref:
        return (ref or ""), (1 if ref else 0)
    first, _, count = ref.partition(";sent=")
    return first, int(count) if count.isdigit() else 0


class TeamsGateway:
    """``person:<id>`` goes to the person's stored conversation; ``channel:teams:<team>/<channel>``
    to that channel, reached through the service URL of the org's stored references."""

    def __init__(
        self,
        sender: TeamsSender,
        uow_factory: UnitOfWorkFactory,
        *,
        charts: ChartLoader | None = None,
        public_url: str | None = None,
    ) -> None:
        self.sender = sender
        self.uow = uow_factory
        self.charts = charts
        self.public_url = public_url

    async def send(self, delivery: Delivery) -> str | None:
        try:
            message = _MESSAGE.validate_python(delivery.payload)
        except ValidationError as exc:
            raise DeliveryError(
                f"unreadable payload: {exc.error_count()} problem(s)", permanent=True
            ) from None
        reference, mention_ids = await self._reference(delivery.audience)
        if isinstance(message, Form):
            cards = [render_form(message, mention_ids=mention_ids)]
        else:
            images = await self._images(message)
            cards = render_card_messages(message, mention_ids=mention_ids, images=images)
        deadline = time.monotonic() + SEND_BUDGET
        first, done = _progress(delivery.platform_ref)
        for index, card in enumerate(cards):
            if index < done:
                continue
            try:
                sent = await self.sender.post(reference, card, deadline)
            except DeliveryError:
                if done:
                    delivery.platform_ref = f"{first};sent={done}"
                raise
            first = first or sent
            done = index + 1
        return first if len(cards) == 1 else f"{first};sent={done}"

    async def _reference(self, audience: str) -> tuple[dict[str, Any], dict[str, str]]:
        to = Audience.parse(audience)
        async with self.uow() as uow:
            people = list(await uow.people.all())
        mention_ids = {p.email.lower(): p.teams_user_id for p in people if p.teams_user_id}
        channel = Delivery.channel_of(audience)
        if channel is not None and channel[0] == "teams":
            stored = next((p.teams_conversation for p in people if p.teams_conversation), None)
            if stored is None:
                raise DeliveryError("no Teams conversation stored yet: install the app first")
            _, _, channel_id = channel[1].rpartition("/")
            tenant = parse.tenant_of(stored)
            return (
                {
                    "bot": stored.get("bot"),
                    "channelId": "msteams",
                    "serviceUrl": stored.get("serviceUrl"),
                    "conversation": {
                        "id": channel_id,
                        "isGroup": True,
                        "conversationType": "channel",
                        "tenantId": tenant,
                    },
                },
                mention_ids,
            )
        if to is None or to.person_id is None:
            raise DeliveryError(f"unknown audience {audience!r}", permanent=True)
        person = next((p for p in people if p.id == to.person_id), None)
        if person is None or not person.active:
            raise DeliveryError(f"{audience}: no such active person", permanent=True)
        if not person.teams_conversation:
            raise DeliveryError(f"{person.email}: the Teams app is not installed for them yet")
        return dict(person.teams_conversation), mention_ids

    async def _images(self, card: Card) -> dict[str, str]:
        images: dict[str, str] = {}
        for part in card.parts:
            if isinstance(part, Image) and self.charts is not None:
                png = await self.charts(part.ref)
                if png is not None:
                    url = image_url(part.ref, png, self.public_url)
                    if url is not None:
                        images[part.ref] = url
        return images


def image_url(ref: str, png: bytes, public_url: str | None) -> str | None:
    """A data URI when the image is small enough, else a URL under STATBOT_PUBLIC_URL."""
    if len(png) * 4 // 3 <= INLINE_IMAGE_BYTES:
        return "data:image/png;base64," + base64.b64encode(png).decode("ascii")
    if public_url:
        return f"{public_url.rstrip('/')}/charts/{ref}.png"
    return None
