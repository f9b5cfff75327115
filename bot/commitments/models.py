"""Commitments (including leaders' follow-ups) and their update history."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal


class CommitmentStatus(StrEnum):
    """A commitment's (or follow-up's) status; the values are what the database stores."""

    OPEN = "open"
    DONE = "done"
    DROPPED = "dropped"


CommitmentOrigin = Literal["checkin", "command", "followup"]
# A commitment promised in the answer to a follow-up: its origin names the follow-up
# ("answer:12"), so the digest can tell whether the answer's promise was kept.
ANSWER_ORIGIN = "answer:"


def answer_origin(followup_id: int) -> str:
    return f"{ANSWER_ORIGIN}{followup_id}"


# A promise made at a stat session: its origin names the session ("session:4").
SESSION_ORIGIN = "session:"


def session_origin(session_id: int) -> str:
    return f"{SESSION_ORIGIN}{session_id}"


def answered_followup(origin: str) -> int | None:
    """The follow-up a commitment was promised in, if it was."""
    if origin.startswith(ANSWER_ORIGIN) and origin[len(ANSWER_ORIGIN) :].isdigit():
        return int(origin[len(ANSWER_ORIGIN) :])
    return None


@dataclass(slots=True)
class Commitment:
    unit_id: int
    owner_id: int
    text: str
    due_on: dt.date
    status: CommitmentStatus
    origin: str
    created_at: dt.datetime
    updated_at: dt.datetime
    created_by: int | None = None
    metric_id: int | None = None
    closed_at: dt.datetime | None = None
    # Follow-ups: the leader who asked, and the answer when it came.
    asked_by: int | None = None
    answer: str | None = None
    id: int | None = None


@dataclass(slots=True)
class CommitmentUpdate:
    commitment_id: int
    at: dt.datetime
    by: int | None
    status: CommitmentStatus
    due_on: dt.date
    note: str = ""
    id: int | None = None
