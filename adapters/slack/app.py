"""The Slack adapter: a bolt AsyncApp built by a factory, wired parse → core → render → send.

Every listener acknowledges first and works after (DESIGN.md §3, Slack's 3 seconds):
* slash commands, buttons and events ``ack()`` at once with an empty body; the turn then
  runs and answers through ``response_url`` (ephemeral unless the core says otherwise),
  a DM message, or a modal opened with the click's trigger_id; a click that settles its
  item (the core's ``Reply.settles_source``) instead replaces the clicked message through
  response_url, its buttons swapped for a line saying what happened, so nobody else
  clicks a stale button;
* a modal submission must be answered in the ack itself (field errors, the next view),
  so the turn gets ``form_deadline`` seconds; if the database is slower, the ack shows a
  "saving" view and the outcome replaces it with views.update when it is ready.

Retries: Slack re-sends an event it thinks we missed (same ``event_id``) and interactive
payloads can arrive twice.  Interactive payloads are keyed by their trigger_id, which
is new for every click (a modal's view id and hash are not: Slack keeps them when a
submission is answered with field errors, so a corrected one must not look like a retry).
Each turn records its id with ``uow.events.first_time``
(the database, so it holds across replicas and restarts) before doing anything, and a
repeat is acknowledged with 200 and dropped.  The id is recorded before the turn runs:
a turn that crashes half-way is not re-run by a retry (at most once), which is what a
person expects from a chat message.

No business logic lives here: listeners parse, call StatBot, and show its Reply.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Coroutine, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from adapters.container import Container
from adapters.metrics import Metrics
from adapters.slack import parse, wire
from adapters.slack.deliver import SlackGateway, SlackSender, form_as_card
from adapters.slack.home import home_card, home_view, stranger_view
from adapters.slack.people import SlackPeople
from adapters.slack.render import fallback_text, form_errors, render_card_messages, render_form
from bot.conversation import StatBot
from bot.messages import Card, Form, Reply, paragraph
from bot.org.models import Person
from bot.ports import DeliveryError

log = logging.getLogger(__name__)

REFUSAL = "I don't know you yet: ask an admin to add your e-mail to the org file."
SLOW = "Saving… this is taking longer than usual. This window updates when it is done."
COMMAND = "/stat"
FORM_TOO_LONG = (
    "This form is too long for Slack to show (a Slack form takes at most 100 fields or choices). "
    "Nothing was changed. Close some of your open commitments with `/stat commitments`, then try again."
)
# Slack takes at most 5 answers through one response_url (within 30 minutes); a longer
# reply goes to the person's DM, with one answer through response_url saying so.
RESPONSE_URL_USES = 5
OUTBOX_TIMEOUT = 20


@dataclass
class _Where:
    """Where a turn's reply goes."""

    person: Person | None
    user_id: str
    trigger_id: str | None = None
    respond: AsyncRespond | None = None
    dm_channel: str | None = None
    channel: str | None = None
    replay_text: str | None = None


@dataclass(frozen=True)
class _Source:
    """The message a button was clicked in, as Slack sent it with the click, and the
    click's response_url (through ``respond``), which can replace that message for everyone."""

    text: str
    blocks: list[dict[str, Any]]
    respond: AsyncRespond


class SlackAdapter:
    def __init__(
        self,
        *,
        app: AsyncApp,
        client: AsyncWebClient,
        container: Container,
        bot: StatBot,
        metrics: Metrics,
        gateway: SlackGateway,
        process_before_response: bool,
        form_deadline: float,
        signing_secret: str | None,
        app_token: str | None,
    ) -> None:
        self.app = app
        self.client = client
        self.container = container
        self.bot = bot
        self.metrics = metrics
        self.gateway = gateway
        self.people = gateway.people
        self.process_before_response = process_before_response
        self.form_deadline = form_deadline
        self._signing_secret = signing_secret
        self._app_token = app_token
        self._socket: AsyncSocketModeHandler | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._sessions: list[aiohttp.ClientSession] = []

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
    ) -> SlackAdapter:
        settings = container.settings
        token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
        secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else None
        app_token = settings.slack_app_token.get_secret_value() if settings.slack_app_token else None
        app_options: dict[str, Any] = {
            # Without a secret only Socket Mode works: handle_http refuses every request.
            "signing_secret": secret or "",
            "process_before_response": process_before_response,
            "raise_error_for_unhandled_request": False,
        }
        if client is None:
            # bolt builds the client from the token.  Handing it a client instead makes it
            # warn that the token is unused whenever SLACK_BOT_TOKEN is in the environment
            # (bolt reads it itself), which is how statbot is configured.
            app = AsyncApp(token=token, **app_options)
            client = app.client
            client.base_url = settings.slack_api_url
            # In a turn there is little time: one retry after a 429, two after a 5xx.
            client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=1))
            client.retry_handlers.append(AsyncServerErrorRetryHandler(max_retry_count=2))
        else:
            app = AsyncApp(client=client, **app_options)
        # The outbox's client has no SDK retries: SlackSender paces and retries itself.  It
        # keeps one connection pool (without a session the SDK opens one per call).
        # Its timeout is short because a stuck call counts against the delivery's send budget.
        session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=OUTBOX_TIMEOUT))
        outbox_client = AsyncWebClient(
            token=client.token, base_url=client.base_url, timeout=OUTBOX_TIMEOUT, session=session
        )
        people = SlackPeople(container.uow, client)
        outbox_people = SlackPeople(container.uow, outbox_client)

        async def chart(ref: str) -> tuple[bytes, str, str] | None:
            async with container.uow() as uow:
                stored = await uow.digest_source.chart(ref)
            return None if stored is None else (stored.png, stored.alt_text, stored.title)

        gateway = SlackGateway(
            SlackSender(outbox_client, per_channel_interval=per_channel_interval),
            outbox_people,
            container.uow,
            charts=chart,
        )
        adapter = cls(
            app=app,
            client=client,
            container=container,
            bot=bot,
            metrics=metrics,
            gateway=gateway,
            process_before_response=process_before_response,
            form_deadline=form_deadline,
            signing_secret=secret,
            app_token=app_token,
        )
        adapter.people = people
        adapter._sessions.append(session)
        adapter._register()
        return adapter

    def _register(self) -> None:
        app = self.app

        async def on_command(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
            await ack()
            command = parse.parse_command(body)
            if command is not None:
                await self._later(self._command(command, respond))

        async def on_message(body: dict[str, Any]) -> None:
            message = parse.parse_message(body)
            if message is not None:
                await self._later(self._message(message))

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
                await self._later(self._button(click, respond, _source(body, respond)))

        async def on_submission(ack: AsyncAck, body: dict[str, Any]) -> None:
            await self._submission(ack, body)

        async def on_other_event(body: dict[str, Any]) -> None:
            # Subscribed events statbot does not act on still get a 200 (no retries).
            return None

        app.command(COMMAND)(on_command)
        app.event("message")(on_message)
        app.event("app_home_opened")(on_home)
        app.action(re.compile("^" + re.escape(wire.ACTION_PREFIX)))(on_button)
        app.view_submission(wire.FORM_CALLBACK)(on_submission)
        app.event("app_mention")(on_other_event)

    # --- transport -----------------------------------------------------------------------

    async def handle_http(self, request: web.Request) -> web.StreamResponse:
        if not self._signing_secret:
            return web.json_response({"error": "SLACK_SIGNING_SECRET is not set"}, status=401)
        bolt_request = await to_bolt_request(request)
        bolt_response = await self.app.async_dispatch(bolt_request)
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

    async def close(self) -> None:
        if self._socket is not None:
            await self._socket.close_async()  # type: ignore[no-untyped-call]
        await self.wait_idle()
        for session in self._sessions:
            await session.close()

    async def wait_idle(self) -> None:
        """Wait for the work that continues after acks (tests, shutdown)."""
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

    @staticmethod
    async def _guarded(work: Awaitable[None]) -> None:
        try:
            await work
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

    async def _command(self, command: parse.SlashCommand, respond: AsyncRespond) -> None:
        if not await self._first_time(command.key):
            return
        person, text = await self._text(command.user_id, command.text, command.mentioned)
        where = _Where(person, command.user_id, trigger_id=command.trigger_id, respond=respond,
                       channel=command.channel_id, replay_text=text or "help")
        if person is None or person.id is None:
            await self._show(Reply.text(REFUSAL), where)
            return
        await self._show(await self.bot.on_text(person.id, text or "help"), where)

    async def _message(self, message: parse.DirectMessage) -> None:
        if not await self._first_time(message.key):
            return
        person, text = await self._text(message.user_id, message.text, message.mentioned)
        where = _Where(person, message.user_id, dm_channel=message.channel_id, replay_text=text)
        if person is None or person.id is None:
            await self._show(Reply.text(REFUSAL), where)
            return
        await self._show(await self.bot.on_text(person.id, text), where)

    async def _button(self, click: parse.ButtonClick, respond: AsyncRespond, source: _Source | None) -> None:
        if not await self._first_time(click.key):
            return
        person = await self.people.person_for(click.user_id)
        where = _Where(
            person,
            click.user_id,
            trigger_id=click.trigger_id,
            respond=respond if click.response_url and not click.in_dm else None,
            dm_channel=click.channel_id if click.in_dm else None,
            channel=click.channel_id,
        )
        if person is None or person.id is None:
            await self._show(Reply.text(REFUSAL), where)
            return
        if click.action == wire.REPLAY:
            where.replay_text = click.ids.get("text", "help")
            reply = await self.bot.on_text(person.id, where.replay_text)
        else:
            reply = await self.bot.on_button(person.id, click.action, click.ids)
        if reply.settles_source and source is not None and await self._settle(reply, source):
            # The updated message says what happened, to everyone who sees it; only a
            # form (if any) still needs showing.
            forms = tuple(m for m in reply.messages if isinstance(m, Form))
            reply = reply.model_copy(update={"messages": forms})
        await self._show(reply, where)

    async def _settle(self, reply: Reply, source: _Source) -> bool:
        """Replace the clicked message's statbot buttons by what the click did, so nobody
        else clicks a button whose item is settled.  False when the message was left as it
        was (no statbot buttons in it, or response_url refused): the reply is shown as usual."""
        said = " ".join(m.summary for m in reply.messages if isinstance(m, Card) and m.summary.strip())
        if not said:
            return False
        # fallback_text escapes user text as render.py does and cuts it to a context's 3000.
        blocks = _settled_blocks(source.blocks, fallback_text(Card(parts=(), summary=said)))
        if blocks is None:
            return False
        try:
            answer = await source.respond(text=source.text, blocks=blocks, replace_original=True)
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.warning("replacing a settled message failed: %s", exc)
            return False
        if answer.status_code != 200:
            log.info("response_url refused to replace a settled message (%s)", answer.status_code)
            return False
        return True

    async def _home(self, opened: parse.HomeOpened) -> None:
        if not await self._first_time(f"event:{opened.event_id}"):
            return
        person = await self.people.person_for(opened.user_id)
        if person is None:
            view = stranger_view()
        else:
            async with self.container.uow() as uow:
                card = await home_card(uow, person, self.container.clock.now())
            view = home_view(card, mention_ids=await self.people.mention_ids([card]))
        await self.client.views_publish(user_id=opened.user_id, view=view)

    # --- modal submissions ---------------------------------------------------------------

    async def _submission(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        submission = parse.parse_submission(body)
        if submission is None:
            # Not a statbot form (or one with damaged metadata): close it, change nothing.
            await ack()
            return
        work = asyncio.ensure_future(self._submitted(submission))
        done, _ = await asyncio.wait({work}, timeout=self.form_deadline)
        if work not in done:
            await ack(response_action="update", view=_notice_view("statbot", SLOW))
            await self._later(self._finish_slow(submission, work))
            return
        person, reply = work.result()
        cards = await self._answer_submission(ack, submission, reply)
        if cards and person is not None:
            await self._later(self._post_to_dm(person, submission.user_id, cards))

    async def _finish_slow(
        self, submission: parse.FormSubmission, work: asyncio.Future[tuple[Person | None, Reply]]
    ) -> None:
        person, reply = await work
        cards = await self._update_view(submission, reply)
        if cards and person is not None:
            await self._post_to_dm(person, submission.user_id, cards)

    async def _submitted(self, submission: parse.FormSubmission) -> tuple[Person | None, Reply]:
        if not await self._first_time(submission.key):
            return None, Reply()
        person = await self.people.person_for(submission.user_id)
        if person is None or person.id is None:
            return None, Reply.text(REFUSAL)
        reply = await self.bot.on_form(person.id, submission.action, submission.ids, submission.values)
        return person, reply

    async def _answer_submission(
        self, ack: AsyncAck, submission: parse.FormSubmission, reply: Reply
    ) -> list[Card]:
        form = next((m for m in reply.messages if isinstance(m, Form)), None)
        cards = [m for m in reply.messages if isinstance(m, Card)]
        if form is None:
            await ack(response_action="clear") if submission.stacked else await ack()
            return cards
        errors = form_errors(form)
        if form.errors and form.action == submission.action and set(errors) <= set(submission.block_ids):
            # Same form, same fields: Slack shows each message under its field and keeps
            # everything typed.
            await ack(response_action="errors", errors=errors)
            return cards
        try:
            view = _modal(form)
        except ValueError as exc:
            # An ack that raises makes bolt answer 500 and the person sees a vague failure.
            log.warning("form %s cannot be a Slack modal: %s", form.action, exc)
            await ack(response_action="update", view=_notice_view("statbot", FORM_TOO_LONG))
            return cards
        if form.action != submission.action and not form.errors:
            # A follow-up form (the data check) goes on top: Back returns to the numbers.
            await ack(response_action="push", view=view)
        else:
            await ack(response_action="update", view=view)
        return cards

    async def _update_view(self, submission: parse.FormSubmission, reply: Reply) -> list[Card]:
        """The slow path: the ack showed a 'saving' view; replace it with the outcome."""
        form = next((m for m in reply.messages if isinstance(m, Form)), None)
        cards = [m for m in reply.messages if isinstance(m, Card)]
        if form is not None:
            try:
                view = _modal(form)
            except ValueError as exc:
                log.warning("form %s cannot be a Slack modal: %s", form.action, exc)
                view = _notice_view("statbot", FORM_TOO_LONG)
        else:
            summary = " ".join(c.summary for c in cards) or "Done."
            view = _notice_view("statbot", f"Saved. {summary}")
        try:
            await self.client.views_update(view_id=submission.view_id, view=view)
        except SlackApiError as exc:
            log.warning("views.update after a slow submission failed: %s", exc.response.get("error"))
        return cards

    # --- showing replies -----------------------------------------------------------------

    async def _show(self, reply: Reply, where: _Where) -> None:
        cards: list[Card] = []
        for message in reply.messages:
            if isinstance(message, Form):
                try:
                    if await self._open_modal(message, where):
                        continue
                except ValueError as exc:
                    log.warning("form %s cannot be a Slack modal: %s", message.action, exc)
                    cards.append(_note(FORM_TOO_LONG))
                    continue
                cards.append(form_as_card(message, where.replay_text))
            else:
                cards.append(message)
        if not cards:
            return
        mention_ids = await self.people.mention_ids(cards)
        messages = [(card, blocks) for card in cards
                    for blocks in render_card_messages(card, mention_ids=mention_ids)]
        if where.respond is not None and len(messages) > RESPONSE_URL_USES - 1:
            # Keeping one use spare; Slack refuses the 6th answer, so the rest would be lost.
            try:
                dm = await self._in_dm(where)
            except (DeliveryError, SlackApiError) as exc:
                log.warning("a long reply cannot go to the DM: %s", exc)
                cut = _note(f"This answer is long ({len(messages)} messages) and only its start fits "
                            "here; open a direct message with statbot for the rest.")
                shown = messages[: RESPONSE_URL_USES - 2]
                messages = [*shown, *((cut, blocks) for blocks in render_card_messages(cut))]
            else:
                note = _note(f"This answer is long ({len(messages)} messages), "
                             "so I sent it to you in a direct message.")
                for blocks in render_card_messages(note):
                    await self._post(note, blocks, where, private=True)
                where = dm
        for card, blocks in messages:
            if not await self._post(card, blocks, where, private=reply.private):
                # response_url refused (used up, or older than 30 minutes): the DM takes the rest.
                log.info("response_url refused an answer; the rest of the reply goes to the DM")
                where = await self._in_dm(where)
                await self._post(card, blocks, where, private=reply.private)

    async def _in_dm(self, where: _Where) -> _Where:
        return _Where(where.person, where.user_id, dm_channel=await self._dm_of(where.person, where.user_id))

    async def _open_modal(self, form: Form, where: _Where) -> bool:
        if not where.trigger_id:
            return False
        trigger, where.trigger_id = where.trigger_id, None  # a trigger opens one modal
        try:
            await self.client.views_open(trigger_id=trigger, view=_modal(form))
        except SlackApiError as exc:
            # expired_trigger_id after a slow turn: the form goes out as a card with a button.
            log.info("views.open failed (%s); sending the form as a card", exc.response.get("error"))
            return False
        return True

    async def _post(self, card: Card, blocks: list[dict[str, Any]], where: _Where, *, private: bool) -> bool:
        """False when response_url refused the message (nothing was shown)."""
        text = fallback_text(card)
        if where.respond is not None:
            answer = await where.respond(
                text=text,
                blocks=blocks,
                response_type="ephemeral" if private else "in_channel",
                replace_original=False,
            )
            return answer.status_code == 200
        if where.dm_channel:
            await self.client.chat_postMessage(channel=where.dm_channel, text=text, blocks=blocks)
        elif where.channel and private:
            await self.client.chat_postEphemeral(
                channel=where.channel, user=where.user_id, text=text, blocks=blocks
            )
        elif where.channel:
            await self.client.chat_postMessage(channel=where.channel, text=text, blocks=blocks)
        else:
            channel = await self._dm_of(where.person, where.user_id)
            await self.client.chat_postMessage(channel=channel, text=text, blocks=blocks)
        return True

    async def _dm_of(self, person: Person | None, user_id: str) -> str:
        if person is not None:
            channel = await self.people.dm_channel(person)
            if channel:
                return channel
        response = await self.client.conversations_open(users=user_id)
        channel_id = (response.get("channel") or {}).get("id")
        if not isinstance(channel_id, str) or not channel_id:
            # Posting to str(None) would send to a channel called "None", or fail obscurely.
            raise DeliveryError(f"conversations.open gave no DM channel for {user_id}", permanent=True)
        return channel_id

    async def _post_to_dm(self, person: Person, user_id: str, cards: list[Card]) -> None:
        await self._show(Reply(messages=tuple(cards)), _Where(person, user_id,
                                                              dm_channel=await self._dm_of(person, user_id)))


def _modal(form: Form) -> dict[str, Any]:
    return render_form(
        form, callback_id=wire.FORM_CALLBACK, private_metadata=wire.form_metadata(form.action, form.ids)
    )


def _source(body: Mapping[str, Any], respond: AsyncRespond) -> _Source | None:
    """The message the button sits in; None for a click in App Home or a modal (Slack sends
    no ``message`` there) or one without a response_url (nothing could replace it)."""
    container, message = body.get("container"), body.get("message")
    if isinstance(container, Mapping) and container.get("type") != "message":
        return None
    if not isinstance(message, Mapping) or not isinstance(body.get("response_url"), str):
        return None
    blocks, text = message.get("blocks"), message.get("text")
    if not isinstance(blocks, list) or not all(isinstance(b, Mapping) for b in blocks):
        return None
    return _Source(text if isinstance(text, str) else "", [dict(b) for b in blocks], respond)


def _is_statbot_actions(block: Mapping[str, Any]) -> bool:
    elements = block.get("elements")
    return block.get("type") == "actions" and isinstance(elements, list) and any(
        isinstance(e, Mapping) and str(e.get("action_id", "")).startswith(wire.ACTION_PREFIX)
        for e in elements
    )


def _settled_blocks(blocks: list[dict[str, Any]], said: str) -> list[dict[str, Any]] | None:
    """``blocks`` with the first block of statbot buttons replaced by a context block saying
    ``said`` (escaped mrkdwn) and any further ones dropped (a card with more than 25 buttons
    has several; one line saying what happened is enough).  None when there are none."""
    settled: list[dict[str, Any]] = []
    replaced = False
    for block in blocks:
        if not _is_statbot_actions(block):
            settled.append(block)
        elif not replaced:
            text = {"type": "mrkdwn", "text": said, "verbatim": True}
            settled.append({"type": "context", "elements": [text]})
            replaced = True
    return settled if replaced else None


def _note(text: str) -> Card:
    return Card(parts=(paragraph(text),), summary=text)


def _notice_view(title: str, text: str) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": "statbot_notice",
        "title": {"type": "plain_text", "text": title[:24]},
        "close": {"type": "plain_text", "text": "Close"},
        "blocks": [{"type": "section", "text": {"type": "plain_text", "text": text[:3000]}}],
    }


__all__ = ["SlackAdapter"]
