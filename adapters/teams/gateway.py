"""Sending deliveries to Teams proactively: the ChatGateway for Teams.  No botbuilder here.

Limits (PITFALLS.md, Teams): 7 messages per second per conversation and about 30 requests
per second per tenant.  The sender paces both with one-second windows counted the way
the other side counts (see ``_Window``), shares a pause after a 429 (every send to that
tenant waits it out), and retries 429, 412, 502 and 504 with exponential backoff and full
jitter, honouring Retry-After.  When waiting in process stops making sense it raises
DeliveryError and the outbox retries later.

Nothing lost, nothing twice: a card may take several messages (a long digest); the
delivery's ``platform_ref`` records the ids of the messages that went out and how many
(``<id 1>,<id 2>,…;sent=<n>``), and a retry resumes after them.  The ids let a click on
any part of a split card find and settle its message (app.py).  The column holds 200
characters: ids that do not fit are left out (Teams message ids are 13-digit
timestamps, so that takes a card of over a dozen messages).  The connector's own HTTP
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
from urllib.parse import quote

from pydantic import TypeAdapter, ValidationError

from adapters.teams import parse
from adapters.teams.render import render_card_messages, render_form
from bot.deliveries.models import Audience, Delivery
from bot.messages import Attachment, Card, Form, Image, Message
from bot.org.models import Person
from bot.ports import DeliveryError, UnitOfWorkFactory

_MESSAGE: TypeAdapter[Card | Form] = TypeAdapter(Message)
RETRIED = {429, 412, 502, 504}
PER_CONVERSATION = 7
PER_TENANT = 30
SEND_BUDGET = 45.0
# How often everyone (references, mention ids) is re-read; a person missing from that
# read, or without a reference in it, is read alone when a delivery names them.
PEOPLE_REFRESH = 60.0
# Charts are embedded as data URIs up to this size (government clouds refuse image URLs).
INLINE_IMAGE_BYTES = 16_000
CHART_PATH = "/teams/charts"
# Attached documents (a sent brief or memo), hosted as files: a bot cannot simply attach
# a file in a personal chat (that takes Teams' file consent flow), so the card links them.
DOCUMENT_PATH = "/documents"

ChartLoader = Callable[[str], Awaitable[bytes | None]]
# An attachment → its files' names and hosted URLs (none: the card says how to read it).
DocumentLinker = Callable[[Attachment], Awaitable[list[tuple[str, str]]]]


class Failure(Protocol):
    status: int | None
    retry_after: float | None


class Poster(Protocol):
    async def prepare(self, reference: Mapping[str, Any]) -> None: ...

    async def send_one(self, reference: Mapping[str, Any], card: Mapping[str, Any]) -> str: ...


class _Slot:
    """One request's place in a window: it counts from when it was let go until a second
    after its answer came back."""

    __slots__ = ("done", "end")

    def __init__(self) -> None:
        self.end: float | None = None
        self.done = asyncio.Event()


class _Window:
    """At most ``rate`` requests in any one second *as the other side counts them*: it
    counts a request when it arrives, some time between our start and our reading its
    answer.  So a request starts only a second after the answer to the one ``rate``
    requests before it came back: arrival k ≥ start k ≥ answer k-rate + 1 s ≥ arrival
    k-rate + 1 s, whatever the jitter of a busy machine, and the window can use the whole
    limit.  (A window of start times alone cannot promise that — a late start followed
    by a punctual one arrive together — and had to stay two below the limit.)  Starts
    are also spread one every ``1 / rate`` seconds, on the ideal schedule rather than
    from late wake-ups (a busy loop wakes sleepers late, and that lateness would add up),
    so a queue does not leave as one burst."""

    def __init__(self, rate: int) -> None:
        self.rate = rate
        self.interval = 1.0 / rate
        self.limit = rate
        self.recent: deque[_Slot] = deque()
        self.lock = asyncio.Lock()
        self.paused_until = 0.0
        self.next_start = 0.0

    async def acquire(self) -> _Slot:
        async with self.lock:
            while True:
                now = time.monotonic()
                wait = max(self.paused_until, self.next_start) - now
                if wait > 0:
                    await asyncio.sleep(wait)
                    continue
                if len(self.recent) >= self.limit:
                    oldest = self.recent[0]
                    if oldest.end is None:
                        await oldest.done.wait()
                        continue
                    wait = oldest.end + 1.0 - now
                    if wait > 0:
                        await asyncio.sleep(wait)
                        continue
                    self.recent.popleft()
                    continue
                slot = _Slot()
                self.recent.append(slot)
                self.next_start = max(self.next_start, now - self.interval) + self.interval
                return slot

    @staticmethod
    def release(slot: _Slot) -> None:
        slot.end = time.monotonic()
        slot.done.set()


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
        try:
            # Outside the pacing: a start slot is spent on a POST, not on getting ready.
            await self.poster.prepare(reference)
        except Exception as exc:
            raise DeliveryError(f"Teams connector not ready ({type(exc).__name__}); retry later") from None
        for attempt in range(1, self.max_attempts + 1):
            try:
                return await self._attempt(window, tenant, reference, card)
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

    async def _attempt(
        self, window: _Window, tenant: _Window, reference: Mapping[str, Any], card: Mapping[str, Any]
    ) -> str:
        mine = await window.acquire()
        try:
            ours = await tenant.acquire()
            try:
                self.attempts += 1
                return await self.poster.send_one(reference, card)
            finally:
                tenant.release(ours)
        finally:
            window.release(mine)


REF_CHARS = 200  # the deliveries.platform_ref column


def message_ids(ref: str | None) -> tuple[list[str], int]:
    """The message ids a delivery's ``platform_ref`` records, and how many messages went
    out (more than the ids when they did not all fit, or in a ref written before ids
    were kept: ``<first id>;sent=<n>``)."""
    if not ref:
        return [], 0
    ids, _, count = ref.partition(";sent=")
    found = [i for i in ids.split(",") if i]
    return found, (int(count) if count.isdigit() else len(found))


def progress_ref(ids: list[str], sent: int) -> str:
    """``platform_ref`` for ``sent`` messages out of which ``ids`` are known: one
    message's id alone (what a one-message card always had), else the ids that fit."""
    if sent == 1 and len(ids) == 1:
        return ids[0]
    suffix = f";sent={sent}"
    kept: list[str] = []
    for ident in ids:
        if len(",".join([*kept, ident])) + len(suffix) > REF_CHARS:
            break
        kept.append(ident)
    return ",".join(kept) + suffix


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
        signer: Callable[[str], str] | None = None,
        documents: DocumentLinker | None = None,
    ) -> None:
        self.sender = sender
        self.signer = signer
        self.documents = documents
        self.uow = uow_factory
        self.charts = charts
        self.public_url = public_url
        self._by_id: dict[int, Person] = {}
        self._mention_ids: dict[str, str] = {}
        self._loaded_at = -1e9
        self._loading = asyncio.Lock()

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
            documents = await self._documents(message)
            cards = render_card_messages(message, mention_ids=mention_ids, images=images, documents=documents)
        deadline = time.monotonic() + SEND_BUDGET
        try:
            return await self._post_all(delivery, reference, cards, deadline)
        except DeliveryError as exc:
            fresh = await self._stored_since(delivery.audience, reference) if exc.permanent else None
            if fresh is None:
                raise
            # Teams refused the conversation we knew, and the person has another one
            # now (a reinstall that another replica stored after our last read).
            return await self._post_all(delivery, fresh, cards, deadline)

    async def _post_all(
        self, delivery: Delivery, reference: Mapping[str, Any], cards: list[dict[str, Any]], deadline: float
    ) -> str | None:
        ids, done = message_ids(delivery.platform_ref)
        for index, card in enumerate(cards):
            if index < done:
                continue
            try:
                sent = await self.sender.post(reference, card, deadline)
            except DeliveryError:
                if done:
                    delivery.platform_ref = progress_ref(ids, done)
                raise
            if len(ids) == done and sent:  # every id so far is known: this one follows them
                ids.append(sent)
            done = index + 1
        if len(cards) == 1:
            return ids[0] if ids else None
        return progress_ref(ids, done)

    async def _stored_since(self, audience: str, used: Mapping[str, Any]) -> dict[str, Any] | None:
        """The person's conversation reference as stored now, when it is not ``used``."""
        to = Audience.parse(audience)
        if to is None or to.person_id is None:
            return None
        async with self.uow() as uow:
            person = await uow.people.get(to.person_id)
        if person is None or not person.active or not person.teams_conversation:
            return None
        self.remember(person)
        return None if person.teams_conversation == dict(used) else dict(person.teams_conversation)

    def remember(self, person: Person) -> None:
        """What the adapter just stored for ``person`` (a new conversation reference on a
        reinstall): used from the next send on, not after the next full re-read."""
        if person.id is None:
            return
        self._by_id[person.id] = person
        if person.teams_user_id:
            self._mention_ids[person.email.lower()] = person.teams_user_id

    async def _people(self, person_id: int | None) -> tuple[list[Person], dict[str, str]]:
        """Everyone (for mentions and channel references), read at most every few seconds:
        a prompt sweep sends to the whole org.  Someone not seen yet is read alone."""
        if time.monotonic() - self._loaded_at >= PEOPLE_REFRESH:
            # One read for everyone: a fan-out's first sends all get here at once, and
            # each reading the whole org cost seconds before the first message went out.
            async with self._loading:
                now = time.monotonic()
                if now - self._loaded_at >= PEOPLE_REFRESH:
                    async with self.uow() as uow:
                        people = list(await uow.people.all())
                    self._by_id = {p.id: p for p in people if p.id is not None}
                    self._mention_ids = {p.email.lower(): p.teams_user_id for p in people if p.teams_user_id}
                    self._loaded_at = now
        elif person_id is not None and (
            person_id not in self._by_id or not self._by_id[person_id].teams_conversation
        ):
            async with self.uow() as uow:
                found = await uow.people.get(person_id)
            if found is not None:
                self._by_id[person_id] = found
                if found.teams_user_id:
                    self._mention_ids[found.email.lower()] = found.teams_user_id
        return list(self._by_id.values()), self._mention_ids

    async def _reference(self, audience: str) -> tuple[dict[str, Any], dict[str, str]]:
        to = Audience.parse(audience)
        channel = Delivery.channel_of(audience)
        people, mention_ids = await self._people(to.person_id if to is not None else None)
        if channel is not None and channel[0] == "teams":
            stored = next((p.teams_conversation for p in people if p.teams_conversation), None)
            if stored is None:
                raise DeliveryError("no Teams conversation stored yet: install the app first")
            _, _, channel_id = channel[1].rpartition("/")
            tenant = parse.tenant_of(stored)
            conversation = {
                "id": channel_id,
                "isGroup": True,
                "conversationType": "channel",
                "tenantId": tenant,
            }
            return (
                {
                    "bot": stored.get("bot"),
                    "channelId": "msteams",
                    "serviceUrl": stored.get("serviceUrl"),
                    "conversation": conversation,
                },
                mention_ids,
            )
        if to is None or to.person_id is None:
            raise DeliveryError(f"unknown audience {audience!r}", permanent=True)
        person = self._by_id.get(to.person_id)
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
                    url = image_url(part.ref, png, self.public_url, self.signer)
                    if url is not None:
                        images[part.ref] = url
        return images

    async def _documents(self, card: Card) -> dict[str, list[tuple[str, str]]]:
        if self.documents is None:
            return {}
        return {p.ref: await self.documents(p) for p in card.parts if isinstance(p, Attachment)}


def image_url(
    ref: str, png: bytes, public_url: str | None, signer: Callable[[str], str] | None = None
) -> str | None:
    """A data URI when the image is small enough (government clouds refuse image URLs),
    else a URL under STATBOT_PUBLIC_URL carrying an unguessable signature of the ref,
    which the bot serves (``/teams/charts/...``); None when neither is possible."""
    if len(png) * 4 // 3 <= INLINE_IMAGE_BYTES:
        return "data:image/png;base64," + base64.b64encode(png).decode("ascii")
    if public_url and signer is not None:
        return f"{public_url.rstrip('/')}{CHART_PATH}/{quote(ref, safe='')}/{signer(ref)}.png"
    return None
