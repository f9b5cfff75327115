"""Where a turn's reply goes, and how it gets there.

A reply to a slash command or a click in a channel answers through the response_url
(ephemeral unless the core says otherwise); a DM message or a click in the DM is answered
in the DM.  A form opens as a modal when the turn brought a trigger_id (one modal per
trigger), else it goes out as a card with a button that opens it.  Slack takes at most 5
answers through one response_url (within 30 minutes): a longer reply goes to the
person's DM, with one answer through response_url saying so, and an answer the
response_url refuses sends the rest of the reply to the DM.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from slack_bolt.async_app import AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.deliver import form_as_card
from adapters.slack.modals import FORM_TOO_LONG, modal_view
from adapters.slack.people import SlackPeople
from adapters.slack.render import fallback_text, render_card_messages
from bot.messages import Card, Form, Reply, paragraph
from bot.org.models import Person
from bot.ports import DeliveryError

log = logging.getLogger(__name__)

RESPONSE_URL_USES = 5


@dataclass
class Where:
    """Where a turn's reply goes."""

    person: Person | None
    user_id: str
    trigger_id: str | None = None
    respond: AsyncRespond | None = None
    dm_channel: str | None = None
    channel: str | None = None
    replay_text: str | None = None


def note(text: str) -> Card:
    return Card(parts=(paragraph(text),), summary=text)


class ReplyRouter:
    def __init__(self, client: AsyncWebClient, people: SlackPeople) -> None:
        self.client = client
        self.people = people

    async def show(self, reply: Reply, where: Where) -> None:
        cards: list[Card] = []
        for message in reply.messages:
            if isinstance(message, Form):
                try:
                    if await self._open_modal(message, where):
                        continue
                except ValueError as exc:
                    log.warning("form %s cannot be a Slack modal: %s", message.action, exc)
                    cards.append(note(FORM_TOO_LONG))
                    continue
                cards.append(form_as_card(message, where.replay_text))
            else:
                cards.append(message)
        if not cards:
            return
        mention_ids = await self.people.mention_ids(cards)
        messages = [
            (card, blocks) for card in cards for blocks in render_card_messages(card, mention_ids=mention_ids)
        ]
        if where.respond is not None and len(messages) > RESPONSE_URL_USES - 1:
            # Keeping one use spare; Slack refuses the 6th answer, so the rest would be lost.
            try:
                dm = await self._in_dm(where)
            except (DeliveryError, SlackApiError) as exc:
                log.warning("a long reply cannot go to the DM: %s", exc)
                cut = note(
                    f"This answer is long ({len(messages)} messages) and only its start fits "
                    "here; open a direct message with statbot for the rest."
                )
                shown = messages[: RESPONSE_URL_USES - 2]
                messages = [*shown, *((cut, blocks) for blocks in render_card_messages(cut))]
            else:
                told = note(
                    f"This answer is long ({len(messages)} messages), "
                    "so I sent it to you in a direct message."
                )
                for blocks in render_card_messages(told):
                    await self._post(told, blocks, where, private=True)
                where = dm
        for card, blocks in messages:
            if not await self._post(card, blocks, where, private=reply.private):
                # response_url refused (used up, or older than 30 minutes): the DM takes the rest.
                log.info("response_url refused an answer; the rest of the reply goes to the DM")
                where = await self._in_dm(where)
                await self._post(card, blocks, where, private=reply.private)

    async def to_dm(self, person: Person, user_id: str, cards: list[Card]) -> None:
        await self.show(
            Reply(messages=tuple(cards)),
            Where(person, user_id, dm_channel=await self._dm_of(person, user_id)),
        )

    async def _in_dm(self, where: Where) -> Where:
        return Where(where.person, where.user_id, dm_channel=await self._dm_of(where.person, where.user_id))

    async def _open_modal(self, form: Form, where: Where) -> bool:
        if not where.trigger_id:
            return False
        trigger, where.trigger_id = where.trigger_id, None  # a trigger opens one modal
        try:
            await self.client.views_open(trigger_id=trigger, view=modal_view(form))
        except SlackApiError as exc:
            # expired_trigger_id after a slow turn: the form goes out as a card with a button.
            log.info("views.open failed (%s); sending the form as a card", exc.response.get("error"))
            return False
        return True

    async def _post(self, card: Card, blocks: list[dict[str, Any]], where: Where, *, private: bool) -> bool:
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
