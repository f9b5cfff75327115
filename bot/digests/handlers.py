"""`digest [week]` in chat: the digest a leader may see, as cards."""

from __future__ import annotations

import datetime as dt

from bot.digests.cards import digest_cards
from bot.digests.models import AUDIENCE, Digest, without_units
from bot.digests.service import build_for_week, last_week
from bot.messages import Reply
from bot.messages.model import Image
from bot.org.context import load_context
from bot.org.models import Person
from bot.permissions import NotAllowed, can_read
from bot.ports import UnitOfWork


async def digest_for(uow: UnitOfWork, person: Person, week: str | None, now: dt.datetime) -> Reply:
    if not (person.is_leader or "analyst" in person.roles):
        raise NotAllowed("The digest is for leaders and analysts; `status` shows your unit.")
    context = await load_context(uow)
    target = week or last_week(context, now)
    record = await uow.digests.get(AUDIENCE, target)
    images: list[Image] = []
    posted = record.posted if record is not None else None
    digest: Digest
    if posted is not None and posted.digest is not None:
        # As posted on Monday, so everyone discusses the same numbers.
        digest = posted.digest
        for ref in posted.charts:
            if ref.endswith("-all"):
                chart = await uow.digest_source.chart(ref)
                if chart is not None:
                    images.append(Image(ref=ref, alt_text=chart.alt_text, title=chart.title))
    else:
        digest, cards = await build_for_week(uow, target, now)
        images = [p for card in cards for p in card.parts if isinstance(p, Image)]
    hidden = [u.key for u in await uow.units.all() if u.restricted and not can_read(person, u)]
    if hidden:
        digest, images = without_units(digest, hidden), []
    return Reply(messages=tuple(digest_cards(digest, chart_refs=images)))
