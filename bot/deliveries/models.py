"""The outbox: messages the bot owes someone, stored first and sent after."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class DeliveryState(StrEnum):
    """Where a delivery stands in the outbox; the values are what the database stores."""

    PENDING = "pending"
    SENDING = "sending"  # claimed by a sender until its lease runs out
    SENT = "sent"
    FAILED = "failed"


@dataclass(slots=True)
class Delivery:
    # "person:<id>" for a direct message, "channel:<name>" for a channel.
    audience: str
    payload: dict[str, Any]
    idempotency_key: str
    state: DeliveryState
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
    def to_channel(name: str) -> str:
        return f"channel:{name}"
