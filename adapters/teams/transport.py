"""The one module that speaks botbuilder (4.17, the SDK's final line).

Everything else in adapters/teams/ sees plain dicts: the activity as the Bot Framework
serialises it, ConversationReferences as stored JSON, Adaptive Cards as dicts.  Moving to
the Microsoft 365 Agents SDK replaces this file.

* ``handle_http``: ``POST /api/messages`` through ``CloudAdapter`` with
  ``ConfigurationBotFrameworkAuthentication`` built from MicrosoftAppId/Password/TenantId/
  Type.  With an app id a request without a valid JWT gets 401; without one the SDK
  turns authentication off, so only loopback clients (the Bot Framework Emulator, tests)
  are served and everyone else gets 401.  The body is read and checked by statbot before
  the SDK sees it (the SDK's own ``process`` answers 500 to some bodies, from anyone):
  a body that cannot be read gets 400 (413 when too large), one log line each.
* The turn's handler returns an invoke body for ``adaptiveCard/action`` (an Adaptive
  Card dict, or a message string Teams shows while keeping the card); it is answered as
  ``InvokeResponse(200, AdaptiveCardInvokeResponse(...))`` — the SDK's own
  ``on_adaptive_card_invoke`` path serialises twice and answers 500.
* ``send_one`` / ``update`` post proactively to the stored reference, through a connector
  client built as ``continue_conversation`` builds one but kept per service URL.  The
  connector's own HTTP retries are turned off (msrest retries every 5xx, POST included,
  three times in a thread): the gateway retries itself, knowing what
  already went out, so nothing is sent twice.  Failures become ``SendFailed`` with the
  HTTP status and Retry-After.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from aiohttp import web
from botbuilder.core import InvokeResponse, TurnContext, serializer_helper
from botbuilder.core.teams import TeamsInfo
from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication
from botbuilder.schema import (
    Activity,
    ActivityTypes,
    AdaptiveCardInvokeResponse,
    Attachment,
    ConversationReference,
)

from adapters import bodies
from adapters.settings import Settings
from adapters.teams.parse import activity_problem

log = logging.getLogger(__name__)

CARD = "application/vnd.microsoft.card.adaptive"


class SendFailed(Exception):
    def __init__(self, message: str, *, status: int | None = None, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


class _Config:
    """The attribute names ConfigurationBotFrameworkAuthentication reads."""

    def __init__(self, settings: Settings) -> None:
        self.APP_ID = settings.microsoft_app_id or ""
        self.APP_PASSWORD = (
            settings.microsoft_app_password.get_secret_value() if settings.microsoft_app_password else ""
        )
        self.APP_TENANTID = settings.microsoft_app_tenant_id or ""
        self.APP_TYPE = settings.microsoft_app_type or "MultiTenant"


def _activity(card: Mapping[str, Any] | None, text: str | None) -> Activity:
    activity = Activity(type=ActivityTypes.message, text=text)
    if card is not None:
        activity.attachments = [Attachment(content_type=CARD, content=dict(card))]
    return activity


def _failure(exc: Exception) -> SendFailed:
    response = getattr(exc, "response", None)
    status = getattr(response, "status_code", None)
    retry_after = None
    headers = getattr(response, "headers", None) or {}
    try:
        raw = headers.get("Retry-After")
        retry_after = float(raw) if raw is not None else None
    except (TypeError, ValueError):
        retry_after = None
    return SendFailed(f"{type(exc).__name__} {status or ''}".strip(), status=status, retry_after=retry_after)


class Turn:
    """One inbound activity, as plain data, with what a handler may do during its turn."""

    def __init__(self, context: TurnContext) -> None:
        self._context = context
        self.activity: dict[str, Any] = context.activity.serialize()

    async def reply(self, cards: Sequence[Mapping[str, Any]], text: str | None = None) -> list[str]:
        ids: list[str] = []
        for card in cards:
            sent = await self._context.send_activity(_activity(card, text if len(cards) == 1 else None))
            if sent is not None and sent.id:
                ids.append(sent.id)
        if not cards and text:
            sent = await self._context.send_activity(_activity(None, text))
            if sent is not None and sent.id:
                ids.append(sent.id)
        return ids

    async def update(self, activity_id: str, card: Mapping[str, Any]) -> None:
        activity = _activity(card, None)
        activity.id = activity_id
        await self._context.update_activity(activity)

    async def member(self, user_id: str) -> dict[str, Any] | None:
        """The member's account (email, userPrincipalName) from the connector, or None."""
        try:
            account = await TeamsInfo.get_member(self._context, user_id)
        except Exception as exc:
            log.warning("Teams member look-up failed (%s)", type(exc).__name__)
            return None
        serialized: dict[str, Any] = account.serialize() if account is not None else {}
        return serialized or None


# What a turn answers an invoke with: a card (replacing the clicked one), a message Teams
# shows while keeping the card as it was, or nothing.
InvokeAnswer = dict[str, Any] | str | None
Handler = Callable[[Turn], Awaitable[InvokeAnswer]]


class _MessageInvokeResponse(AdaptiveCardInvokeResponse):  # type: ignore[misc]
    """An Action.Execute answer that is a message: the SDK's model types ``value`` as a
    dict, and its serialiser refuses the string a message answer carries."""

    _attribute_map: ClassVar[dict[str, dict[str, str]]] = {
        **AdaptiveCardInvokeResponse._attribute_map,
        "value": {"key": "value", "type": "str"},
    }


class _Bot:
    def __init__(self, handler: Handler) -> None:
        self.handler = handler

    async def on_turn(self, context: TurnContext) -> None:
        turn = Turn(context)
        body = await self.handler(turn)
        if context.activity.type == ActivityTypes.invoke:
            answer = (
                AdaptiveCardInvokeResponse(status_code=200, type=CARD, value=body)
                if isinstance(body, dict)
                else _MessageInvokeResponse(
                    status_code=200, type="application/vnd.microsoft.activity.message", value=body or ""
                )
            )
            response = InvokeResponse(status=200, body=answer)
            await context.send_activity(Activity(type=ActivityTypes.invoke_response, value=response))


class TeamsTransport:
    def __init__(self, settings: Settings, handler: Handler) -> None:
        self.app_id = settings.microsoft_app_id or ""
        self.adapter = CloudAdapter(ConfigurationBotFrameworkAuthentication(_Config(settings)))
        self.bot = _Bot(handler)
        self._clients: dict[str, Any] = {}
        self._building: dict[str, asyncio.Lock] = {}

        async def on_error(context: TurnContext, error: Exception) -> None:
            # Class only: the SDK's messages can carry activity text.
            log.error("Teams turn failed: %s", type(error).__name__, exc_info=error)

        self.adapter.on_turn_error = on_error

    async def handle_http(self, request: web.Request) -> web.StreamResponse:
        """POST /api/messages.  ``CloudAdapter.process`` parses the body before it checks
        the token and lets whatever the parse raises escape as a 500 with a traceback (a
        ``null`` body, deeply nested JSON), to anyone.  So the steps are statbot's own,
        each refusal one log line without the body: with an app id, a request without a
        token gets 401 before its body is read; the body is read (aiohttp's size limit),
        decoded and checked against the shape statbot reads (``parse.activity_problem``),
        and a refused one gets 401 unless its token is valid (then 400, or 413 when too
        large); then the SDK authenticates the activity (401) and runs the turn."""
        if not self.app_id and not _loopback(request):
            return _refused(401, "unauthenticated activities are accepted from loopback only")
        auth_header = request.headers.get("Authorization", "")
        if self.app_id and not auth_header.strip():
            return _refused(401, "no Bot Framework token")
        read = await self._read(request)
        if isinstance(read, _Refusal):
            if self.app_id and not await self._authentic(auth_header):
                return _refused(401, "invalid Bot Framework token")
            return _refused(read.status, read.reason)
        try:
            authenticated = await self.adapter.bot_framework_authentication.authenticate_request(
                read, auth_header
            )
        except Exception as exc:  # PermissionError, or the JWT library's own errors
            return _refused(401, f"invalid Bot Framework token ({type(exc).__name__})")
        try:
            invoke = await self.adapter.process_activity(authenticated, read, self.bot.on_turn)
        except Exception as exc:
            # The turn's own failures go to on_turn_error; what escapes comes from the SDK
            # handling an activity it could not use (e.g. building its connector).
            return _refused(400, f"the Bot Framework could not handle the activity ({type(exc).__name__})")
        if invoke is not None:
            return web.json_response(data=serializer_helper(invoke.body), status=invoke.status)
        return web.Response(status=201)

    async def _read(self, request: web.Request) -> Activity | _Refusal:
        if "application/json" not in request.headers.get("Content-Type", ""):
            return _Refusal(415, "expected application/json")
        try:
            raw = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return _Refusal(413, "body too large")
        try:
            body = bodies.load_json(raw)
        except bodies.Unreadable as exc:
            return _Refusal(400, str(exc))
        problem = activity_problem(body)
        if problem is not None:
            return _Refusal(400, problem)
        try:
            return Activity().deserialize(body)
        except Exception as exc:  # msrest's DeserializationError and whatever else it meets
            return _Refusal(400, f"not an activity ({type(exc).__name__})")

    async def _authentic(self, auth_header: str) -> bool:
        """Whether the token alone is valid (the Bot Framework signed it for this app),
        for a request whose body is refused: no activity, so no service URL to match."""
        try:
            await self.adapter.bot_framework_authentication.authenticate_channel_request(auth_header)
        except Exception:
            return False
        return True

    async def _client(self, service_url: str) -> Any:
        """One connector client per service URL (clouds and regions differ), built the way
        ``continue_conversation`` builds one, kept for the process: building one per send
        costs ~12 ms of CPU in msrest alone.  Its credentials refresh their own token.
        Built once under a lock: a fan-out's first sends all ask at the same moment, and
        each building its own cost seconds of CPU before the first message went out."""
        client = self._clients.get(service_url)
        if client is not None:
            return client
        lock = self._building.setdefault(service_url, asyncio.Lock())
        async with lock:
            client = self._clients.get(service_url)
            if client is None:
                factory = self.adapter.bot_framework_authentication.create_connector_factory(
                    self.adapter.create_claims_identity(self.app_id)
                )
                client = await factory.create(service_url, None)
                policy = getattr(getattr(client, "config", None), "retry_policy", None)
                if policy is not None:
                    policy.retries = 0
                self._clients[service_url] = client
        return client

    async def prepare(self, reference: Mapping[str, Any]) -> None:
        """Have the connector client for ``reference`` ready, so the sender's pacing times
        the POST itself and not a client being built."""
        service_url = reference.get("serviceUrl")
        if isinstance(service_url, str) and service_url:
            try:
                await self._client(service_url)
            except Exception as exc:
                raise _failure(exc) from None

    def _outgoing(self, reference: Mapping[str, Any], card: Mapping[str, Any]) -> Activity:
        ref = ConversationReference().deserialize(dict(reference))
        return TurnContext.apply_conversation_reference(_activity(card, None), ref)

    async def send_one(self, reference: Mapping[str, Any], card: Mapping[str, Any]) -> str:
        """Post one card to a stored conversation; the id Teams gave the message."""
        activity = self._outgoing(reference, card)
        try:
            client = await self._client(activity.service_url)
            sent = await client.conversations.send_to_conversation(activity.conversation.id, activity)
        except Exception as exc:
            raise _failure(exc) from None
        return str(getattr(sent, "id", "") or "")

    async def update(self, reference: Mapping[str, Any], activity_id: str, card: Mapping[str, Any]) -> None:
        activity = self._outgoing(reference, card)
        activity.id = activity_id
        try:
            client = await self._client(activity.service_url)
            await client.conversations.update_activity(activity.conversation.id, activity_id, activity)
        except Exception as exc:
            raise _failure(exc) from None

    async def close(self) -> None:
        for client in self._clients.values():
            try:
                await client.__aexit__(None, None, None)  # closes its HTTP session
            except Exception:  # pragma: no cover - closing is best effort
                log.debug("closing a connector client failed", exc_info=True)
        self._clients.clear()


@dataclass(frozen=True)
class _Refusal:
    status: int
    # Said in the log line and the response: never anything from the body.
    reason: str


def _refused(status: int, reason: str) -> web.Response:
    log.warning("Teams request refused (%s): %s", status, reason)
    return web.json_response({"error": reason}, status=status)


def _loopback(request: web.Request) -> bool:
    try:
        return ipaddress.ip_address(request.remote or "").is_loopback
    except ValueError:
        return False
