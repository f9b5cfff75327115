"""Sending deliveries (the outbox) to Slack: the ChatGateway for Slack.

Limits (https://docs.slack.dev/apis/web-api/rate-limits): chat.postMessage allows about
one message per second per channel with short bursts, and a workspace-wide limit per
method.  So the sender
* paces each channel (``per_channel_interval``, default 1 s between messages),
* on 429 pauses *every* call of that method for ``Retry-After`` (calls already waiting
  wait too, instead of each finding the limit again), then retries at the rate Slack
  admitted; after a burst the pause ends when the limit's window reopens, which the
  whole-second Retry-After overstates by up to a second,
* retries 5xx and connection errors with exponential backoff,
and raises ``DeliveryError`` as soon as waiting in this process stops making sense (a
Retry-After over a few seconds, still failing after ``max_attempts``, or the delivery's
``SEND_BUDGET`` spent): the outbox then retries later.  Errors that retrying cannot fix
(no Slack user for the e-mail, unknown channel, refused blocks) are ``permanent``.

Waiting stays short because the outbox leases a delivery for a few minutes and starts a
send only while two of them are left (bot/deliveries/service.py): a send that waited out
long Retry-Afters in process could outlive its lease, and another sender would claim the
row and post the card again.  The outbox's own backoff waits the long pauses instead.

Nothing is lost or sent twice by statbot: a card can take several messages, chart
uploads, and the files of an attached document (a sent brief or memo goes with its PDF
and Markdown, shared together by one files.completeUploadExternal: one step).  When a
later step fails, the delivery's ``platform_ref`` records how many steps went out
(``<first ts>;sent=<n>``) and the DeliveryError hands it back to the outbox, whose
retry resumes after them.  Slack itself offers no idempotency key for chat.postMessage,
so a 5xx *after* Slack stored the message can still show it twice;
that is Slack's limit, not ours.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp
from pydantic import TypeAdapter, ValidationError
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from adapters.documents import DocumentFile
from adapters.slack.people import SlackPeople
from adapters.slack.render import fallback_text, render_card_messages
from adapters.slack.wire import REPLAY
from bot.deliveries.models import Audience, Delivery
from bot.messages import Attachment, Button, Buttons, Card, Form, Heading, Image, Message
from bot.ports import DatabaseUnavailable, DeliveryError, UnitOfWorkFactory

log = logging.getLogger(__name__)

_MESSAGE: TypeAdapter[Card | Form] = TypeAdapter(Message)
_CHANNEL_ID = re.compile(r"[CGD][A-Z0-9]{6,}")
# Slack errors that retrying the same call can never fix.
PERMANENT = {
    "channel_not_found",
    "not_in_channel",
    "is_archived",
    "invalid_blocks",
    "invalid_blocks_format",
    "msg_too_long",
    "no_text",
    "user_not_found",
    "users_not_found",
    "account_inactive",
    "cannot_dm_bot",
    "restricted_action",
    "invalid_arguments",
    "too_many_attachments",
}
# Seconds one delivery may spend waiting on Slack (pauses, backoff) before it goes back to
# the outbox.  With the outbox client's 20 s timeout for the call in flight and the people
# lookups, a send stays well inside the two minutes the outbox leaves it (SEND_MARGIN).
SEND_BUDGET = 45.0


@dataclass(frozen=True, slots=True)
class SlackFile:
    content: bytes
    filename: str
    title: str
    alt_txt: str | None = None


class SlackSender:
    """Calls the Web API with per-channel pacing, shared 429 pauses and 5xx backoff."""

    def __init__(
        self,
        client: AsyncWebClient,
        *,
        per_channel_interval: float = 1.0,
        # Few attempts and short waits: anything longer is the outbox's to wait (see above).
        max_attempts: int = 3,
        max_wait: float = 5.0,
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

    def deadline(self, budget: float = SEND_BUDGET) -> float:
        """The monotonic time after which a call stops waiting and raises DeliveryError."""
        return self._now() + budget

    def _check(self, method: str, wait: float, deadline: float | None) -> None:
        if deadline is not None and self._now() + wait > deadline:
            raise DeliveryError(f"{method}: send budget spent", retry_after=max(wait, 1.0))

    async def _wait_pause(self, method: str, deadline: float | None = None) -> None:
        while (until := self._paused_until.get(method, 0.0)) > (now := self._now()):
            self._check(method, until - now, deadline)
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
        recent = [t for t in self._recent.get(method, ()) if t >= now - 1.0]
        until = now + retry_after
        if len(recent) >= 2:
            interval = 1.0 / (0.98 * len(recent))
            self._interval[method] = max(interval, self._interval.get(method, 0.0))
            # Slack's Retry-After is whole seconds, rounded up: after a burst, the limit
            # admits again once its first calls are a second old, often well before
            # ``now + Retry-After`` (a full second lost on the first 429 of a fan-out).
            # Resume then, paced, but never sooner than the header's lower bound.
            reopens = max(recent[0] + 1.0, now + retry_after - 1.0, now + interval)
            until = min(until, reopens)
        self._paused_until[method] = max(self._paused_until.get(method, 0.0), until)
        self._pace_until[method] = now + 60.0

    async def call(
        self, method: str, *, channel: str | None = None, deadline: float | None = None, **kwargs: Any
    ) -> AsyncSlackResponse:
        if channel is not None:
            kwargs["channel"] = channel
        await self._pace(channel if method.startswith("chat.post") else None)
        last = "no attempt"
        for attempt in range(1, self.max_attempts + 1):
            await self._wait_pause(method, deadline)
            self._check(method, 0.0, deadline)
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
                wait = self.base_backoff * 2 ** (attempt - 1)
                self._check(method, wait, deadline)
                await self._sleep(wait)
        raise DeliveryError(f"gave up after {self.max_attempts} attempts: {last}")

    async def upload(
        self,
        *,
        channel: str,
        files: Sequence[SlackFile],
        thread_ts: str | None = None,
        deadline: float | None = None,
    ) -> None:
        """files_upload_v2's three steps, each with this sender's pauses and retries
        (the SDK's files_upload_v2 would make them without): an upload URL and the bytes
        for each file, then one files.completeUploadExternal that shares them all.  Until
        that last call nothing is shared, so an upload that failed before it can be
        started over without anyone seeing a file twice."""
        method = "files.getUploadURLExternal"
        shared: list[dict[str, str]] = []
        for file in files:
            got = await self.call(
                method,
                filename=file.filename,
                length=len(file.content),
                alt_txt=file.alt_txt,
                deadline=deadline,
            )
            url, file_id = got.get("upload_url"), got.get("file_id")
            if not isinstance(url, str) or not isinstance(file_id, str):
                raise DeliveryError(f"{method}: no upload_url or file_id")
            await self._post_file(url, file.content, deadline)
            shared.append({"id": file_id, "title": file.title})
        await self.call(
            "files.completeUploadExternal",
            files=shared,
            channel_id=channel,
            thread_ts=thread_ts,
            deadline=deadline,
        )

    async def _post_file(self, url: str, content: bytes, deadline: float | None) -> None:
        last = "no attempt"
        for attempt in range(1, self.max_attempts + 1):
            self._check("file upload", 0.0, deadline)
            try:
                if self.client.session is not None:
                    status = await _post_bytes(self.client.session, url, content)
                else:
                    timeout = aiohttp.ClientTimeout(total=self.client.timeout)
                    async with aiohttp.ClientSession(timeout=timeout) as session:
                        status = await _post_bytes(session, url, content)
                if status == 200:
                    return
                if status < 500 and status != 429:
                    raise DeliveryError(f"file upload: Slack answered {status}", permanent=True)
                last = f"file upload: Slack answered {status}"
            except (TimeoutError, aiohttp.ClientError) as exc:
                last = f"file upload: {type(exc).__name__}: {exc}"
            if attempt < self.max_attempts:
                wait = self.base_backoff * 2 ** (attempt - 1)
                self._check("file upload", wait, deadline)
                await self._sleep(wait)
        raise DeliveryError(f"gave up after {self.max_attempts} attempts: {last}")


async def _post_bytes(session: aiohttp.ClientSession, url: str, content: bytes) -> int:
    async with session.post(url, data=content) as response:
        await response.read()
        return response.status


def _retry_after(headers: Any) -> float:
    for name, value in (headers or {}).items():
        if name.lower() == "retry-after":
            raw = value[0] if isinstance(value, list) else value
            try:
                return max(float(raw), 0.0)
            except (TypeError, ValueError):
                break
    return 1.0


@dataclass
class _Progress:
    """How far a multi-step delivery got: the first message's ts (charts and documents
    thread under it) and how many steps (messages, then charts, then documents) are
    out.  Kept in ``platform_ref`` while a delivery is unfinished; a finished one keeps
    only the ts."""

    first_ts: str | None = None
    sent: int = 0

    @classmethod
    def read(cls, ref: str | None) -> _Progress:
        ts, _, sent = (ref or "").partition(";sent=")
        if not sent.isdigit():
            return cls()
        return cls(first_ts=ts or None, sent=int(sent))

    def ref(self) -> str | None:
        return f"{self.first_ts or ''};sent={self.sent}" if self.sent else None


class ChannelDirectory:
    """Channel names of the org file → Slack channel ids (conversations.list).

    Kept in memory per process: channel names rarely change, and an unknown name is
    looked up again (a channel created after start is found)."""

    def __init__(self, sender: SlackSender) -> None:
        self.sender = sender
        self._ids: dict[str, str] = {}

    async def resolve(self, name: str, *, deadline: float | None = None) -> str | None:
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
                deadline=deadline,
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
# An attached document's ref → its files (None: no such document is kept).
DocumentLoader = Callable[[str], Awaitable[Sequence[DocumentFile] | None]]


def form_as_card(form: Form, replay_text: str | None = None) -> Card:
    """A form cannot be sent as a message (a modal needs a click's trigger_id): show its
    title and intro with a button that opens it — the check-in's own button, or a replay
    of the text turn that asked for it."""
    if "checkin" in form.ids:
        button = Button(
            label="Open the form",
            action="checkin.open",
            ids={"checkin": form.ids["checkin"]},
            style="primary",
        )
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
        documents: DocumentLoader | None = None,
    ) -> None:
        self.sender = sender
        self.people = people
        self.uow = uow_factory
        self.channels = ChannelDirectory(sender)
        self.charts = charts
        self.documents = documents
        # person id → DM channel; DM channels never change, so the database (which also
        # keeps them) is read once per person per process.
        self._dm: dict[int, str] = {}
        self._dm_loaded_at = -1e9
        # One load at a time: the sends of a fan-out that start together wait for the
        # first one's load instead of each looking its person up on its own.
        self._dm_loading = asyncio.Lock()

    async def send(self, delivery: Delivery) -> str | None:
        try:
            message = _MESSAGE.validate_python(delivery.payload)
        except ValidationError as exc:
            problems = f"unreadable payload: {exc.error_count()} problem(s)"
            raise DeliveryError(problems, permanent=True) from None
        card = message if isinstance(message, Card) else form_as_card(message)
        deadline = self.sender.deadline()
        channel = await self._channel(delivery.audience, deadline)
        progress = _Progress.read(delivery.platform_ref)
        try:
            return await self._post_steps(channel, card, progress, deadline)
        except DeliveryError:
            # What is out stays out: the outbox's retry resumes after it.
            delivery.platform_ref = progress.ref()
            raise

    async def _channel(self, audience: str, deadline: float | None = None) -> str:
        to = Audience.parse(audience)
        person_id, name = (to.person_id, to.channel_name) if to else (None, None)
        try:
            if person_id is not None and person_id not in self._dm:
                await self._load_dm_channels()
            if person_id is not None and person_id in self._dm:
                return self._dm[person_id]
            if person_id is not None:
                async with self.uow() as uow:
                    person = await uow.people.get(person_id)
                if person is None or not person.active:
                    raise DeliveryError(f"{audience}: no such active person", permanent=True)
                channel = await self.people.dm_channel(person)
                if channel is None:
                    raise DeliveryError(f"{person.email} has no Slack user with that e-mail", permanent=True)
                self._dm[person_id] = channel
                return channel
            if name is not None:
                channel = await self.channels.resolve(name, deadline=deadline)
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
        async with self._dm_loading:
            now = time.monotonic()
            if now - self._dm_loaded_at < 5.0:
                return
            self._dm_loaded_at = now
            async with self.uow() as uow:
                for person in await uow.people.all():
                    if person.id is not None and person.slack_dm_channel:
                        self._dm[person.id] = person.slack_dm_channel

    async def post_card(self, channel: str, card: Card) -> str | None:
        """Post a card (split into messages of at most 50 blocks) and upload its charts
        and the files of its documents.

        Returns the ts of the first message.  Raises DeliveryError when a step fails; use
        ``send`` for deliveries, which resumes a card after the steps already out."""
        return await self._post_steps(channel, card, _Progress(), self.sender.deadline())

    async def _post_steps(self, channel: str, card: Card, progress: _Progress, deadline: float) -> str | None:
        mention_ids = await self.people.mention_ids([card])
        text = fallback_text(card)
        # The steps: the messages, then the charts, then each attached document's files.
        images = [p for p in card.parts if isinstance(p, Image)] if self.charts is not None else []
        documents = [p for p in card.parts if isinstance(p, Attachment)] if self.documents is not None else []
        # Whether the files come changes a line of the card, never its number of messages.
        first_document = len(render_card_messages(card) or [[]]) + len(images) if documents else 0
        # Made before the card is posted, so it says whether the files come with it.
        files = {
            part.ref: await self._document_files(part)
            for index, part in enumerate(documents, start=first_document)
            if index >= progress.sent
        }
        attached = {ref for ref, found in files.items() if found}
        messages = render_card_messages(card, mention_ids=mention_ids, attached=attached) or [[]]
        for index, blocks in enumerate(messages):
            if index < progress.sent:
                continue
            response = await self.sender.call(
                "chat.postMessage",
                channel=channel,
                text=text,
                blocks=blocks,
                unfurl_links=False,
                deadline=deadline,
            )
            if progress.first_ts is None:
                progress.first_ts = response.get("ts")
            progress.sent = index + 1
        for index, image in enumerate(images, start=len(messages)):
            if index < progress.sent:
                continue
            await self._upload_chart(channel, image, progress.first_ts, deadline)
            progress.sent = index + 1
        for index, part in enumerate(documents, start=len(messages) + len(images)):
            if index < progress.sent:
                continue
            await self._upload_document(channel, part, files.get(part.ref, []), progress.first_ts, deadline)
            progress.sent = index + 1
        return progress.first_ts

    async def _document_files(self, part: Attachment) -> list[DocumentFile]:
        """The files of an attached document; none (and a line in the log) when it cannot
        be had: the card then says how to read it in the chat."""
        assert self.documents is not None
        try:
            found = await self.documents(part.ref)
        except DatabaseUnavailable:
            raise DeliveryError(f"{part.ref}: the database is unavailable; retry later") from None
        except Exception as exc:
            log.error(
                "%s could not be loaded (%s); the card says how to read it", part.ref, type(exc).__name__
            )
            return []
        if not found:
            log.warning("%s is not kept; the card says how to read it", part.ref)
            return []
        return list(found)

    async def _upload_document(
        self,
        channel: str,
        part: Attachment,
        files: Sequence[DocumentFile],
        thread_ts: str | None,
        deadline: float,
    ) -> None:
        if not files:
            return
        kinds = {"application/pdf": "PDF", "text/markdown": "Markdown"}
        uploads = [
            SlackFile(
                content=f.content,
                filename=f.filename,
                title=f"{part.title} ({kinds.get(f.media_type.split(';')[0], f.media_type)})"[:250],
            )
            for f in files
        ]
        try:
            await self.sender.upload(channel=channel, files=uploads, thread_ts=thread_ts, deadline=deadline)
        except DeliveryError as exc:
            if not exc.permanent:
                raise  # the outbox retries the files (and only the files) later
            log.error("Slack refused the files of %s for %s: %s", part.ref, channel, exc)

    async def _upload_chart(self, channel: str, image: Image, thread_ts: str | None, deadline: float) -> None:
        assert self.charts is not None
        try:
            found = await self.charts(image.ref)
            if found is None:
                log.warning("chart %s is not stored; the card shows its description", image.ref)
                return
            png, alt_text, title = found
            chart = SlackFile(
                content=png,
                filename=f"{image.ref}.png",
                title=image.title or title or image.alt_text[:250],
                alt_txt=(image.alt_text or alt_text)[:1000],
            )
            await self.sender.upload(channel=channel, files=[chart], thread_ts=thread_ts, deadline=deadline)
        except DeliveryError as exc:
            if not exc.permanent:
                raise  # the outbox retries the chart (and only the chart) later
            # Slack refuses this file for good; the card already carries its description.
            log.error("Slack refused chart %s for %s: %s", image.ref, channel, exc)
        except Exception:
            log.exception(
                "chart %s for %s could not be prepared; the card shows its description", image.ref, channel
            )
