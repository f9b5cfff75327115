"""The App Home tab: what this person owes and what is coming, in one glance.

The card comes from the core (bot/people/handlers.py); this module turns it into a home view.
"""

from __future__ import annotations

import logging
from typing import Any

from adapters.slack.render import MODAL_BLOCKS, render_card
from bot.messages import Card, Heading, paragraph
from bot.people.handlers import home_card

log = logging.getLogger(__name__)

__all__ = ["home_card", "home_view", "stranger_view"]


def home_view(card: Card, *, mention_ids: dict[str, str] | None = None) -> dict[str, Any]:
    """A ``home`` view (views.publish): at most 100 blocks, the rest cut with a note."""
    blocks = render_card(card, mention_ids=mention_ids)
    if len(blocks) > MODAL_BLOCKS:
        more = {"type": "context", "elements": [{"type": "plain_text", "text": "More in `/stat` commands."}]}
        blocks = [*blocks[: MODAL_BLOCKS - 1], more]
    return {"type": "home", "blocks": blocks}


def stranger_view() -> dict[str, Any]:
    card = Card(
        parts=(
            Heading(text="statbot"),
            paragraph("I don't know you yet: ask an admin to add your e-mail to the org file."),
        ),
        summary="statbot",
    )
    return home_view(card)
