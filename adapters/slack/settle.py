"""Settling the message a button was clicked in.

A click that settles its item (the core's ``Reply.settles_source``: an escalation
acknowledged, a follow-up answered) replaces the clicked message through the click's
response_url, its statbot buttons swapped for a line saying what happened, so nobody
else clicks a stale button.  The updated message says what happened to everyone who
sees it; only a form (if any) is left to show.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
from slack_bolt.async_app import AsyncRespond

from adapters.slack.render import fallback_text
from adapters.slack.wire import ACTION_PREFIX
from bot.messages import Card, Form, Reply

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Source:
    """The message a button was clicked in, as Slack sent it with the click, and the
    click's response_url (through ``respond``), which can replace that message for everyone."""

    text: str
    blocks: list[dict[str, Any]]
    respond: AsyncRespond


def source_of(body: Mapping[str, Any], respond: AsyncRespond) -> Source | None:
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
    return Source(text if isinstance(text, str) else "", [dict(b) for b in blocks], respond)


async def settle(reply: Reply, source: Source | None) -> Reply:
    """What is left of ``reply`` to show once the clicked message is settled: the reply
    itself when it settles nothing or the message was left as it was, else its forms."""
    if not reply.settles_source or source is None or not await _replace(reply, source):
        return reply
    forms = tuple(m for m in reply.messages if isinstance(m, Form))
    return reply.model_copy(update={"messages": forms})


async def _replace(reply: Reply, source: Source) -> bool:
    """Replace the clicked message's statbot buttons by what the click did.  False when
    the message was left as it was (no statbot buttons in it, or response_url refused)."""
    said = " ".join(m.summary for m in reply.messages if isinstance(m, Card) and m.summary.strip())
    if not said:
        return False
    # fallback_text escapes user text as render.py does and cuts it to a context's 3000.
    blocks = settled_blocks(source.blocks, fallback_text(Card(parts=(), summary=said)))
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


def _is_statbot_actions(block: Mapping[str, Any]) -> bool:
    elements = block.get("elements")
    return (
        block.get("type") == "actions"
        and isinstance(elements, list)
        and any(
            isinstance(e, Mapping) and str(e.get("action_id", "")).startswith(ACTION_PREFIX) for e in elements
        )
    )


def settled_blocks(blocks: list[dict[str, Any]], said: str) -> list[dict[str, Any]] | None:
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
