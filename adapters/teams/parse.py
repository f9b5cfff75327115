"""Bot Framework activities (plain JSON dicts) → what the core needs.  Pure: no botbuilder.

Teams writes a mention of the bot into the text as ``<at>Bot name</at>`` (and lists it in
``entities``); people type ``stat status``, ``status`` or ``/stat status``.  The markup of
every mention is removed and a leading ``stat`` word dropped, so the core's grammar sees
``status``.  Mentions of people other than the bot keep their name.

NUL characters are stripped from every string of an activity (PostgreSQL refuses them in
text and JSON): typed text, ids, card values.  ``emptied`` says when typed text, or a form
field, was nothing but NULs, so the adapter tells the person instead of reading it empty.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from adapters.teams import wire
from bot.deliveries.models import Delivery
from bot.messages.text import NUL, without_nul

_AT = re.compile(r"<at(?:\s[^>]*)?>(.*?)</at>", re.IGNORECASE | re.DOTALL)
_STAT_WORD = re.compile(r"^\s*/?stat\b[\s:,]*", re.IGNORECASE)
_SPACES = re.compile(r"[ \t\u00a0]+")


@dataclass(frozen=True)
class Sender:
    user_id: str
    aad_object_id: str | None
    name: str


@dataclass(frozen=True)
class TextMessage:
    key: str
    sender: Sender
    text: str
    personal: bool
    # The text was nothing but NUL characters.
    emptied: bool = False


@dataclass(frozen=True)
class Submission:
    """An Action.Submit message or an Action.Execute invoke from one of statbot's cards."""

    key: str
    sender: Sender
    kind: str  # "form" or "button"
    action: str
    ids: dict[str, str]
    values: dict[str, str]
    # The activity id of the message holding the card (for updating it), if known.
    card_activity_id: str | None
    invoke: bool
    # Inputs whose typed text was nothing but NUL characters.
    emptied: tuple[str, ...] = ()


@dataclass(frozen=True)
class Install:
    key: str
    # Users (other than the bot) added with the app: their ids.
    members: tuple[str, ...]
    personal: bool
    team_name: str | None
    channel_name: str | None


@dataclass(frozen=True)
class Ignored:
    key: str
    reason: str


Parsed = TextMessage | Submission | Install | Ignored

# Fields of an activity statbot reads (or stores, as ids and references) that the Bot
# Framework's schema makes strings; its deserialiser would turn a number or an object
# into a string instead of refusing it.
_TEXTS = ("id", "channelId", "serviceUrl", "text", "name", "locale", "replyToId")
_ACCOUNTS = ("from", "recipient", "conversation")
_ACCOUNT_TEXTS = ("id", "name", "aadObjectId", "conversationType", "tenantId")
_LISTS = ("membersAdded", "membersRemoved", "entities", "attachments")


def _mapping(value: Any) -> Mapping[str, Any]:
    """``value`` when it is a JSON object, else an empty one: a field of the wrong type
    reads as absent."""
    return value if isinstance(value, Mapping) else {}


def _is(value: Any, kind: type) -> bool:
    return value is None or isinstance(value, kind)


def activity_problem(body: Any) -> str | None:
    """Why ``body`` (decoded JSON) is not an activity statbot can read, or None.

    Checked before the Bot Framework deserialises it: the shape every parser here relies
    on — strings where ids and text are read, objects where fields are looked up, lists
    of objects.  The reason names the field, never its value."""
    if not isinstance(body, Mapping):
        return "body is not a JSON object"
    if not isinstance(body.get("type"), str) or not body["type"]:
        return "type is not a non-empty string"
    for name in _TEXTS:
        if not _is(body.get(name), str):
            return f"{name} is not a string"
    for name in _ACCOUNTS:
        account = body.get(name)
        if not _is(account, Mapping):
            return f"{name} is not an object"
        for text in _ACCOUNT_TEXTS:
            if not _is(_mapping(account).get(text), str):
                return f"{name}.{text} is not a string"
    for name in _LISTS:
        items = body.get(name)
        if not _is(items, list) or not all(isinstance(i, Mapping) for i in items or ()):
            return f"{name} is not a list of objects"
    for item in body.get("membersAdded") or ():
        if not _is(item.get("id"), str):
            return "membersAdded.id is not a string"
    data = body.get("channelData")
    if not _is(data, Mapping):
        return "channelData is not an object"
    for name in ("teamsTeamId", "teamsChannelId"):
        if not _is(_mapping(data).get(name), str):
            return f"channelData.{name} is not a string"
    for name in ("team", "channel", "tenant"):
        if not _is(_mapping(data).get(name), Mapping):
            return f"channelData.{name} is not an object"
        if not _is(_mapping(_mapping(data).get(name)).get("id"), str):
            return f"channelData.{name}.id is not a string"
    if body["type"] == "invoke" and body.get("name") == "adaptiveCard/action":
        value = body.get("value")
        if not _is(value, Mapping) or not _is(_mapping(value).get("action"), Mapping):
            return "an Action.Execute without an action object"
    return None


def activity_key(activity: Mapping[str, Any]) -> str:
    """The id a retry repeats: the conversation and the activity id (Teams message ids are
    timestamps, unique only within a conversation)."""
    conversation = str(_mapping(activity.get("conversation")).get("id", ""))
    key = f"{conversation}|{activity.get('id', '')}"
    return key if len(key) <= 200 else key[-200:]


def sender_of(activity: Mapping[str, Any]) -> Sender:
    frm = _mapping(activity.get("from"))
    return Sender(
        user_id=str(frm.get("id", "")),
        aad_object_id=frm.get("aadObjectId") or None,
        name=str(frm.get("name", "")),
    )


def is_personal(activity: Mapping[str, Any]) -> bool:
    conversation = _mapping(activity.get("conversation"))
    kind = conversation.get("conversationType")
    return kind == "personal" or (kind is None and not conversation.get("isGroup"))


def clean_text(raw: str) -> str:
    """Mention markup replaced by the mentioned name between NUL marks.  NULs are
    stripped from ``raw`` first, so typed text can never forge a mark (and HTML entities
    cannot make one: ``&#0;`` decodes to U+FFFD)."""
    text = _AT.sub(lambda m: NUL + without_nul(html.unescape(m.group(1))) + NUL, without_nul(raw or ""))
    return html.unescape(text)


def command_text(raw: str, bot_names: set[str]) -> str:
    """Mentions resolved (the bot's name dropped, other names kept as ``@name``), the
    optional ``stat`` word dropped, spaces collapsed."""
    marked = clean_text(raw)
    # Segments between NUL marks are mentions: drop the bot's, keep people's names.
    pieces = marked.split(NUL)
    out: list[str] = []
    for index, piece in enumerate(pieces):
        if index % 2 == 1:
            if piece.strip().lower() in bot_names:
                continue
            out.append("@" + piece.strip())
        else:
            out.append(piece)
    text = _SPACES.sub(" ", "".join(out)).strip()
    return _STAT_WORD.sub("", text, count=1).strip() if _STAT_WORD.match(text) else text


def _submission(activity: Mapping[str, Any], data: Any, *, invoke: bool) -> Submission | None:
    if not isinstance(data, Mapping):
        return None
    read = wire.read_data(data)
    if read is None:
        return None
    kind, action, ids, values = read
    card_id = activity.get("replyToId") or None
    return Submission(
        key=activity_key(activity),
        sender=sender_of(activity),
        kind=kind,
        action=action,
        ids=ids,
        values=values,
        card_activity_id=str(card_id) if card_id else None,
        invoke=invoke,
    )


def without_nuls(value: Any) -> Any:
    """``value`` (an activity, or any part of it) with NUL characters stripped from every
    string in it, keys included."""
    if isinstance(value, str):
        return without_nul(value)
    if isinstance(value, Mapping):
        return {without_nul(str(k)): without_nuls(v) for k, v in value.items()}
    if isinstance(value, list):
        return [without_nuls(v) for v in value]
    return value


def _card_data(activity: Mapping[str, Any]) -> Any:
    """What a card's button or form sent: an Action.Submit's value, an Action.Execute's
    action data."""
    if activity.get("type") == "invoke":
        return _mapping(_mapping(activity.get("value")).get("action")).get("data")
    return activity.get("value")


def parse(activity: Mapping[str, Any], bot_names: set[str] | None = None) -> Parsed:
    """The activity as the core needs it, read from a copy without NUL characters; what
    was nothing but NULs is marked ``emptied``."""
    parsed = _parse(without_nuls(activity), bot_names)
    if isinstance(parsed, TextMessage) and NUL in str(activity.get("text") or "") and not parsed.text:
        return replace(parsed, emptied=True)
    if isinstance(parsed, Submission) and isinstance(data := _card_data(activity), Mapping):
        emptied = wire.emptied_values(data)
        return replace(parsed, emptied=emptied) if emptied else parsed
    return parsed


def _parse(activity: Mapping[str, Any], bot_names: set[str] | None) -> Parsed:
    kind = activity.get("type")
    key = activity_key(activity)
    names = {n.lower() for n in (bot_names or set())}
    recipient = _mapping(activity.get("recipient"))
    if recipient.get("name"):
        names.add(str(recipient["name"]).lower())
    if kind == "message":
        value = activity.get("value")
        if value is not None and not (activity.get("text") or "").strip():
            found = _submission(activity, value, invoke=False)
            return found if found is not None else Ignored(key, "a card submit that is not statbot's")
        text = command_text(str(activity.get("text") or ""), names)
        return TextMessage(key=key, sender=sender_of(activity), text=text, personal=is_personal(activity))
    if kind == "invoke" and activity.get("name") == "adaptiveCard/action":
        found = _submission(activity, _card_data(activity), invoke=True)
        return found if found is not None else Ignored(key, "an Action.Execute that is not statbot's")
    if kind == "conversationUpdate":
        bot_id = str(recipient.get("id", ""))
        added = [str(_mapping(m).get("id", "")) for m in activity.get("membersAdded") or []]
        if not added:
            return Ignored(key, "conversationUpdate without members added")
        people = tuple(m for m in added if m and m != bot_id and not m.startswith("28:"))
        team = _mapping(_mapping(activity.get("channelData")).get("team"))
        conversation = _mapping(activity.get("conversation"))
        return Install(
            key=key,
            members=people,
            personal=is_personal(activity),
            team_name=team.get("name"),
            channel_name=conversation.get("name"),
        )
    return Ignored(key, f"activity type {kind!r}")


def reference_of(activity: Mapping[str, Any]) -> dict[str, Any]:
    """The ConversationReference (as the Bot Framework serialises it) to reach this
    conversation again.  The service URL is the activity's own (clouds differ)."""
    conversation = dict(_mapping(activity.get("conversation")))
    ref: dict[str, Any] = {
        "activityId": activity.get("id"),
        "user": activity.get("from"),
        "bot": activity.get("recipient"),
        "conversation": conversation,
        "channelId": activity.get("channelId", "msteams"),
        "serviceUrl": activity.get("serviceUrl"),
    }
    if activity.get("locale"):
        ref["locale"] = activity["locale"]
    # A channel message's conversation id carries ";messageid=…" (the thread): post
    # proactive messages to the channel itself.
    if isinstance(conversation.get("id"), str) and ";messageid=" in conversation["id"]:
        conversation["id"] = conversation["id"].split(";messageid=")[0]
    return ref


def channel_audience_name(activity: Mapping[str, Any]) -> str | None:
    """``<team id>/<channel id>`` of a channel activity (the org file's Teams channel form)."""
    data = _mapping(activity.get("channelData"))
    team = _mapping(data.get("team")).get("id") or data.get("teamsTeamId")
    channel = _mapping(data.get("channel")).get("id") or data.get("teamsChannelId")
    if not team or not channel:
        return None
    return f"{team}/{channel}"


def audience_of(activity: Mapping[str, Any], person_id: int | None) -> str | None:
    """The delivery audience this activity's conversation is: the person's own chat or a
    team channel."""
    if is_personal(activity):
        return Delivery.to_person(person_id) if person_id is not None else None
    name = channel_audience_name(activity)
    return Delivery.to_channel(name, "teams") if name else None


def tenant_of(reference: Mapping[str, Any]) -> str:
    conversation = _mapping(reference.get("conversation"))
    return str(conversation.get("tenantId") or "")


def email_of(member: Mapping[str, Any] | None) -> str | None:
    """The e-mail (or UPN) of a member the connector returned."""
    if not member:
        return None
    for key in ("email", "userPrincipalName"):
        value = member.get(key)
        if isinstance(value, str) and "@" in value:
            return value.strip().lower()
    return None


@dataclass
class Members:
    """Member look-ups kept per turn (several mentions of the same person)."""

    found: dict[str, str | None] = field(default_factory=dict)
