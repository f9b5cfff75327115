"""The outbox: messages the bot owes someone, stored first and sent after."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal

DeliveryState = Literal["pending", "sending", "sent", "failed"]


@dataclass(slots=True)
class Delivery:
    # "person:<id>" for a direct message, "channel:<name>" for a channel.
    audience: str
    payload: dict[str, Any]
    idempotency_key: str
    state: str
    created_at: dt.datetime
    next_attempt_at: dt.datetime
    attempts: int = 0
    lease_until: dt.datetime | None = None
    sent_at: dt.datetime | None = None
    last_error: str | None = None
    # The platform's id of the sent message (e.g. Slack ts), for later updates.
    platform_ref: str | None = None
    id: int | None = None

    @staticmethod
    def to_person(person_id: int) -> str:
        return f"person:{person_id}"

    @staticmethod
    def to_channel(name: str, platform: str = "slack") -> str:
        # Slack's channels keep the form they had before several platforms were
        # supported ("channel:citistat"), so deliveries already stored still go there.
        return f"channel:{name}" if platform == "slack" else f"channel:{platform}:{name}"

    @staticmethod
    def channel_of(audience: str) -> tuple[str, str] | None:
        """(platform, channel name) of a channel audience; None for anything else."""
        kind, _, rest = audience.partition(":")
        if kind != "channel" or not rest:
            return None
        platform, sep, name = rest.partition(":")
        if sep and platform in ("teams",):
            return platform, name
        return "slack", rest
