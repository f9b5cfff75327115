"""The Slack adapter: a bolt AsyncApp built by a factory, wired parse → core → render → send.

This module keeps the factory (the app and its two Web API clients), the listeners and
the transport (HTTP, Socket Mode, the work that runs after acks).  Slack wants an ack
within 3 seconds (DESIGN.md §3):
* a slash command's turn runs for at most ``answer_budget`` seconds (1.5 by default)
  before the ack: when its reply is done by then and fits one message, it rides in the
  ack itself (the person sees it at once, no response_url round trip); otherwise the
  ack is empty and the reply follows through routing.py (response_url, DM or modal) as
  soon as the turn ends.  Exactly one of the two answers;
* buttons and events ``ack()`` at once with an empty body (Slack shows nothing from the
  ack of a block_actions payload); the turn then runs and its reply is shown by
  routing.py; a click that settles its item replaces the clicked message first (settle.py);
* a modal submission must be answered in the ack itself: modals.py does that, within
  ``form_deadline`` seconds.

Retries: Slack re-sends an event it thinks we missed (same ``event_id``) and interactive
payloads can arrive twice.  Interactive payloads are keyed by their trigger_id, which
is new for every click (a modal's view id and hash are not: Slack keeps them when a
submission is answered with field errors, so a corrected one must not look like a retry).
Each turn records its id with ``uow.events.first_time``
(the database, so it holds across replicas and restarts) before doing anything, and a
repeat is acknowledged with 200 and dropped.  The id is recorded before the turn runs:
a turn that crashes half-way is not re-run by a retry (at most once), which is what a
person expects from a chat message.  An event's turn that shutdown cuts off is forgotten
again (a retry of it is processed) or, when the core had finished, its answer goes
through the outbox (adapters/shutdown.py).

No business logic lives here: listeners parse, call StatBot, and show its Reply.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web
from slack_bolt import BoltResponse
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from adapters import logs
from adapters.container import Container
from adapters.documents import load_files
from adapters.metrics import Metrics
from adapters.settings import Settings
from adapters.shutdown import cut_off_safely, finish_turns
from adapters.slack import parse, transport, wire
from adapters.slack.deliver import ChartLoader, SlackGateway, SlackSender
from adapters.slack.home import home_card, home_view, stranger_view
from adapters.slack.modals import ModalAnswers
from adapters.slack.people import SlackPeople
from adapters.slack.render import fallback_text, render_card_messages
from adapters.slack.routing import ReplyRouter, Where
from adapters.slack.settle import Source, settle, source_of
from bot.cards import UNREADABLE, UNREADABLE_FIELD, database_unavailable, is_database_unavailable
from bot.conversation import StatBot
from bot.deliveries.models import Delivery
from bot.messages import Card, Reply
from bot.org.models import Person
from bot.ports import DatabaseUnavailable, UnitOfWorkFactory

log = logging.getLogger(__name__)

REFUSAL = "I don't know you yet: ask an admin to add your e-mail to the org file."
COMMAND = "/stat"
# Slash command turns that may hold their ack at once: when more are waiting (a burst,
# an overloaded host), a new one is acked at once and answered through response_url,
# so acks stay fast instead of each waiting out the budget in the queue.
ACK_TURNS = 8
OUTBOX_TIMEOUT = 20
# How long closing the Socket Mode connection may take at shutdown.
SOCKET_CLOSE = 1.0
# How long turns queued after their ack get when the adapter closes (the runtime passes
# its TURN_GRACE, the same).
CLOSE_GRACE = 4.0


@dataclass
class SlackClients:
    """The adapter's two Web API clients, built together by ``build_app``.

    ``turn`` answers people within a turn (bolt's own client): there is little time, so the
    SDK retries one 429 and two 5xx.  ``outbox`` sends deliveries: no SDK retries of a 429
    or a 5xx (SlackSender paces and retries itself; the SDK's default retry of a dropped
    connection stays) and a short timeout, because a stuck call counts
    against the delivery's send budget; it keeps one connection pool, ``outbox_session``
    (without a session the SDK opens one per call), which the adapter opened and closes."""

    turn: AsyncWebClient
    outbox: AsyncWebClient
    outbox_session: aiohttp.ClientSession

    async def close(self) -> None:
        await self.outbox_session.close()


def build_app(settings: Settings, *, client: AsyncWebClient | None) -> tuple[AsyncApp, SlackClients]:
    """The bolt app and both clients.  ``client`` (tests, benches) becomes the turn client
    as given; without it bolt builds one from SLACK_BOT_TOKEN."""
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else None
    app_options: dict[str, Any] = {
        # Without a secret only Socket Mode works: handle_http refuses every request.
        "signing_secret": secret or "",
        # bolt answers when the listener returns.  statbot's listeners return right after
        # their ack (the work after it is a task of the adapter's own: ``_later``), and
        # bolt's other mode, which runs the listener aside and waits for the ack, looks
        # for it only every 10 ms: each answer would reach the person up to 10 ms later.
        "process_before_response": True,
        "raise_error_for_unhandled_request": False,
    }
    if client is None:
        # bolt builds the client from the token.  Handing it a client instead makes it
        # warn that the token is unused whenever SLACK_BOT_TOKEN is in the environment
        # (bolt reads it itself), which is how statbot is configured.
        app = AsyncApp(token=token, **app_options)
        turn = app.client
        turn.base_url = settings.slack_api_url
        turn.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=1))
        turn.retry_handlers.append(AsyncServerErrorRetryHandler(max_retry_count=2))
    else:
        app = AsyncApp(client=client, **app_options)
        turn = client
    session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=OUTBOX_TIMEOUT))
    outbox = AsyncWebClient(token=turn.token, base_url=turn.base_url, timeout=OUTBOX_TIMEOUT, session=session)
    return app, SlackClients(turn=turn, outbox=outbox, outbox_session=session)


def _chart_loader(uow_factory: UnitOfWorkFactory) -> ChartLoader:
    async def chart(ref: str) -> tuple[bytes, str, str] | None:
        async with uow_factory() as uow:
            stored = await uow.digest_source.chart(ref)
        return None if stored is None else (stored.png, stored.alt_text, stored.title)

    return chart


class SlackAdapter:
    def __init__(
        self,
        *,
        app: AsyncApp,
        clients: SlackClients,
        container: Container,
        bot: StatBot,
        metrics: Metrics,
        people: SlackPeople,
        gateway: SlackGateway,
        process_before_response: bool,
        form_deadline: float,
        signing_secret: str | None,
        answer_budget: float = 1.5,
        app_token: str | None,
    ) -> None:
        self.app = app
        self.clients = clients
        self.client = clients.turn
        self.container = container
        self.bot = bot
        self.metrics = metrics
        self.people = people
        self.gateway = gateway
        self.process_before_response = process_before_response
        self.answer_budget = answer_budget
        self._turns_in_ack = 0
        self._signing_secret = signing_secret
        self._app_token = app_token
        self._socket: AsyncSocketModeHandler | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.router = ReplyRouter(self.client, people)
        self.modals = ModalAnswers(
            self.client, form_deadline=form_deadline, later=self._later, to_dm=self.router.to_dm
        )

    @property
    def form_deadline(self) -> float:
        return self.modals.form_deadline

    # --- construction --------------------------------------------------------------------

    @classmethod
    def create(
        cls,
        container: Container,
        bot: StatBot,
        metrics: Metrics,
        *,
        client: AsyncWebClient | None = None,
        process_before_response: bool = False,
        form_deadline: float = 2.0,
        per_channel_interval: float = 1.0,
        answer_budget: float = 1.5,
    ) -> SlackAdapter:
        settings = container.settings
        secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else None
        app_token = settings.slack_app_token.get_secret_value() if settings.slack_app_token else None
        app, clients = build_app(settings, client=client)
        gateway = SlackGateway(
            SlackSender(clients.outbox, per_channel_interval=per_channel_interval),
            SlackPeople(container.uow, clients.outbox),
            container.uow,
            charts=_chart_loader(container.uow),
            documents=functools.partial(load_files, container.uow),
        )
        adapter = cls(
            app=app,
            clients=clients,
            container=container,
            bot=bot,
            metrics=metrics,
            people=SlackPeople(container.uow, clients.turn),
            gateway=gateway,
            process_before_response=process_before_response,
            form_deadline=form_deadline,
            answer_budget=answer_budget,
            signing_secret=secret,
            app_token=app_token,
        )
        adapter._register()
        return adapter

    def lookup_client(self, *, rate_limit_retries: int) -> AsyncWebClient:
        """A client for bulk look-ups (``org apply`` linking a large org) that waits out
        Slack's rate limits instead of failing: users.lookupByEmail is Tier 3."""
        client = AsyncWebClient(token=self.client.token, base_url=self.client.base_url)
        client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=rate_limit_retries))
        return client

    def _register(self) -> None:
        app = self.app

        async def tag_logs(body: dict[str, Any], next: Callable[[], Awaitable[BoltResponse]]) -> BoltResponse:
            # Every line logged for this request (and the work after its ack) says what it was.
            logs.bind(platform="slack", event_kind=parse.event_kind(body))
            return await next()

        app.use(tag_logs)
        app.error(_bolt_error)

        async def on_command(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
            command = parse.parse_command(body)
            if command is None:
                await ack()
                return
            await self._answer_command(ack, command, respond)

        async def on_message(body: dict[str, Any]) -> None:
            message = parse.parse_message(body)
            if message is not None:
                where = Where(None, message.user_id, dm_channel=message.channel_id)
                await self._later(self._reachable(self._message(message), where, "text"))

        async def on_home(body: dict[str, Any]) -> None:
            opened = parse.parse_home(body)
            if opened is not None:
                await self._later(self._home(opened))

        async def on_button(
            ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond
        ) -> None:
            await ack()
            click = parse.parse_button(body, action)
            if click is not None:
                where = Where(
                    None,
                    click.user_id,
                    respond=respond if click.response_url and not click.in_dm else None,
                    dm_channel=click.channel_id if click.in_dm else None,
                    channel=click.channel_id,
                )
                turn = self._button(click, respond, source_of(body, respond))
                await self._later(self._reachable(turn, where, _kind(click.action)))

        async def on_submission(ack: AsyncAck, body: dict[str, Any]) -> None:
            submission = parse.parse_submission(body)
            if submission is None:
                # Not a statbot form (or one with damaged metadata): close it, change nothing.
                await ack()
                return
            if submission.emptied and set(submission.emptied) <= set(submission.block_ids):
                # Slack keeps everything typed and shows why under the field.
                self.bot.answered_outside(submission.action, "refused")
                await ack(
                    response_action="errors", errors=dict.fromkeys(submission.emptied, UNREADABLE_FIELD)
                )
                return
            await self.modals.answer(ack, submission, self._submitted)

        async def on_other_event(body: dict[str, Any]) -> None:
            # Subscribed events statbot does not act on still get a 200 (no retries).
            return None

        app.command(COMMAND)(on_command)
        app.event("message")(on_message)
        app.event("app_home_opened")(on_home)
        app.action(re.compile("^" + re.escape(wire.ACTION_PREFIX)))(on_button)
        app.view_submission(wire.FORM_CALLBACK)(on_submission)
        app.event("app_mention")(on_other_event)

        async def on_anything_else(ack: AsyncAck) -> None:
            # Valid requests statbot does not act on (reaction_added, tokens_revoked,
            # shortcuts, message actions, another app's buttons, other views) get a 200:
            # bolt would answer 404, and Slack retries and counts a failure.  Registered
            # last, so statbot's own listeners match first.
            await ack()

        anything = re.compile(".*")
        app.event(anything)(on_anything_else)
        app.shortcut(anything)(on_anything_else)
        app.action(anything)(on_anything_else)
        app.view(anything)(on_anything_else)
        app.options(anything)(on_anything_else)

    # --- transport -----------------------------------------------------------------------

    async def handle_http(self, request: web.Request) -> web.StreamResponse:
        """POST /slack/events.  The signature is checked on the raw bytes before anything
        parses them (bolt parses first, and a malformed body made it raise): unsigned,
        forged or stale → 401; signed but malformed, or of a shape bolt cannot route
        (``parse.payload_problem``) → 400; larger than aiohttp's limit → 413; a valid
        request no listener wants → 200 (Slack retries anything else and counts it as a
        failure).  Each refusal writes one log line, never the body."""
        if not self._signing_secret:
            return _refused(401, "SLACK_SIGNING_SECRET is not set")
        try:
            raw = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return _refused(413, "body too large")
        if transport.is_ssl_check(raw):
            return web.Response(status=200, text="")
        checked = transport.check(raw, request.headers, self._signing_secret)
        if isinstance(checked, transport.Refusal):
            return _refused(checked.status, checked.reason)
        try:
            # Building the request already reads the payload (bolt's context: user, team,
            # channel ids), so it is inside the guard too.
            bolt_request = AsyncBoltRequest(body=checked, query=request.query_string, headers=request.headers)  # type: ignore[arg-type]
            bolt_response = await self.app.async_dispatch(bolt_request)
        except Exception as exc:  # the last resort: a payload shape the check above missed
            return _refused(400, f"bolt could not read it ({type(exc).__name__})")
        if bolt_response.status == 404:
            kind = transport.kind_of(checked, request.headers)
            log.info("Slack request %s has no listener; acknowledged", kind)
            return web.Response(status=200, text="")
        return await to_aiohttp_response(bolt_response)

    async def start_socket_mode(self) -> None:
        if not self._app_token:
            raise RuntimeError("SLACK_APP_TOKEN is not set")
        handler = AsyncSocketModeHandler(self.app, self._app_token)
        try:
            # slack-sdk's connect() logs a refused apps.connections.open and retries every
            # 10 s for ever: a wrong or revoked token would hang `statbot serve` before its
            # scheduler starts.  Ask for the URL here so a refusal stops the start with its reason.
            handler.client.wss_uri = await handler.client.issue_new_wss_url()
        except SlackApiError as exc:
            if exc.response.status_code < 500:
                await handler.close_async()  # type: ignore[no-untyped-call]
                error = exc.response.get("error")
                raise RuntimeError(f"Slack refused SLACK_APP_TOKEN for Socket Mode: {error}") from exc
            log.warning("apps.connections.open failed (%s); retrying", exc.response.status_code)
        except (aiohttp.ClientError, TimeoutError) as exc:
            # A network hiccup: connect() asks again and keeps retrying, as slack-sdk intends.
            log.warning("apps.connections.open failed (%s); retrying", exc)
        self._socket = handler
        await handler.connect_async()  # type: ignore[no-untyped-call]

    async def close(self, grace: float = CLOSE_GRACE) -> None:
        """Stop: no new work, the turns queued after their ack get ``grace`` seconds, then
        the HTTP sessions close.  ``serve`` has done the first two already (runtime.py)."""
        await self.stop_socket_mode()
        await self.finish(grace)
        await self.clients.close()

    async def stop_socket_mode(self) -> None:
        """Close the Socket Mode connection, first thing at shutdown: no new work arrives
        (Slack sends what this process did not acknowledge to another connection).
        Bounded by SOCKET_CLOSE: past it the connection is dropped."""
        socket, self._socket = self._socket, None
        if socket is None:
            return
        try:
            await asyncio.wait_for(socket.close_async(), SOCKET_CLOSE)  # type: ignore[no-untyped-call]
        except TimeoutError:
            log.warning("Slack's Socket Mode connection did not close within %.0f s; dropped", SOCKET_CLOSE)
            client = socket.client
            for task in (client.message_processor, client.current_session_monitor, client.message_receiver):
                if task is not None:
                    task.cancel()
            if client.aiohttp_client_session is not None:
                await client.aiohttp_client_session.close()

    async def finish(self, grace: float, *, before_cut: Callable[[], object] | None = None) -> None:
        """Let the turns queued after their ack finish within ``grace`` seconds, then cut
        off the rest (shutdown; see finish_turns).  A cut-off event is forgotten so that
        Slack's retry of it is processed; commands, clicks and forms are not redelivered."""
        await finish_turns(self._tasks, grace, "Slack", before_cut=before_cut)

    async def wait_idle(self) -> None:
        """Wait for the work that continues after acks (tests)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def _later(self, work: Coroutine[Any, Any, None]) -> None:
        """Run work after the ack: inline when bolt already waits for the listener
        (process_before_response), else as a tracked task."""
        if self.process_before_response:
            await self._guarded(work)
            return
        task = asyncio.create_task(self._guarded(work))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _reachable(self, work: Awaitable[None], where: Where, what: str) -> None:
        """A turn that could not reach the database says so where its answer would go
        (the unit of work logged the outage once)."""
        try:
            await work
        except DatabaseUnavailable:
            self.bot.answered_outside(what, "unavailable")
            await self.router.show(database_unavailable(), where)

    @staticmethod
    async def _guarded(work: Awaitable[None]) -> None:
        try:
            await work
        except DatabaseUnavailable:
            return  # logged once per outage by the unit of work
        except Exception:
            log.exception("Slack turn failed after the ack")

    async def _first_time(self, key: str) -> bool:
        async with self.container.uow() as uow:
            new = await uow.events.first_time("slack", key, self.container.clock.now())
            await uow.commit()
        if not new:
            log.info("Slack retry of %s ignored", key)
        return new

    # --- turns ---------------------------------------------------------------------------

    async def _text(self, user_id: str, raw: str, mentioned: Sequence[str]) -> tuple[Person | None, str]:
        person = await self.people.person_for(user_id)
        emails = await self.people.emails_for(mentioned) if mentioned else {}
        return person, parse.plain_text(raw, emails)

    async def _answer_command(
        self, ack: AsyncAck, command: parse.SlashCommand, respond: AsyncRespond
    ) -> None:
        """Run the turn within the budget and answer in the ack, or ack and answer later."""
        turn = asyncio.ensure_future(self._command(command, respond))
        if self._turns_in_ack >= ACK_TURNS:
            await ack()
            await self._later(self._show_when_done(turn, command, respond))
            return
        self._turns_in_ack += 1
        try:
            done, _ = await asyncio.wait({turn}, timeout=self.answer_budget)
        finally:
            self._turns_in_ack -= 1
        if turn not in done:
            await ack()
            await self._later(self._show_when_done(turn, command, respond))
            return
        try:
            answered = turn.result()
        except DatabaseUnavailable:
            # Said where the answer would have gone; the unit of work logged the outage once.
            self.bot.answered_outside("text", "unavailable")
            answered = (database_unavailable(), self._outage_where(command, respond))
        except Exception:
            log.exception("Slack turn failed before the ack")
            await ack()
            return
        if answered is None:  # a retry
            await ack()
            return
        reply, where = answered
        in_ack = await self._ack_body(reply, where)
        if in_ack is not None:
            await ack(**in_ack)
            return
        await ack()
        await self._later(self.router.show(reply, where))

    async def _show_when_done(
        self,
        turn: asyncio.Future[tuple[Reply, Where] | None],
        command: parse.SlashCommand,
        respond: AsyncRespond,
    ) -> None:
        try:
            answered = await turn
        except DatabaseUnavailable:
            self.bot.answered_outside("text", "unavailable")
            answered = (database_unavailable(), self._outage_where(command, respond))
        if answered is not None:
            await self.router.show(*answered)

    @staticmethod
    def _outage_where(command: parse.SlashCommand, respond: AsyncRespond) -> Where:
        return Where(None, command.user_id, respond=respond, channel=command.channel_id)

    async def _ack_body(self, reply: Reply, where: Where) -> dict[str, Any] | None:
        """The reply as an ack body when it is one message (no form, nothing to split);
        None when it must go through routing.py (a modal to open, several messages)."""
        if len(reply.messages) != 1 or not isinstance(card := reply.messages[0], Card):
            return None
        rendered = render_card_messages(card, mention_ids=await self.people.mention_ids([card]))
        if len(rendered) != 1:
            return None
        return {
            "text": fallback_text(card),
            "blocks": rendered[0],
            "response_type": "ephemeral" if reply.private else "in_channel",
        }

    async def _command(
        self, command: parse.SlashCommand, respond: AsyncRespond
    ) -> tuple[Reply, Where] | None:
        """The turn of a slash command: its reply and where it goes; None for a retry.

        Recording the request and finding the person run side by side (the answer
        should fit in the ack): the lookup changes nothing a retry could repeat."""
        first, (person, text) = await asyncio.gather(
            self._first_time(command.key), self._text(command.user_id, command.text, command.mentioned)
        )
        if not first:
            return None
        where = Where(
            person,
            command.user_id,
            trigger_id=command.trigger_id,
            respond=respond,
            channel=command.channel_id,
            replay_text=text or "help",
        )
        if person is None or person.id is None:
            self.bot.answered_outside("text", "refused")
            return Reply.text(REFUSAL), where
        if command.emptied:
            self.bot.answered_outside("text", "refused")
            return Reply.text(UNREADABLE), where
        return await self.bot.on_text(person.id, text or "help"), where

    async def _message(self, message: parse.DirectMessage) -> None:
        if not await self._first_time(message.key):
            return
        async with cut_off_safely(self.container.uow, self.container.clock, "slack", message.key) as progress:
            person, text = await self._text(message.user_id, message.text, message.mentioned)
            where = Where(person, message.user_id, dm_channel=message.channel_id, replay_text=text)
            if person is None or person.id is None:
                self.bot.answered_outside("text", "refused")
                await self.router.show(Reply.text(REFUSAL), where)
                return
            if message.emptied:
                self.bot.answered_outside("text", "refused")
                await self.router.show(Reply.text(UNREADABLE), where)
                return
            reply = await self.bot.on_text(person.id, text)
            # Cut off from here on, the whole answer goes through the outbox (usually one
            # message; of several, some may then arrive twice).
            progress.answered(reply, Delivery.to_person(person.id))
            await self.router.show(reply, where)

    async def _button(self, click: parse.ButtonClick, respond: AsyncRespond, source: Source | None) -> None:
        if not await self._first_time(click.key):
            return
        person = await self.people.person_for(click.user_id)
        where = Where(
            person,
            click.user_id,
            trigger_id=click.trigger_id,
            respond=respond if click.response_url and not click.in_dm else None,
            dm_channel=click.channel_id if click.in_dm else None,
            channel=click.channel_id,
        )
        if person is None or person.id is None:
            self.bot.answered_outside(_kind(click.action), "refused")
            await self.router.show(Reply.text(REFUSAL), where)
            return
        if click.action == wire.REPLAY:
            where.replay_text = click.ids.get("text", "help")
            reply = await self.bot.on_text(person.id, where.replay_text)
        else:
            reply = await self.bot.on_button(person.id, click.action, click.ids)
        await self.router.show(await settle(reply, source), where)

    async def _home(self, opened: parse.HomeOpened) -> None:
        key = f"event:{opened.event_id}"
        if not await self._first_time(key):
            return
        # Reads only: a retry may run it again whenever it was cut off.
        async with cut_off_safely(self.container.uow, self.container.clock, "slack", key):
            person = await self.people.person_for(opened.user_id)
            if person is None:
                view = stranger_view()
            else:
                async with self.container.uow() as uow:
                    card = await home_card(uow, person, self.container.clock.now())
                view = home_view(card, mention_ids=await self.people.mention_ids([card]))
            await self.client.views_publish(user_id=opened.user_id, view=view)

    async def _submitted(self, submission: parse.FormSubmission) -> tuple[Person | None, Reply]:
        try:
            return await self._submitted_turn(submission)
        except DatabaseUnavailable:
            # No person: the modal itself shows it (modals.py), nothing goes to the DM.
            self.bot.answered_outside(submission.action, "unavailable")
            return None, database_unavailable()

    async def _submitted_turn(self, submission: parse.FormSubmission) -> tuple[Person | None, Reply]:
        if not await self._first_time(submission.key):
            return None, Reply()
        person = await self.people.person_for(submission.user_id)
        if person is None or person.id is None:
            self.bot.answered_outside(submission.action, "refused")
            return None, Reply.text(REFUSAL)
        reply = await self.bot.on_form(person.id, submission.action, submission.ids, submission.values)
        if is_database_unavailable(reply):
            # The database went away during the turn: the modal says so, not the DM.
            return None, reply
        return person, reply


def _kind(action: str) -> str:
    """What a click is, for the turn counts: a replayed command is a text turn."""
    return "text" if action == wire.REPLAY else action


def _refused(status: int, reason: str) -> web.Response:
    log.warning("Slack request refused (%s): %s", status, reason)
    return web.Response(status=status, text=reason)


# Where statbot's own code lives: an exception raised there is a bug, not a bad payload.
_STATBOT_MODULES = ("adapters.", "bot.", "storage.")


def _raised_in_statbot(error: BaseException) -> bool:
    tb = error.__traceback__
    while tb is not None:
        if str(tb.tb_frame.f_globals.get("__name__", "")).startswith(_STATBOT_MODULES):
            return True
        tb = tb.tb_next
    return False


async def _bolt_error(error: Exception, response: BoltResponse | None) -> BoltResponse | None:
    """bolt's global error handler.  bolt catches what its middleware, its routing and
    the listeners raise, logs a traceback and answers 500.  A payload shape that
    ``payload_problem`` did not foresee makes bolt's own code raise: that is the sender's
    fault, answered 400 with one line.  An exception from statbot's listeners is a bug:
    logged with its traceback, 500 as before.  ``response`` is None once the listener
    has acked (Slack has its answer already)."""
    if _raised_in_statbot(error):
        log.error("Slack listener failed (%s)", type(error).__name__, exc_info=error)
        return None
    log.warning("Slack request refused (400): bolt could not handle it (%s)", type(error).__name__)
    return BoltResponse(status=400, body="malformed request") if response is not None else None


__all__ = ["UNREADABLE", "UNREADABLE_FIELD", "SlackAdapter", "SlackClients", "build_app"]
