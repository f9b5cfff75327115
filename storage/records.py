"""The database tables, as SQLAlchemy 2 typed ORM records.

Records mirror the core's dataclasses field by field (same names), which lets one
generic mapper in storage/repositories/base.py translate both ways.  Every schema change here needs
an Alembic revision: the test suite checks that autogenerate finds no difference.
Autogenerate does not compare CHECK constraints, so a new one is added to its revision by
hand (as 0004 did for the state columns), with the name the naming convention gives it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    Time,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from bot.checkins.models import CheckInState
from bot.commitments.models import CommitmentStatus
from bot.deliveries.models import DeliveryState
from bot.escalations.models import EscalationState
from bot.sessions.models import DocumentKind, DocumentState, ItemKind, SessionState
from storage.types import StrEnumType, UTCDateTime, one_of

# The rows the unique index on an answer's tracked promise covers.
ANSWER_ONCE = "origin LIKE 'answer:%'"

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dt.datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
        list[str]: JSON(),
        list[int]: JSON(),
    }


class OrgSettingsRecord(Base):
    __tablename__ = "org_settings"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64))
    holiday_country: Mapped[str | None] = mapped_column(String(8))
    holiday_subdivision: Mapped[str | None] = mapped_column(String(16))
    options: Mapped[dict[str, Any]]


class PolicyRecord(Base):
    __tablename__ = "escalation_policies"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    definition: Mapped[dict[str, Any]]


class PersonRecord(Base):
    __tablename__ = "people"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64))
    roles: Mapped[list[str]]
    slack_user_id: Mapped[str | None] = mapped_column(String(32), index=True)
    slack_dm_channel: Mapped[str | None] = mapped_column(String(32))
    teams_user_id: Mapped[str | None] = mapped_column(String(200), index=True)
    teams_conversation: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    unreachable: Mapped[str | None] = mapped_column(String(200))


class AwayPeriodRecord(Base):
    __tablename__ = "away_periods"
    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    starts_on: Mapped[dt.date] = mapped_column(Date)
    ends_on: Mapped[dt.date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text, default="")


class UnitRecord(Base):
    __tablename__ = "units"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64))
    head_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    deputy_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    leader_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    checkin_weekday: Mapped[int] = mapped_column(Integer)
    checkin_time: Mapped[dt.time] = mapped_column(Time)
    deadline_weekday: Mapped[int] = mapped_column(Integer)
    deadline_time: Mapped[dt.time] = mapped_column(Time)
    restricted: Mapped[bool] = mapped_column(Boolean, default=False)
    escalation_policy: Mapped[str | None] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime | None]


class MetricRecord(Base):
    __tablename__ = "metrics"
    __table_args__ = (UniqueConstraint("unit_id", "key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    key: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    measure: Mapped[str] = mapped_column(String(16))
    direction: Mapped[str] = mapped_column(String(8))
    target: Mapped[float] = mapped_column(Float)
    minimum: Mapped[float | None] = mapped_column(Float)
    maximum: Mapped[float | None] = mapped_column(Float)
    amber: Mapped[float] = mapped_column(Float, default=0.0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    position: Mapped[int] = mapped_column(Integer, default=0)


class MetricTargetRecord(Base):
    """Append-only: every target, amber band and direction a metric has had, each from the
    ISO week it applies to (see bot/org/targets.py)."""

    __tablename__ = "metric_targets"
    __table_args__ = (Index("ix_metric_targets_metric_id_valid_from", "metric_id", "valid_from"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    metric_id: Mapped[int] = mapped_column(ForeignKey("metrics.id"))
    target: Mapped[float] = mapped_column(Float)
    amber: Mapped[float] = mapped_column(Float)
    direction: Mapped[str] = mapped_column(String(8))
    valid_from: Mapped[str] = mapped_column(String(8))
    recorded_at: Mapped[dt.datetime]


class CheckInRecord(Base):
    __tablename__ = "checkins"
    __table_args__ = (
        UniqueConstraint("unit_id", "week"),
        Index("ix_checkins_state_next_reminder", "state", "next_reminder_at"),
        CheckConstraint(one_of("state", CheckInState), name="state"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    week: Mapped[str] = mapped_column(String(8), index=True)
    state: Mapped[CheckInState] = mapped_column(StrEnumType(CheckInState, 16))
    opened_at: Mapped[dt.datetime]
    deadline_at: Mapped[dt.datetime]
    respondent_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    reminders_sent: Mapped[int] = mapped_column(Integer, default=0)
    next_reminder_at: Mapped[dt.datetime | None]
    last_reminded_at: Mapped[dt.datetime | None]
    submitted_at: Mapped[dt.datetime | None]
    submitted_by: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    excuse: Mapped[str | None] = mapped_column(Text)
    draft: Mapped[dict[str, Any]]
    # Bumped by every submission and correction, so two at once cannot both be written
    # (the repository's conditional update compares it; the core never sees it).
    version: Mapped[int] = mapped_column(Integer, server_default="0")
    # An inserted row reads its version back at once (an async session cannot load it later).
    __mapper_args__ = {"eager_defaults": True}  # noqa: RUF012


class ReadingRecord(Base):
    __tablename__ = "readings"
    __table_args__ = (
        UniqueConstraint("metric_id", "week"),
        Index("ix_readings_unit_week", "unit_id", "week"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    metric_id: Mapped[int] = mapped_column(ForeignKey("metrics.id"))
    week: Mapped[str] = mapped_column(String(8))
    value: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[dt.datetime]
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    note: Mapped[str] = mapped_column(Text, default="")
    confirmed_outlier: Mapped[bool] = mapped_column(Boolean, default=False)


class ReadingRevisionRecord(Base):
    """Append-only: every value a reading ever had."""

    __tablename__ = "reading_revisions"
    id: Mapped[int] = mapped_column(primary_key=True)
    reading_id: Mapped[int] = mapped_column(ForeignKey("readings.id"), index=True)
    value: Mapped[float] = mapped_column(Float)
    previous_value: Mapped[float | None] = mapped_column(Float)
    changed_at: Mapped[dt.datetime]
    changed_by: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    note: Mapped[str] = mapped_column(Text, default="")


class CommitmentRecord(Base):
    __tablename__ = "commitments"
    __table_args__ = (
        Index("ix_commitments_status_due", "status", "due_on"),
        CheckConstraint(one_of("status", CommitmentStatus), name="status"),
        # An answer's promise is tracked once, however many people click "Track this".
        Index(
            "uq_commitments_answer_origin",
            "origin",
            unique=True,
            sqlite_where=text(ANSWER_ONCE),
            postgresql_where=text(ANSWER_ONCE),
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    due_on: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[CommitmentStatus] = mapped_column(StrEnumType(CommitmentStatus, 16))
    origin: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]
    created_by: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    metric_id: Mapped[int | None] = mapped_column(ForeignKey("metrics.id"))
    closed_at: Mapped[dt.datetime | None]
    asked_by: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    answer: Mapped[str | None] = mapped_column(Text)


class CommitmentUpdateRecord(Base):
    """Append-only: every change of a commitment."""

    __tablename__ = "commitment_updates"
    __table_args__ = (CheckConstraint(one_of("status", CommitmentStatus), name="status"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    commitment_id: Mapped[int] = mapped_column(ForeignKey("commitments.id"), index=True)
    at: Mapped[dt.datetime]
    by: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    status: Mapped[CommitmentStatus] = mapped_column(StrEnumType(CommitmentStatus, 16))
    due_on: Mapped[dt.date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text, default="")


class EscalationRecord(Base):
    __tablename__ = "escalations"
    __table_args__ = (
        UniqueConstraint("kind", "subject_id", "episode"),
        Index("ix_escalations_state_next_step", "state", "next_step_at"),
        CheckConstraint(one_of("state", EscalationState), name="state"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[int] = mapped_column(Integer)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    episode: Mapped[str] = mapped_column(String(64))
    policy: Mapped[dict[str, Any]]
    state: Mapped[EscalationState] = mapped_column(StrEnumType(EscalationState, 16))
    step: Mapped[int] = mapped_column(Integer)
    next_step_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]
    snoozed_until: Mapped[dt.datetime | None]
    acted_by: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    notified: Mapped[list[int]]


class DeliveryRecord(Base):
    """The outbox."""

    __tablename__ = "deliveries"
    __table_args__ = (
        Index("ix_deliveries_state_next_attempt", "state", "next_attempt_at"),
        CheckConstraint(one_of("state", DeliveryState), name="state"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    audience: Mapped[str] = mapped_column(String(100), index=True)
    payload: Mapped[dict[str, Any]]
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    state: Mapped[DeliveryState] = mapped_column(StrEnumType(DeliveryState, 16))
    created_at: Mapped[dt.datetime]
    next_attempt_at: Mapped[dt.datetime]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_until: Mapped[dt.datetime | None]
    sent_at: Mapped[dt.datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    platform_ref: Mapped[str | None] = mapped_column(String(200))


class DigestRecordRow(Base):
    __tablename__ = "digests"
    __table_args__ = (UniqueConstraint("audience", "week"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    audience: Mapped[str] = mapped_column(String(100))
    week: Mapped[str] = mapped_column(String(8))
    built_at: Mapped[dt.datetime]
    content: Mapped[dict[str, Any]]
    posted_at: Mapped[dt.datetime | None]


class ProcessedEventRecord(Base):
    """Inbound platform event ids already handled, so a retry is processed once."""

    __tablename__ = "processed_events"
    __table_args__ = (UniqueConstraint("source", "event_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(16))
    event_id: Mapped[str] = mapped_column(String(200))
    seen_at: Mapped[dt.datetime] = mapped_column(index=True)


class AuditRecord(Base):
    """Append-only."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    action: Mapped[str] = mapped_column(String(64))
    # Indexed: who acted on a subject last is looked up whenever a race is lost.
    subject: Mapped[str] = mapped_column(String(200), index=True)
    detail: Mapped[dict[str, Any]]


class ChartRecord(Base):
    """Digest chart images as PNG bytes, so every replica can upload or serve them (a
    delivery's payload is JSON and cannot hold them)."""

    __tablename__ = "charts"
    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(100), unique=True)
    png: Mapped[bytes] = mapped_column(LargeBinary)
    alt_text: Mapped[str] = mapped_column(Text)
    title: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[dt.datetime]


class ConsoleClockRecord(Base):
    """The console chat's moved clock (`statbot chat`), one row per database, so a second
    session continues where the first stopped."""

    __tablename__ = "console_clock"
    id: Mapped[int] = mapped_column(primary_key=True)
    now: Mapped[dt.datetime]


class SessionRecord(Base):
    """A stat session: planned from a series of the org file, or scheduled by hand."""

    __tablename__ = "stat_sessions"
    __table_args__ = (
        # One meeting per unit and moment: planning twice, or in two replicas, adds one.
        UniqueConstraint("unit_id", "starts_at"),
        Index("ix_stat_sessions_starts_at", "starts_at"),
        CheckConstraint(one_of("state", SessionState), name="state"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    starts_at: Mapped[dt.datetime]
    minutes: Mapped[int] = mapped_column(Integer)
    chair_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    scheduled_chair_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    state: Mapped[SessionState] = mapped_column(StrEnumType(SessionState, 16))
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]
    series: Mapped[str | None] = mapped_column(String(40))
    attendees: Mapped[list[int]]
    created_by: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    cancelled_by: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    closed_at: Mapped[dt.datetime | None]
    closed_by: Mapped[int | None] = mapped_column(ForeignKey("people.id"))


class SessionItemRecord(Base):
    """What was captured during a session: promises, decisions, requests, notes."""

    __tablename__ = "session_items"
    __table_args__ = (
        CheckConstraint(one_of("kind", ItemKind), name="kind"),
        # One decision per repeated exception and session (two clicks record one).
        UniqueConstraint("session_id", "subject"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("stat_sessions.id"), index=True)
    kind: Mapped[ItemKind] = mapped_column(StrEnumType(ItemKind, 16))
    text: Mapped[str] = mapped_column(Text)
    created_by: Mapped[int] = mapped_column(ForeignKey("people.id"))
    created_at: Mapped[dt.datetime]
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    due_on: Mapped[dt.date | None] = mapped_column(Date)
    commitment_id: Mapped[int | None] = mapped_column(ForeignKey("commitments.id"))
    answer: Mapped[str | None] = mapped_column(Text)
    answered_by: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    answered_at: Mapped[dt.datetime | None]
    subject: Mapped[str | None] = mapped_column(String(80))


class SessionDocumentRecord(Base):
    """A session's brief and memo: one of each, drafted, then sent and kept."""

    __tablename__ = "session_documents"
    __table_args__ = (
        UniqueConstraint("session_id", "kind"),
        CheckConstraint(one_of("kind", DocumentKind), name="kind"),
        CheckConstraint(one_of("state", DocumentState), name="state"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("stat_sessions.id"))
    kind: Mapped[DocumentKind] = mapped_column(StrEnumType(DocumentKind, 16))
    state: Mapped[DocumentState] = mapped_column(StrEnumType(DocumentState, 16))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]
    edits: Mapped[dict[str, Any]]
    sent_at: Mapped[dt.datetime | None]
    approved_by: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    escalated_at: Mapped[dt.datetime | None]
    # Every change is conditional on the version read and bumps it (bot/sessions).
    version: Mapped[int] = mapped_column(Integer, server_default="0")
