"""Slack payloads → small typed events.  Pure: no client, no database.

Each parser returns None for a payload statbot must ignore (a bot's own message, an edit,
a button whose value was not made by statbot), so listeners never guess.

NUL characters are stripped from every string taken from a payload (PostgreSQL refuses
them): typed text, ids, form values.  ``emptied`` says when typed text was nothing but
NULs, so the adapter tells the person instead of reading an empty text.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from adapters.slack.wire import emptied_form_values, read_form_values, without_nul

_USER_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
_MAILTO = re.compile(r"<mailto:([^|>]+)(?:\|[^>]*)?>")
_LINK = re.compile(r"<((?:https?://)[^|>]+)(?:\|([^>]*))?>")
_CHANNEL = re.compile(r"<#[CG][A-Z0-9]+\|([^>]*)>")
_SPECIAL = re.compile(r"<!([a-z]+)(?:\^[^|>]*)?(?:\|[^>]*)?>")


@dataclass(frozen=True)
class SlashCommand:
    user_id: str
    channel_id: str
    text: str
    trigger_id: str | None
    response_url: str | None
    mentioned: tuple[str, ...] = ()
    # The text was nothing but NUL characters.
    emptied: bool = False

    @property
    def key(self) -> str:
        return f"command:{self.trigger_id or self.response_url}"


@dataclass(frozen=True)
class DirectMessage:
    user_id: str
    channel_id: str
    text: str
    event_id: str
    mentioned: tuple[str, ...] = ()
    # The text was nothing but NUL characters.
    emptied: bool = False

    @property
    def key(self) -> str:
        return f"event:{self.event_id}"


@dataclass(frozen=True)
class ButtonClick:
    user_id: str
    action: str
    ids: dict[str, str]
    trigger_id: str | None
    channel_id: str | None
    response_url: str | None
    action_ts: str

    @property
    def key(self) -> str:
        return f"action:{self.trigger_id or self.user_id + ':' + self.action_ts}"

    @property
    def in_dm(self) -> bool:
        return bool(self.channel_id and self.channel_id.startswith("D"))


@dataclass(frozen=True)
class FormSubmission:
    user_id: str
    action: str
    ids: dict[str, str]
    values: dict[str, str]
    view_id: str
    view_hash: str
    stacked: bool
    block_ids: tuple[str, ...] = field(default=())
    trigger_id: str | None = None
    # Inputs whose typed text was nothing but NUL characters.
    emptied: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        """One per click of Submit.  Slack keeps the view hash when we answer with field
        errors (and after Back), so a corrected resubmission has the same view id and hash
        as the refused one: the key must change with each click.  Slack gives every
        view_submission a fresh trigger_id, and a re-sent payload keeps its own; without
        one, what was typed stands in (a changed form is a new submission)."""
        if self.trigger_id:
            return f"view:{self.view_id}:{self.trigger_id}"
        typed = json.dumps(self.values, sort_keys=True, separators=(",", ":"))
        digest = hashlib.sha256(typed.encode()).hexdigest()[:32]
        return f"view:{self.view_id}:{self.view_hash}:{digest}"


@dataclass(frozen=True)
class HomeOpened:
    user_id: str
    event_id: str


def _str(value: Any) -> str | None:
    value = without_nul(value) if isinstance(value, str) else None
    return value or None


def _ids(value: Any) -> dict[str, str] | None:
    if not isinstance(value, Mapping):
        return None
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        return None
    return {without_nul(k): without_nul(v) for k, v in value.items()}


def _typed(value: Any) -> tuple[str, bool]:
    """Typed text without NULs, and whether that left nothing of a text that was there."""
    raw = value if isinstance(value, str) else ""
    text = without_nul(raw)
    return text, bool(raw.strip()) and not text.strip()


def mentioned_users(text: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(_USER_MENTION.findall(text)))


def plain_text(text: str, emails: Mapping[str, str] | None = None) -> str:
    """Slack's message markup → what the person meant to type.

    ``<@U1|ana>`` becomes the person's e-mail when known (the core resolves e-mails) and
    ``@ana`` otherwise; ``<mailto:a@b|a@b>`` becomes ``a@b``; links lose their brackets;
    channel and broadcast markup become plain words; entities are decoded last."""
    known = emails or {}

    def user(m: re.Match[str]) -> str:
        label = m.group(0)[2:-1].partition("|")[2]
        return known.get(m.group(1)) or ("@" + (label or m.group(1)))

    text = _USER_MENTION.sub(user, text)
    text = _MAILTO.sub(lambda m: m.group(1), text)
    text = _LINK.sub(lambda m: m.group(1), text)
    text = _CHANNEL.sub(lambda m: "#" + m.group(1), text)
    text = _SPECIAL.sub(lambda m: "@" + m.group(1), text)
    return html.unescape(text).strip()


def parse_command(body: Mapping[str, Any]) -> SlashCommand | None:
    user_id = _str(body.get("user_id"))
    channel_id = _str(body.get("channel_id")) or ""
    if user_id is None:
        return None
    text, emptied = _typed(body.get("text"))
    return SlashCommand(
        user_id=user_id,
        channel_id=channel_id,
        text=text,
        trigger_id=_str(body.get("trigger_id")),
        response_url=_str(body.get("response_url")),
        mentioned=mentioned_users(text),
        emptied=emptied,
    )


def parse_message(body: Mapping[str, Any]) -> DirectMessage | None:
    """A person's direct message to the bot; None for anything else (bots, edits,
    deletions, channel messages, joins)."""
    event = body.get("event")
    if not isinstance(event, Mapping) or event.get("type") != "message":
        return None
    if event.get("channel_type") != "im" or event.get("subtype") or event.get("bot_id"):
        return None
    user_id, channel_id = _str(event.get("user")), _str(event.get("channel"))
    raw, event_id = event.get("text"), _str(body.get("event_id"))
    if user_id is None or channel_id is None or not isinstance(raw, str) or event_id is None:
        return None
    text, emptied = _typed(raw)
    return DirectMessage(user_id, channel_id, text, event_id, mentioned_users(text), emptied)


def parse_home(body: Mapping[str, Any]) -> HomeOpened | None:
    event = body.get("event")
    if not isinstance(event, Mapping) or event.get("type") != "app_home_opened":
        return None
    if event.get("tab", "home") != "home":
        return None
    user_id, event_id = _str(event.get("user")), _str(body.get("event_id"))
    if user_id is None or event_id is None:
        return None
    return HomeOpened(user_id, event_id)


def parse_button(body: Mapping[str, Any], action: Mapping[str, Any]) -> ButtonClick | None:
    """A click on a statbot button; its value is ``{"a": action, "ids": {...}}``."""
    user = body.get("user")
    user_id = _str(user.get("id")) if isinstance(user, Mapping) else None
    raw = action.get("value")
    if user_id is None or not isinstance(raw, str):
        return None
    try:
        value = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(value, Mapping):
        return None
    name, ids = _str(value.get("a")), _ids(value.get("ids", {}))
    if name is None or ids is None:
        return None
    channel = body.get("channel")
    container = body.get("container")
    channel_id = _str(channel.get("id")) if isinstance(channel, Mapping) else None
    if channel_id is None and isinstance(container, Mapping):
        channel_id = _str(container.get("channel_id"))
    return ButtonClick(
        user_id=user_id,
        action=name,
        ids=ids,
        trigger_id=_str(body.get("trigger_id")),
        channel_id=channel_id,
        response_url=_str(body.get("response_url")),
        action_ts=without_nul(str(action.get("action_ts", ""))),
    )


def parse_submission(body: Mapping[str, Any]) -> FormSubmission | None:
    user = body.get("user")
    view = body.get("view")
    if not isinstance(user, Mapping) or not isinstance(view, Mapping):
        return None
    user_id, view_id = _str(user.get("id")), _str(view.get("id"))
    try:
        meta = json.loads(view.get("private_metadata") or "")
    except (TypeError, ValueError):
        return None
    if user_id is None or view_id is None or not isinstance(meta, Mapping):
        return None
    action, ids = _str(meta.get("a")), _ids(meta.get("ids", {}))
    state = view.get("state")
    values = state.get("values") if isinstance(state, Mapping) else None
    if action is None or ids is None or not isinstance(values, Mapping):
        return None
    blocks = view.get("blocks")
    block_ids = (
        tuple(
            without_nul(b["block_id"])
            for b in blocks
            if isinstance(b, Mapping) and isinstance(b.get("block_id"), str)
        )
        if isinstance(blocks, list)
        else ()
    )
    return FormSubmission(
        user_id=user_id,
        action=action,
        ids=ids,
        values=read_form_values(values),
        view_id=view_id,
        view_hash=without_nul(str(view.get("hash", ""))),
        stacked=bool(view.get("previous_view_id")),
        block_ids=block_ids,
        trigger_id=_str(body.get("trigger_id")),
        emptied=emptied_form_values(values),
    )


# The shape of a payload that slack-bolt and the parsers here rely on.  bolt reads these
# without checking their types (``"id" in user``, ``body["actions"][0]["action_id"]``,
# ``re.search`` on ids), so a signed payload of another shape made it raise: a 500 with
# "Failed to run a middleware function", or an aiohttp traceback.
_TEXTS = (
    "type",
    "command",
    "callback_id",
    "action_id",
    "trigger_id",
    "response_url",
    "user_id",
    "channel_id",
    "text",
    "event_id",
)
# Read as ``x`` or ``x["id"]`` by bolt, here, and again inside the event and its parts.
_ID_HOLDERS = ("user", "team", "enterprise", "channel")
_ID_PARTS = ("item", "message", "previous_message", "assistant_thread")
_CALLBACK_TYPES = (
    "shortcut",
    "message_action",
    "dialog_submission",
    "dialog_cancellation",
    "dialog_suggestion",
    "workflow_step_edit",
)
_MESSAGE_TEXTS = ("user", "text", "channel", "channel_type", "subtype", "bot_id", "ts", "thread_ts")
_VIEW_TEXTS = ("id", "hash", "private_metadata", "previous_view_id", "callback_id", "type")


def _is(value: Any, *kinds: type) -> bool:
    return value is None or isinstance(value, kinds)


def _objects(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, Mapping) for v in value)


def _id_problems(holder: Mapping[str, Any], where: str) -> Iterator[str]:
    for name in _ID_HOLDERS:
        if not _is(holder.get(name), str, Mapping):
            yield f"{where}{name} is neither a string nor an object"


def _event_problems(event: Any) -> Iterator[str]:
    if not isinstance(event, Mapping):
        yield "event is not an object"
        return
    if not isinstance(event.get("type"), str) or not event["type"]:
        yield "event.type is not a string"
    yield from _id_problems(event, "event.")
    for part in _ID_PARTS:
        if isinstance(event.get(part), Mapping):
            yield from _id_problems(event[part], f"event.{part}.")
    if event.get("type") == "message":
        yield from (f"event.{n} is not a string" for n in _MESSAGE_TEXTS if not _is(event.get(n), str))
    if event.get("type") == "app_home_opened" and not _is(event.get("tab"), str):
        yield "event.tab is not a string"


def _action_problems(actions: Any) -> Iterator[str]:
    if not _objects(actions) or not actions:
        yield "actions is not a list of objects"
    elif not all(isinstance(a.get("action_id"), str) and _is(a.get("value"), str) for a in actions):
        yield "an action's action_id or value is not a string"


def _view_problems(view: Any, *, submitted: bool) -> Iterator[str]:
    if not isinstance(view, Mapping):
        yield "view is not an object"
        return
    # bolt routes a submitted (or closed) view by these two; a click inside a view does not.
    if submitted and not (isinstance(view.get("type"), str) and isinstance(view.get("callback_id"), str)):
        yield "view.type or view.callback_id is not a string"
    if not all(_is(view.get(n), str) for n in _VIEW_TEXTS):
        yield "a field of the view is not a string"
    state = view.get("state")
    values = state.get("values") if isinstance(state, Mapping) else None
    if not _is(state, Mapping) or not _is(values, Mapping):
        yield "view.state is not an object of values"
    for actions in (values or {}).values():
        if not isinstance(actions, Mapping) or not all(isinstance(a, Mapping) for a in actions.values()):
            yield "view.state.values is not an object of inputs"


def _problems(body: Mapping[str, Any]) -> Iterator[str]:
    """Every reason, in order; the first is enough (a later check may assume an earlier
    one passed, and the generator stops at the first)."""
    yield from (f"{n} is not a string" for n in _TEXTS if not _is(body.get(n), str))
    kind = body.get("type")
    if kind is None and "command" not in body:
        yield "neither a slash command nor a typed payload"
    yield from _id_problems(body, "")
    authorizations = body.get("authorizations")
    if authorizations is not None:
        if not _objects(authorizations):
            yield "authorizations is not a list of objects"
        for authorization in authorizations:
            yield from _id_problems(authorization, "authorizations.")
    if "response_urls" in body:
        urls = body["response_urls"]
        if not _objects(urls) or not all(_is(u.get("response_url"), str) for u in urls):
            yield "response_urls is not a list of objects"
    if "event" in body:
        yield from _event_problems(body["event"])
    elif kind == "event_callback":
        yield "an event_callback without an event"
    if kind == "block_actions":
        yield from _action_problems(body.get("actions"))
    submitted = kind in ("view_submission", "view_closed")
    if submitted or "view" in body:
        yield from _view_problems(body.get("view"), submitted=submitted)
    if kind == "block_suggestion" and not isinstance(body.get("action_id"), str):
        yield "a block_suggestion without an action_id"
    if kind in _CALLBACK_TYPES and not isinstance(body.get("callback_id"), str):
        yield f"a {kind} without a callback_id"
    if kind == "url_verification" and not isinstance(body.get("challenge"), str):
        yield "a url_verification without a challenge"
    view = body.get("view")
    step = kind == "workflow_step_edit" or (isinstance(view, Mapping) and view.get("type") == "workflow_step")
    # bolt hands these to the legacy workflow-step listeners by body["workflow_step"].
    if step and not isinstance(body.get("workflow_step"), Mapping):
        yield "a workflow step payload without its workflow_step"


def payload_problem(body: Mapping[str, Any]) -> str | None:
    """Why a signed payload is not one statbot can hand to bolt, or None.  The minimal
    shape bolt's routing and these parsers rely on, by payload type; the reason names
    the field, never its value.  A well-formed payload of a type statbot ignores passes."""
    return next(_problems(body), None)


def event_kind(body: Mapping[str, Any]) -> str:
    """What a request is, for log lines: ``command``, ``event:message``, ``block_actions``…
    Never anything a person typed."""
    if "command" in body:
        return "command"
    kind = _str(body.get("type")) or "unknown"
    event = body.get("event")
    if kind == "event_callback" and isinstance(event, Mapping):
        return f"event:{_str(event.get('type')) or 'unknown'}"
    return kind[:40]
