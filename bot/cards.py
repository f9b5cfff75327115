"""Words of the turn itself, shared by every domain: what a person is told when the turn
could not happen at all."""

from __future__ import annotations

from bot.messages import Reply

DATABASE_UNAVAILABLE = (
    "statbot cannot reach its database right now; nothing was changed, try again in a minute."
)


def database_unavailable() -> Reply:
    return Reply.text(DATABASE_UNAVAILABLE)


def is_database_unavailable(reply: Reply) -> bool:
    """The turn could not reach the database (adapters answer it where the turn began)."""
    return reply == database_unavailable()
