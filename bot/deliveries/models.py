"""The outbox: messages the bot owes someone, stored first and sent after.

A delivery's audience and idempotency key are stored as text ("person:12",
"checkin:40:prompt"); ``Audience`` and ``DeliveryKey`` are the one place that writes and
reads those forms, so no caller splits strings on ":".
"""

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


class AudienceKind(StrEnum):
    PERSON = "person"  # a direct message; the id is the person's
    CHANNEL = "channel"  # a channel; the id is its name


@dataclass(frozen=True, slots=True)
class Audience:
    """Whom a delivery is for.  Stored as "<kind>:<id>": "person:12", "channel:citistat"."""

    kind: AudienceKind
    id: str

    @classmethod
    def person(cls, person_id: int) -> Audience:
        return cls(AudienceKind.PERSON, str(person_id))

    @classmethod
    def channel(cls, name: str) -> Audience:
        return cls(AudienceKind.CHANNEL, name)

    @classmethod
    def parse(cls, text: str) -> Audience | None:
        """The audience a stored string names; None when it names none the bot knows
        (an unknown kind, a person id that is not a number, a channel with no name)."""
        kind, _, rest = text.partition(":")
        if kind == AudienceKind.PERSON and rest.isascii() and rest.isdigit():
            return cls.person(int(rest))
        if kind == AudienceKind.CHANNEL and rest:
            return cls.channel(rest)
        return None

    @property
    def person_id(self) -> int | None:
        return int(self.id) if self.kind is AudienceKind.PERSON else None

    @property
    def channel_name(self) -> str | None:
        return self.id if self.kind is AudienceKind.CHANNEL else None

    def __str__(self) -> str:
        return f"{self.kind}:{self.id}"


class KeyKind(StrEnum):
    """What a delivery is about: the first part of its idempotency key."""

    CHECKIN = "checkin"
    ESCALATION = "escalation"
    FOLLOWUP = "followup"
    DIGEST = "digest"


_KEY_KINDS = frozenset(k.value for k in KeyKind)


@dataclass(frozen=True, slots=True)
class DeliveryKey:
    """What makes a delivery unique, stored as its idempotency key "<kind>:<ref>:<detail>".

    ``ref`` is the check-in's, escalation's or follow-up's id, or the digest's week;
    ``detail`` says which message about it: "prompt", "reminder:<n>", "step:<n>",
    "asked", "answered", or for a digest "<audience>:<part>" (plus a resend tag)."""

    kind: KeyKind
    ref: str
    detail: str

    @classmethod
    def checkin_prompt(cls, checkin_id: int) -> DeliveryKey:
        return cls(KeyKind.CHECKIN, str(checkin_id), "prompt")

    @classmethod
    def checkin_reminder(cls, checkin_id: int, number: int) -> DeliveryKey:
        return cls(KeyKind.CHECKIN, str(checkin_id), f"reminder:{number}")

    @classmethod
    def escalation_step(cls, escalation_id: int, step: int) -> DeliveryKey:
        return cls(KeyKind.ESCALATION, str(escalation_id), f"step:{step}")

    @classmethod
    def followup_asked(cls, commitment_id: int) -> DeliveryKey:
        return cls(KeyKind.FOLLOWUP, str(commitment_id), "asked")

    @classmethod
    def followup_answered(cls, commitment_id: int) -> DeliveryKey:
        return cls(KeyKind.FOLLOWUP, str(commitment_id), "answered")

    @classmethod
    def digest(cls, week: str, audience: Audience | str, part: int, tag: str = "") -> DeliveryKey:
        return cls(KeyKind.DIGEST, week, f"{audience}:{part}{tag}")

    @classmethod
    def parse(cls, text: str) -> DeliveryKey | None:
        """The key a stored string holds; None for one the bot does not write."""
        kind, _, rest = text.partition(":")
        ref, _, detail = rest.partition(":")
        if kind not in _KEY_KINDS or not ref or not detail:
            return None
        return cls(KeyKind(kind), ref, detail)

    @property
    def id(self) -> int | None:
        """The check-in's, escalation's or follow-up's id (None for a digest)."""
        if self.kind is KeyKind.DIGEST or not (self.ref.isascii() and self.ref.isdigit()):
            return None
        return int(self.ref)

    @property
    def week(self) -> str | None:
        return self.ref if self.kind is KeyKind.DIGEST else None

    @property
    def audience(self) -> Audience | None:
        """A digest part's audience (None for other keys)."""
        if self.kind is not KeyKind.DIGEST:
            return None
        kind, _, rest = self.detail.partition(":")
        return Audience.parse(f"{kind}:{rest.partition(':')[0]}")

    def __str__(self) -> str:
        return f"{self.kind}:{self.ref}:{self.detail}"


@dataclass(slots=True)
class Delivery:
    # Audience in its stored form; Audience.parse reads it.
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
        return str(Audience.person(person_id))

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

    @property
    def to(self) -> Audience | None:
        """The audience, read; None when it names none the bot knows."""
        return Audience.parse(self.audience)

    @property
    def key(self) -> DeliveryKey | None:
        """The idempotency key, read; None for one the bot does not write."""
        return DeliveryKey.parse(self.idempotency_key)
