"""The Teams adapter: parse → core → render → reply, over the transport (transport.py).

Each activity is recorded with ``uow.events.first_time("teams", <conversation>|<id>)``
before anything else, so a redelivery (Teams retries when an answer is slow) is dropped;
a turn that shutdown cuts off is forgotten again (before the core finished: the
redelivery is processed) or its answer goes through the outbox (after: the change is
stored), adapters/shutdown.py.
On an install (conversationUpdate) and on every message the sender is linked to the org
person by e-mail/UPN, looked up through the connector, and the conversation reference of
their personal chat is stored for proactive messages.

A personal install is greeted with the person's home card (the core's, as Slack's App
Home shows it); ``home`` typed shows it again.

Card clicks: an Action.Execute invoke is answered with the refreshed card (the first
message of the reply; a form with field errors re-renders in place with what was typed
kept); an Action.Submit message gets the reply as new messages and, when the click
settled its item, the card it came from is updated for everyone.  A long card went out
as several messages (render.split_card); a click on any of them settles them all.

An outage: when the database cannot be reached, every turn answers the core's "try
again in a minute" (a reply, or for an invoke a message that leaves the card as it was,
so nothing typed is lost) instead of failing the request.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import secrets
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from pydantic import TypeAdapter, ValidationError

from adapters import logs
from adapters.container import Container
from adapters.documents import MARKDOWN, PDF, load_document, markdown_pdf
from adapters.metrics import Metrics
from adapters.shutdown import Progress, cut_off_safely, finish_turns
from adapters.teams import parse
from adapters.teams.gateway import CHART_PATH, DOCUMENT_PATH, TeamsGateway, TeamsSender, message_ids
from adapters.teams.render import render_card, render_card_messages, render_form, split_card
from adapters.teams.transport import InvokeAnswer, TeamsTransport, Turn
from bot.cards import DATABASE_UNAVAILABLE, UNREADABLE, database_unavailable
from bot.conversation import StatBot
from bot.messages import Attachment, Buttons, Card, Form, Message, Note, Part, Reply
from bot.org.models import Person
from bot.ports import DatabaseUnavailable, DeliveryError
from bot.sessions.documents import document_id, document_ref

log = logging.getLogger(__name__)

_MESSAGE: TypeAdapter[Card | Form] = TypeAdapter(Message)
NOT_INSTALLED = "Teams: the app is not installed for them"
REFUSAL = "I don't know you yet: ask an admin to add your e-mail to the org file."
GREETING = "Hello! I'm statbot. Type `help` to see what I can do, or `home` for this card again."


class TeamsAdapter:
    def __init__(
        self, container: Container, bot: StatBot, metrics: Metrics, *, sender: TeamsSender | None = None
    ):
        self.container = container
        self.bot = bot
        self.metrics = metrics
        self.transport = TeamsTransport(container.settings, self._turn)
        # The turns in flight, each its HTTP request's task; those shutdown cut off.
        self._turns: set[asyncio.Task[Any]] = set()
        self._cut: set[asyncio.Task[Any]] = set()
        self.gateway = TeamsGateway(
            sender or TeamsSender(self.transport),
            container.uow,
            charts=self._chart,
            public_url=container.settings.public_url,
            signer=self.chart_signature,
            documents=self._document_links,
        )
        password = container.settings.microsoft_app_password
        # Stable across replicas and restarts when a password is set; else (the Emulator,
        # local tests) per process.
        self._chart_key = (
            password.get_secret_value().encode()
            if password and password.get_secret_value()
            else secrets.token_bytes(32)
        )

    async def handle_http(self, request: web.Request) -> web.StreamResponse:
        """POST /api/messages.  The turn runs inside the request (Teams waits for it), in
        the request's own task, which shutdown gives its grace and then cuts off."""
        turn = asyncio.current_task()
        if turn is None:  # pragma: no cover - aiohttp runs every request in a task
            return await self.transport.handle_http(request)
        self._turns.add(turn)
        try:
            return await self.transport.handle_http(request)
        except asyncio.CancelledError:
            if turn not in self._cut:
                raise
            # Cut off by shutdown (finish): Teams sends an activity that got no answer again.
            turn.uncancel()
            return web.json_response({"error": "statbot is restarting"}, status=503)
        finally:
            self._turns.discard(turn)
            self._cut.discard(turn)

    async def finish(self, grace: float, *, before_cut: Callable[[], object] | None = None) -> None:
        """Let the turns in flight finish within ``grace`` seconds, then cut off the rest
        (shutdown; see finish_turns); a cut-off turn is forgotten so that Teams'
        redelivery is processed, or its answer goes through the outbox."""
        await finish_turns(self._turns, grace, "Teams", cut=self._cut, before_cut=before_cut)

    async def close(self) -> None:
        await self.transport.close()

    async def mark_unreachable(self) -> list[Person]:
        """With Teams the only platform: store why each person without a stored
        conversation cannot be reached (shown by `org apply` and the digest); returns them."""
        missing: list[Person] = []
        async with self.container.uow() as uow:
            for person in await uow.people.all():
                if not person.active:
                    continue
                reason = None if person.teams_conversation else NOT_INSTALLED
                if reason is not None:
                    missing.append(person)
                if person.unreachable != reason:
                    person.unreachable = reason
                    await uow.people.save(person)
            await uow.commit()
        return missing

    def chart_signature(self, ref: str) -> str:
        return hmac.new(self._chart_key, b"teams-chart:" + ref.encode(), hashlib.sha256).hexdigest()[:32]

    def document_signature(self, ref: str) -> str:
        return hmac.new(self._chart_key, b"document:" + ref.encode(), hashlib.sha256).hexdigest()[:32]

    def routes(self) -> list[tuple[str, str, Callable[[web.Request], Awaitable[web.StreamResponse]]]]:
        """Routes the web app adds for Teams beside /api/messages: the hosted charts and
        the attached documents' files."""
        return [
            ("GET", CHART_PATH + "/{ref}/{signature}.png", self._serve_chart),
            (
                "GET",
                DOCUMENT_PATH + r"/{number:\d{1,18}}-{signature:[0-9a-f]{32}}.{format:pdf|md}",
                self._serve_document,
            ),
        ]

    async def _document_links(self, part: Attachment) -> list[tuple[str, str]]:
        """The attachment's files under STATBOT_PUBLIC_URL, each URL carrying an
        unguessable signature of the document; none without a public URL or a document
        to serve (then the card says how to read it in the chat)."""
        public_url = self.container.settings.public_url
        number = document_id(part.ref)
        if not public_url or number is None:
            return []
        try:
            kept = await load_document(self.container.uow, part.ref)
        except DatabaseUnavailable:
            raise DeliveryError(f"{part.ref}: the database is unavailable; retry later") from None
        if kept is None:
            log.warning("%s is not kept; the card says how to read it", part.ref)
            return []
        base = f"{public_url.rstrip('/')}{DOCUMENT_PATH}/{number}-{self.document_signature(part.ref)}"
        return [(name, f"{base}.{fmt}") for fmt, name in zip(part.formats, part.filenames(), strict=True)]

    async def _serve_document(self, request: web.Request) -> web.StreamResponse:
        info = request.match_info
        ref = document_ref(int(info["number"]))
        if not hmac.compare_digest(self.document_signature(ref), info["signature"]):
            return web.Response(status=404)
        try:
            kept = await load_document(self.container.uow, ref)
        except DatabaseUnavailable:
            return web.Response(status=503, headers={"Retry-After": "60"})
        if kept is None or info["format"] not in kept.attachment.formats:
            return web.Response(status=404)
        filename = f"{kept.attachment.filename}.{info['format']}"
        if info["format"] == "pdf":
            body = await asyncio.to_thread(
                markdown_pdf, kept.body, title=kept.attachment.title, created_at=kept.sent_at
            )
            media_type, disposition = PDF, "inline"
        else:
            body, media_type, disposition = kept.body.encode("utf-8"), MARKDOWN, "attachment"
        return web.Response(
            body=body,
            headers={
                "Content-Type": media_type,
                # The file name is ASCII: session number, unit key (the org file checks it), kind.
                "Content-Disposition": f'{disposition}; filename="{filename}"',
                "Cache-Control": "private, max-age=86400",
                "X-Content-Type-Options": "nosniff",
            },
        )

    async def _serve_chart(self, request: web.Request) -> web.StreamResponse:
        ref, signature = request.match_info["ref"], request.match_info["signature"]
        if not hmac.compare_digest(self.chart_signature(ref), signature):
            return web.Response(status=404)
        png = await self._chart(ref)
        if png is None:
            return web.Response(status=404)
        return web.Response(
            body=png, content_type="image/png", headers={"Cache-Control": "private, max-age=86400"}
        )

    async def _chart(self, ref: str) -> bytes | None:
        async with self.container.uow() as uow:
            stored = await uow.digest_source.chart(ref)
        return None if stored is None else stored.png

    # --- one turn --------------------------------------------------------------------------

    async def _turn(self, turn: Turn) -> InvokeAnswer:
        activity = turn.activity
        parsed = parse.parse(activity)
        # What else reads the activity (the stored conversation reference, the audience)
        # gets it without NUL characters too: PostgreSQL refuses them, in JSON as well.
        turn.activity = parse.without_nuls(activity)
        logs.bind(platform="teams", event_kind=str(activity.get("type")))
        if isinstance(parsed, parse.Ignored):
            return None
        try:
            return await self._handle(turn, parsed)
        except DatabaseUnavailable:
            # Logged once per outage by the unit of work.  When the activity's id could
            # not be recorded, its redelivery is processed in full once the database is
            # back; when the outage came later, the redelivery is taken for a repeat (the
            # person was told to try again).
            if isinstance(parsed, parse.TextMessage | parse.Submission):
                self.bot.answered_outside(_what(parsed), "unavailable")
            return await self._outage(turn, parsed)

    async def _handle(self, turn: Turn, parsed: parse.Parsed) -> InvokeAnswer:
        async with self.container.uow() as uow:
            new = await uow.events.first_time("teams", parsed.key, self.container.clock.now())
            await uow.commit()
        if not new:
            log.info("Teams redelivery ignored")
            return None
        # The turn runs inside Teams' HTTP request: shutdown gives it the grace of turns
        # in flight, then cuts it off (handle_http, finish).
        cut_off = cut_off_safely(self.container.uow, self.container.clock, "teams", parsed.key)
        async with cut_off as progress:
            match parsed:
                case parse.Install():
                    await self._install(turn, parsed, progress)
                    return None
                case parse.TextMessage():
                    person = await self._link(turn, parsed.sender.user_id, store=parsed.personal)
                    if person is None or person.id is None:
                        self.bot.answered_outside("text", "refused")
                        await self._show(turn, Reply.text(REFUSAL))
                        return None
                    if parsed.emptied:
                        self.bot.answered_outside("text", "refused")
                        await self._show(turn, Reply.text(UNREADABLE))
                        return None
                    reply = await self.bot.on_text(person.id, parsed.text or "help")
                    progress.answered(reply, parse.audience_of(turn.activity, person.id))
                    await self._show(turn, reply, progress)
                    return None
                case parse.Submission():
                    return await self._submitted(turn, parsed, progress)
        return None

    async def _outage(self, turn: Turn, parsed: parse.Parsed) -> InvokeAnswer:
        """The core's outage words, without touching the database (no mention ids)."""
        if isinstance(parsed, parse.Submission) and parsed.invoke:
            # A message, not a card: Teams shows it and keeps the clicked card (a form
            # keeps what was typed), so the person can press again in a minute.
            return DATABASE_UNAVAILABLE
        for message in database_unavailable().messages:
            if isinstance(message, Card):
                await turn.reply(render_card_messages(message))
        return None

    async def _install(self, turn: Turn, install: parse.Install, progress: Progress) -> None:
        people = [
            await self._link(turn, member, store=install.personal)
            for member in install.members
            or ((parse.sender_of(turn.activity).user_id,) if install.personal else ())
        ]
        if not install.personal:
            return
        await self._show(turn, Reply.text(GREETING))
        person = next((p for p in people if p is not None and p.id is not None), None)
        if person is None or person.id is None:
            await self._show(turn, Reply.text(REFUSAL))
            return
        # Teams has no home tab: the personal chat opens on the home card instead.
        home = await self.bot.on_text(person.id, "home")
        progress.answered(home, parse.audience_of(turn.activity, person.id))
        await self._show(turn, home, progress)

    async def _link(self, turn: Turn, user_id: str, *, store: bool) -> Person | None:
        """The org person behind a Teams user, linked by e-mail/UPN on first sight; the
        personal conversation's reference stored (or refreshed) when ``store``."""
        async with self.container.uow() as uow:
            person = await uow.people.by_teams_id(user_id)
        if person is None:
            email = parse.email_of(await turn.member(user_id))
            if email is None:
                return None
            async with self.container.uow() as uow:
                person = await uow.people.by_email(email)
                if person is None or not person.active:
                    return None
                person.teams_user_id = user_id
                await uow.people.save(person)
                await uow.commit()
        if store:
            reference = parse.reference_of(turn.activity)
            reference["user"] = {"id": user_id, **({"name": person.name} if person.name else {})}
            reference.pop("activityId", None)
            if person.teams_conversation != reference:
                async with self.container.uow() as uow:
                    fresh = await uow.people.get(person.id) if person.id is not None else None
                    if fresh is not None:
                        fresh.teams_conversation = reference
                        fresh.teams_user_id = user_id
                        if fresh.unreachable and fresh.unreachable.startswith("Teams"):
                            fresh.unreachable = None
                        await uow.people.save(fresh)
                        await uow.commit()
                        person = fresh
                # A reinstall brings a new reference: the next proactive message uses it.
                self.gateway.remember(person)
        return person

    async def _mention_ids(self) -> dict[str, str]:
        async with self.container.uow() as uow:
            people = await uow.people.all()
        return {p.email.lower(): p.teams_user_id for p in people if p.teams_user_id}

    async def _cards(self, message: Card | Form) -> list[dict[str, Any]]:
        ids = await self._mention_ids()
        if isinstance(message, Form):
            return [render_form(message, mention_ids=ids)]
        images = await self.gateway._images(message)
        return render_card_messages(message, mention_ids=ids, images=images)

    async def _show(self, turn: Turn, reply: Reply, progress: Progress | None = None) -> None:
        for message in reply.messages:
            await turn.reply(await self._cards(message))
            if progress is not None:
                progress.sent += 1

    async def _submitted(self, turn: Turn, submission: parse.Submission, progress: Progress) -> InvokeAnswer:
        person = await self._link(turn, submission.sender.user_id, store=False)
        if person is None or person.id is None:
            self.bot.answered_outside(submission.action, "refused")
            reply = Reply.text(REFUSAL)
        elif submission.kind == "form":
            # A field that held only NULs comes back with its error, what was typed kept.
            reply = await self.bot.on_form(
                person.id, submission.action, submission.ids, submission.values, unreadable=submission.emptied
            )
        else:
            reply = await self.bot.on_button(person.id, submission.action, submission.ids)
        if person is not None and person.id is not None:
            # The answer is spread over the invoke's answer, card updates and replies: its
            # messages sent are not counted, so a click cut off from here on has its whole
            # answer sent again through the outbox (a part of it may arrive twice).
            progress.answered(reply, parse.audience_of(turn.activity, person.id))
        if submission.invoke and reply == database_unavailable():
            # The core met the outage: leave the card (and what was typed) as it was.
            return DATABASE_UNAVAILABLE
        messages: list[Card | Form] = list(reply.messages)
        replacement: dict[str, Any] | None = None
        if reply.settles_source and messages:
            settled = await self._settled(turn, person, submission, reply)
            if settled is not None:
                replacement = settled.clicked
                messages = [m for m in messages if isinstance(m, Form)]
                for activity_id, card in settled.others:
                    await turn.update(activity_id, card)
        if submission.invoke:
            # The invoke's answer replaces the clicked card: the settled card, else the
            # first message of the reply (a form re-rendered with its errors, the next step).
            if replacement is None and messages:
                replacement = (await self._cards(messages[0]))[0]
                messages = messages[1:]
            for message in messages:
                await turn.reply(await self._cards(message))
            return replacement
        if replacement is not None and submission.card_activity_id:
            await turn.update(submission.card_activity_id, replacement)
        elif reply.settles_source and submission.card_activity_id and messages:
            await turn.update(submission.card_activity_id, (await self._cards(messages[0]))[0])
            messages = messages[1:]
        for message in messages:
            await turn.reply(await self._cards(message))
        return None

    async def _settled(
        self, turn: Turn, person: Person | None, submission: parse.Submission, reply: Reply
    ) -> _Settled | None:
        """The clicked message as statbot sent it, its buttons replaced by what the click
        did (so nobody else clicks a stale button), and the other messages of the same
        card that lose buttons too; None when that card is not found."""
        said = " ".join(m.summary for m in reply.messages if isinstance(m, Card) and m.summary.strip())
        clicked = submission.card_activity_id
        if not said or not clicked:
            return None
        audience = parse.audience_of(turn.activity, person.id if person is not None else None)
        if audience is None:
            return None
        async with self.container.uow() as uow:
            sent = list(await uow.deliveries.for_audience(audience))
        for delivery in reversed(sent):
            ids, count = message_ids(delivery.platform_ref)
            if clicked not in ids:
                continue
            try:
                original = _MESSAGE.validate_python(delivery.payload)
            except ValidationError:
                return None
            if not isinstance(original, Card):
                return None
            mention_ids = await self._mention_ids()
            images = await self.gateway._images(original)
            pieces = split_card(original, mention_ids=mention_ids, images=images)
            if len(pieces) != count:
                return None  # it would be cut differently now: which message is which is unknown
            index = ids.index(clicked)
            changed = settle_pieces(pieces, index, submission.action, submission.ids, said)
            if not changed:
                return None
            return _Settled(
                clicked=render_card(
                    changed.get(index, pieces[index]), mention_ids=mention_ids, images=images
                ),
                others=[
                    (ids[i], render_card(piece, mention_ids=mention_ids, images=images))
                    for i, piece in sorted(changed.items())
                    if i != index and i < len(ids)
                ],
            )
        return None


@dataclass(frozen=True)
class _Settled:
    clicked: dict[str, Any]
    # (activity id, card) of the card's other messages that change.
    others: list[tuple[str, dict[str, Any]]]


def settle_pieces(
    pieces: list[Card], clicked: int, action: str, ids: Mapping[str, str], said: str
) -> dict[int, Card]:
    """The messages of a (split) card that change when a click on message ``clicked``
    settled its item, by index: the row of buttons holding the clicked button (else that
    message's first row, else the card's first) becomes a note saying ``said``, and
    every other row goes.  Empty when the card has no buttons."""
    rows = [
        (i, j)
        for i, piece in enumerate(pieces)
        for j, part in enumerate(piece.parts)
        if isinstance(part, Buttons)
    ]
    if not rows:
        return {}

    def holds_click(row: tuple[int, int]) -> bool:
        part = pieces[row[0]].parts[row[1]]
        return isinstance(part, Buttons) and any(
            b.action == action and dict(b.ids) == dict(ids) for b in part.buttons
        )

    target = next(
        (r for r in rows if r[0] == clicked and holds_click(r)),
        next((r for r in rows if r[0] == clicked), rows[0]),
    )
    changed: dict[int, Card] = {}
    for i, piece in enumerate(pieces):
        if not any(r[0] == i for r in rows):
            continue
        parts: list[Part] = []
        for j, part in enumerate(piece.parts):
            if not isinstance(part, Buttons):
                parts.append(part)
            elif (i, j) == target:
                parts.append(Note(text=said))
        changed[i] = piece.model_copy(update={"parts": tuple(parts)})
    return changed


def _what(parsed: parse.TextMessage | parse.Submission) -> str:
    """What a turn is, for the turn counts: text, or the clicked or submitted action."""
    return "text" if isinstance(parsed, parse.TextMessage) else parsed.action
