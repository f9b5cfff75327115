"""Words of the turn itself, shared by every domain: what a person is told when the turn
could not happen at all."""

from __future__ import annotations

from bot.messages import Reply

DATABASE_UNAVAILABLE = (
    "statbot cannot reach its database right now; nothing was changed, try again in a minute."
)


# Typed text, or a form field, that held only characters statbot cannot store (NUL, which
# the adapters strip): what is left means something else than what was sent.
UNREADABLE = (
    "I could not read that: it held only characters I cannot store. Nothing was done; please type it again."
)
UNREADABLE_FIELD = "This held only characters statbot cannot store; please type it again."


def database_unavailable() -> Reply:
    return Reply.text(DATABASE_UNAVAILABLE)


def is_database_unavailable(reply: Reply) -> bool:
    """The turn could not reach the database (adapters answer it where the turn began)."""
    return reply == database_unavailable()
