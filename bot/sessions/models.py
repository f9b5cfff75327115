"""A stat session as stored."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum


class SessionState(StrEnum):
    """Where a session stands; the values are what the database stores."""

    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"
    CLOSED = "closed"  # held and ended by its chair


@dataclass(slots=True)
class StatSession:
    unit_id: int
    starts_at: dt.datetime
    minutes: int
    # Who chairs it now, and who the schedule named: they differ after a delegation.
    chair_id: int
    scheduled_chair_id: int
    state: SessionState
    created_at: dt.datetime
    updated_at: dt.datetime
    # The org file's series it was planned from; None for one scheduled by hand.
    series: str | None = None
    attendees: list[int] = field(default_factory=list)
    created_by: int | None = None
    cancelled_by: int | None = None
    cancel_reason: str | None = None
    closed_at: dt.datetime | None = None
    closed_by: int | None = None
    id: int | None = None

    @property
    def delegated(self) -> bool:
        return self.chair_id != self.scheduled_chair_id

    @property
    def withdrawn(self) -> bool:
        """Taken off the plan by the org file (or a day off), not cancelled by anyone: it
        is nobody's cancellation, and the ledger and cadence health leave it out."""
        return self.state == SessionState.CANCELLED and self.cancelled_by is None


class ItemKind(StrEnum):
    """What the chair or an analyst captures during a session."""

    PROMISE = "promise"  # becomes a commitment with origin session:<id>
    DECISION = "decision"
    REQUEST = "request"  # data asked of the unit, answered by attaching it or a link
    NOTE = "note"


@dataclass(slots=True)
class SessionItem:
    session_id: int
    kind: ItemKind
    text: str
    created_by: int
    created_at: dt.datetime
    # A promise's or a request's owner and date; a promise's commitment.
    owner_id: int | None = None
    due_on: dt.date | None = None
    commitment_id: int | None = None
    # A request's answer (the data, or a link to it).
    answer: str | None = None
    answered_by: int | None = None
    answered_at: dt.datetime | None = None
    # The repeated exception a decision answers (its key in the briefs).
    subject: str | None = None
    id: int | None = None


class DocumentKind(StrEnum):
    BRIEF = "brief"  # before the session, to the chair and attendees
    MEMO = "memo"  # after it, to the unit, once the chair approved it


class DocumentState(StrEnum):
    DRAFT = "draft"
    SENT = "sent"


@dataclass(slots=True)
class SessionDocument:
    """A session's brief or memo: drafted by the bot, edited, then sent and kept."""

    session_id: int
    kind: DocumentKind
    state: DocumentState
    # The document as Markdown (what is sent, attached and kept).
    body: str
    created_at: dt.datetime
    updated_at: dt.datetime
    # Items an analyst added or dropped before it went out, by kind.
    edits: dict[str, list[str]] = field(default_factory=dict)
    sent_at: dt.datetime | None = None
    approved_by: int | None = None
    # When a memo not approved in time became an escalation to the chair.
    escalated_at: dt.datetime | None = None
    # Bumped by every change: each change is written only if the document still has the
    # version it was read at, so of two changes at once exactly one is made.
    version: int = 0
    id: int | None = None
