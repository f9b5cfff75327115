"""The ports the core needs from the outside world.

storage/ implements the repositories and the unit of work; adapters/ implement the chat
gateway.  The core only ever sees these protocols, so it never learns about SQL or a
platform SDK.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from types import TracebackType
from typing import Protocol, Self, TypeVar

from bot.audit import AuditEntry
from bot.checkins.models import CheckIn, Reading, ReadingRevision
from bot.clock import Clock
from bot.commitments.models import Commitment, CommitmentUpdate
from bot.deliveries.models import Delivery
from bot.digests.models import DigestRecord
from bot.digests.ports import DigestSource
from bot.escalations.models import Escalation
from bot.org.models import AwayPeriod, Metric, OrgSettings, Person, StoredPolicy, Unit

__all__ = ["Clock"]

T = TypeVar("T")


class Repository(Protocol[T]):
    async def get(self, id: int) -> T | None: ...

    async def add(self, item: T) -> T:
        """Insert and return the item with its id set."""
        ...

    async def save(self, item: T) -> None:
        """Write the item's current fields back."""
        ...


class PersonRepository(Repository[Person], Protocol):
    async def all(self, *, active_only: bool = True) -> Sequence[Person]: ...
    async def by_email(self, email: str) -> Person | None: ...
    async def by_slack_id(self, slack_user_id: str) -> Person | None: ...
    async def by_teams_id(self, teams_user_id: str) -> Person | None: ...


class AwayRepository(Repository[AwayPeriod], Protocol):
    async def for_person(self, person_id: int) -> Sequence[AwayPeriod]: ...
    async def away_on(self, day: dt.date) -> Sequence[AwayPeriod]: ...


class UnitRepository(Repository[Unit], Protocol):
    async def all(self, *, active_only: bool = True) -> Sequence[Unit]: ...
    async def by_key(self, key: str) -> Unit | None: ...


class MetricRepository(Repository[Metric], Protocol):
    async def for_unit(self, unit_id: int, *, active_only: bool = True) -> Sequence[Metric]: ...
    async def all(self, *, active_only: bool = True) -> Sequence[Metric]: ...


class OrgRepository(Protocol):
    async def settings(self) -> OrgSettings | None: ...
    async def save_settings(self, settings: OrgSettings) -> None: ...
    async def policies(self) -> Sequence[StoredPolicy]: ...
    async def save_policy(self, policy: StoredPolicy) -> None: ...
    async def delete_policy(self, name: str) -> None: ...


class CheckInRepository(Repository[CheckIn], Protocol):
    async def for_unit_week(self, unit_id: int, week: str) -> CheckIn | None: ...
    async def open_if_absent(self, checkin: CheckIn) -> CheckIn | None:
        """Insert unless the unit already has a check-in for that week (then None)."""
        ...

    async def for_week(self, week: str) -> Sequence[CheckIn]: ...
    async def for_unit(self, unit_id: int, *, limit: int = 12) -> Sequence[CheckIn]:
        """The unit's latest check-ins, newest first."""
        ...

    async def due_reminders(self, now: dt.datetime) -> Sequence[CheckIn]: ...
    async def claim_reminder(
        self,
        checkin_id: int,
        reminders_sent: int,
        next_reminder_at: dt.datetime | None,
        now: dt.datetime,
    ) -> bool:
        """Move an open check-in from ``reminders_sent`` to the next reminder.  Returns
        False when another sweep already did (the conditional update found no row)."""
        ...

    async def past_deadline(self, now: dt.datetime) -> Sequence[CheckIn]:
        """Open check-ins whose deadline has passed."""
        ...
    async def open_for_person(self, person_id: int) -> Sequence[CheckIn]:
        """Open check-ins whose respondent, head or deputy is this person."""
        ...


class ReadingRepository(Protocol):
    async def for_unit_week(self, unit_id: int, week: str) -> Sequence[Reading]: ...
    async def history(self, metric_ids: Sequence[int], weeks: Sequence[str]) -> Sequence[Reading]: ...
    async def add(self, reading: Reading) -> Reading: ...
    async def save(self, reading: Reading) -> None: ...
    async def add_revision(self, revision: ReadingRevision) -> None: ...
    async def revisions(self, reading_id: int) -> Sequence[ReadingRevision]: ...


class CommitmentRepository(Repository[Commitment], Protocol):
    async def open_for_unit(self, unit_id: int) -> Sequence[Commitment]: ...
    async def open_for_owner(self, owner_id: int) -> Sequence[Commitment]: ...
    async def all_open(self) -> Sequence[Commitment]: ...
    async def overdue(self, today: dt.date) -> Sequence[Commitment]: ...
    async def add_update(self, update: CommitmentUpdate) -> None: ...
    async def updates(self, commitment_id: int) -> Sequence[CommitmentUpdate]: ...


class EscalationRepository(Repository[Escalation], Protocol):
    async def start_if_absent(self, escalation: Escalation) -> Escalation | None: ...
    async def for_subject(self, kind: str, subject_id: int) -> Sequence[Escalation]: ...
    async def due(self, now: dt.datetime) -> Sequence[Escalation]: ...
    async def claim_step(self, escalation_id: int, step: int, now: dt.datetime) -> bool: ...
    async def active(self) -> Sequence[Escalation]: ...
    async def known(self, subject_ids: Sequence[int]) -> set[tuple[str, int, str]]:
        """(kind, subject id, episode) of every chain ever started for these subjects."""
        ...


class DeliveryRepository(Protocol):
    async def enqueue(self, delivery: Delivery) -> bool:
        """Store a delivery unless one with the same idempotency key exists."""
        ...

    async def claim_due(self, now: dt.datetime, *, limit: int, lease: dt.timedelta) -> Sequence[Delivery]:
        """Lease due deliveries to this sender; a crashed sender's lease expires."""
        ...

    async def save(self, delivery: Delivery) -> None: ...
    async def for_audience(self, audience: str, *, since_id: int = 0) -> Sequence[Delivery]: ...
    async def since(self, since_id: int, *, limit: int = 1000) -> Sequence[Delivery]:
        """Every delivery written after ``since_id``, oldest first."""
        ...
    async def pending_count(self) -> int: ...


class DigestRepository(Protocol):
    async def get(self, audience: str, week: str) -> DigestRecord | None: ...
    async def add_if_absent(self, digest: DigestRecord) -> bool: ...
    async def save(self, digest: DigestRecord) -> None: ...
    async def latest(self, audience: str) -> DigestRecord | None: ...


class EventRepository(Protocol):
    async def first_time(self, source: str, event_id: str, now: dt.datetime) -> bool:
        """Record an inbound event id; False when it was seen before (a platform retry)."""
        ...


class AuditRepository(Protocol):
    async def record(self, entry: AuditEntry) -> None: ...
    async def recent(self, *, limit: int = 50) -> Sequence[AuditEntry]: ...


class UnitOfWork(Protocol):
    """One transaction over every repository.  Leaving the block without commit() rolls
    back, so a failed turn leaves nothing half-written."""

    people: PersonRepository
    away: AwayRepository
    units: UnitRepository
    metrics: MetricRepository
    org: OrgRepository
    checkins: CheckInRepository
    readings: ReadingRepository
    commitments: CommitmentRepository
    escalations: EscalationRepository
    deliveries: DeliveryRepository
    digests: DigestRepository
    digest_source: DigestSource
    events: EventRepository
    audit: AuditRepository

    async def commit(self) -> None: ...
    async def rollback(self) -> None: ...
    async def __aenter__(self) -> Self: ...
    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


class UnitOfWorkFactory(Protocol):
    def __call__(self) -> UnitOfWork: ...


class ChatGateway(Protocol):
    """Sends one stored delivery on a platform.  Raises DeliveryError when it failed."""

    async def send(self, delivery: Delivery) -> str | None:
        """Send and return the platform's message reference, if any."""
        ...


class DeliveryError(Exception):
    """A send failed.  ``retry_after`` (seconds) when the platform said when to retry;
    ``permanent`` when retrying cannot help (unknown person, bad payload)."""

    def __init__(self, message: str, *, retry_after: float | None = None, permanent: bool = False) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.permanent = permanent
